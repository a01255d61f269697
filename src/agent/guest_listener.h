#pragma once
// GuestListener: what a listening session (hvterm forward -R) holds instead of a program: a TCP
// socket (or Unix socket, or Windows named pipe) the agent listens on inside the guest. Each
// connection it accepts goes to `accepted`, which makes a connection session of it. Its "exit" is
// the end of listening: a signal (the client stopping the forward) or a failure to listen at all.
#include <uv.h>

#include <functional>
#include <string>

#include "common/timer.h"
#include "platform/process.h"
#include "protocol/wire.h"

namespace hvterm {

class GuestListener final : public platform::Child {
 public:
  // `accepted` gets each connection's heap stream (now its own) and its peer, for messages;
  // `ended` runs once. A failure to listen ends it on the next turn of the loop.
  using Accepted = std::function<void(uv_stream_t* connection, const std::string& peer)>;
  GuestListener(uv_loop_t* loop, const wire::Destination& where, Accepted accepted,
                std::function<void(const wire::Exit&)> ended);
  ~GuestListener() override;

  const std::string& address() const { return name_; }
  bool listening() const { return listener_ != nullptr && !ended_; }

  uv_stream_t* input() override { return nullptr; }  // nothing goes into a listener
  uv_stream_t* output() override { return nullptr; }
  uv_stream_t* error_output() override { return nullptr; }
  void close_input() override {}
  uint32_t pid() const override { return 0; }
  void resize(const platform::TerminalSize&) override {}
  int signal(int signal) override;  // stops listening; the session ends as a program killed by it would
  void hang_up() override;
  bool exited() const override { return ended_; }
  void close(std::function<void()> on_closed) override;

 private:
  bool listen(std::string& error);
  void on_connection(int status);
  void finish(const wire::Exit& end);

  uv_loop_t* loop_;
  wire::Destination where_;
  std::string name_;  // "127.0.0.1:8080" or the path
  Accepted accepted_;
  std::function<void(const wire::Exit&)> on_ended_;
  uv_stream_t* listener_ = nullptr;  // a uv_tcp_t or uv_pipe_t of ours
  Timer fail_soon_;
  bool ended_ = false;
};

}  // namespace hvterm
