#pragma once
// CopyPump: the loop's side of a copy: it writes a Walker's stream into a stream handle, or reads
// one into an Extractor, with at most a bounded amount in flight. The agent's copy session and
// hvterm cp both run one on their end of an in-process stream pair whose other end is the
// session's. The file work is synchronous, a piece at a time between loop turns.
#include <uv.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/timer.h"
#include "copy/extractor.h"
#include "copy/walker.h"

namespace hvterm::copy {

class CopyPump {
 public:
  // `stream` is ours from now on; `done` runs once, when the walk is written and shut down, or the
  // stream to extract has ended (or broke: then `error` says so).
  CopyPump(uv_stream_t* stream, std::function<void(const std::string& error)> done);
  ~CopyPump();
  CopyPump(const CopyPump&) = delete;
  CopyPump& operator=(const CopyPump&) = delete;

  // A resuming walker or extractor (resume_partials(), Options::resume) also uses the other
  // direction of the stream: the receiver's answers come back on it.
  void send(Walker& walker);
  void receive(Extractor& extractor, bool answers = false);
  // Stop at once (the session was cancelled); `closed` runs once the handle is gone.
  void close(std::function<void()> closed);
  uint64_t bytes() const { return bytes_; }  // stream bytes written or read so far

 private:
  struct Write;
  void pump_out();
  void on_written(size_t bytes, int status);
  void on_read(ssize_t nread, const uv_buf_t* buf);
  void on_answers(ssize_t nread, const uv_buf_t* buf);
  void start_reading(void (*on_read)(uv_stream_t*, ssize_t, const uv_buf_t*));
  void write_answer(std::string bytes);
  void end_answers();
  void keep_hashing();
  void finish(const std::string& error);

  uv_stream_t* stream_;
  std::function<void(const std::string&)> done_;
  Walker* walker_ = nullptr;
  Extractor* extractor_ = nullptr;
  size_t in_flight_ = 0;
  bool walk_over_ = false, finished_ = false, pumping_ = false, answering_ = false;
  PartialDecoder answers_;
  Timer next_turn_;  // work that must not hold the loop (checksums of partial files) goes on from here
  uint64_t bytes_ = 0;
  uv_shutdown_t shutdown_{};
  std::string read_buffer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace hvterm::copy
