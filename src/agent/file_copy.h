#pragma once
// FileCopy: what a copy session (hvterm cp) holds instead of a program: the agent reads or writes
// the files itself (src/copy), with no tar or cat in the guest. To the session it is a child whose
// stdin (into the guest) or stdout (out of it) is the copy stream, and whose stderr is one line
// per file that could not be copied; it "exits" 0 when every file was copied, 1 otherwise. Both
// are one end of an in-process stream pair, so the copy rides the session's resumable streams
// like any program's output.
#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "common/timer.h"
#include "copy/pump.h"
#include "platform/process.h"
#include "protocol/wire.h"

namespace hvterm {

class FileCopy final : public platform::Child {
 public:
  FileCopy(uv_loop_t* loop, wire::CopySpec spec, std::function<void(const wire::Exit&)> ended);
  ~FileCopy() override;
  // Makes the streams and starts; false (with `error`) when the streams cannot be made.
  bool start(std::string& error);

  uv_stream_t* input() override { return ended_ ? nullptr : data_[0]; }
  uv_stream_t* output() override { return data_[0]; }
  uv_stream_t* error_output() override { return messages_[0]; }
  void close_input() override;
  uint32_t pid() const override { return 0; }
  void resize(const platform::TerminalSize&) override {}
  int signal(int signal) override;  // stops the copy: it ends as a program killed by the signal would
  void hang_up() override { stop(platform::sig::kHup, true); }
  bool exited() const override { return ended_; }
  void close(std::function<void()> on_closed) override;

 private:
  std::string resolve(const std::string& path) const;  // relative: from the agent user's home
  int stop(int signal, bool keep_partial);
  void say(const std::string& line);
  void copied(const std::string& error);
  void end(int code);

  uv_loop_t* loop_;
  wire::CopySpec spec_;
  std::function<void(const wire::Exit&)> on_ended_;
  uv_stream_t* data_[2] = {nullptr, nullptr};      // [0] the session's, [1] the pump's
  uv_stream_t* messages_[2] = {nullptr, nullptr};  // [0] the session's stderr, [1] ours to write
  std::unique_ptr<copy::Walker> walker_;
  std::unique_ptr<copy::Extractor> extractor_;
  std::unique_ptr<copy::CopyPump> pump_;
  bool failed_ = false, ended_ = false, input_closed_ = false;
  uv_shutdown_t input_shutdown_{}, messages_shutdown_{};
  Timer soon_;  // a copy refused at once still ends on a later turn, once the session holds us
};

}  // namespace hvterm
