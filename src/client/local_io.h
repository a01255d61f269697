#pragma once
// The client's own stdin, stdout and stderr as libuv objects, whatever they are: a terminal, a
// pipe, a socket or a regular file (libuv cannot poll files, so those go through uv_fs_*).
#include <uv.h>

#include <deque>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "common/buffer.h"
#include "transport/end_of_turn.h"

namespace hvterm {

// One connected socket that a LocalReader reads and a LocalWriter writes (a connection hvterm
// forward accepted): the handle closes when the last of them lets go of it.
using SharedStream = std::shared_ptr<uv_stream_t>;
SharedStream share_stream(uv_stream_t* stream);  // takes a heap handle (platform::close_stream frees it)

class LocalReader {
 public:
  using DataCallback = std::function<void(Slice bytes)>;
  using EndCallback = std::function<void(int error)>;  // 0 for EOF
  LocalReader(uv_loop_t* loop, int fd);
  LocalReader(uv_loop_t* loop, SharedStream stream);
  ~LocalReader();
  void start(DataCallback on_data, EndCallback on_end);
  void pause();
  void resume();
  void close();

 private:
  void on_read(ssize_t nread);
  void issue_file_read();
  uv_loop_t* loop_;
  int fd_;
  uv_handle_type kind_;
  uv_stream_t* stream_ = nullptr;
  SharedStream shared_;  // set when the stream is shared with a writer: not ours to close
  struct FileRead;
  FileRead* file_read_ = nullptr;
  ReadBlock block_;  // every read goes to its front: what a read gives is copied out or handed over
  bool active_ = false, ended_ = false, closed_ = false;
  bool widen_tried_ = false;
  DataCallback on_data_;
  EndCallback on_end_;
};

class LocalWriter {
 public:
  using Done = std::function<void(size_t bytes, int error)>;
  LocalWriter(uv_loop_t* loop, int fd);
  // Closing it shuts down the socket's sending side (after what is queued): the peer sees EOF
  // while the reader goes on.
  LocalWriter(uv_loop_t* loop, SharedStream stream);
  ~LocalWriter();
  // Write in order; `done` runs when the bytes are with the OS (or failed). Writes of one loop turn
  // go out together, in one writev at the end of the turn.
  void write(Slice bytes, Done done);
  size_t pending() const { return pending_bytes_; }
  // Write this turn's batch now (before the terminal changes mode, for one).
  void flush();
  // Drop what is not with the OS yet, without calling its `done`: the bytes counted as written are
  // then exactly those the reader was given. What libuv is writing just then (for a terminal, at
  // most kTerminalWriteInFlight) goes on; returns how many bytes were dropped.
  size_t discard_unwritten();
  // `drained` runs once nothing is pending any more (now, if nothing is).
  void when_drained(std::function<void()> drained);
  void close();
  // Close once every queued write is done (now, if none are); `closed` runs then.
  void close_when_drained(std::function<void()> closed = nullptr);

 private:
  struct FileWrite;
  struct StreamWrite;
  void issue_file_write();
  void hand_over();  // give libuv what waits, up to in_flight_limit_
  uv_loop_t* loop_;
  int fd_;
  uv_handle_type kind_;
  uv_stream_t* stream_ = nullptr;
  SharedStream shared_;
  size_t in_flight_limit_;
  std::function<void()> on_drained_close_, on_drained_;
  std::deque<std::pair<Slice, Done>> file_queue_;
  std::vector<std::pair<Slice, Done>> batch_, flushing_;  // this turn's writes; the ones being flushed
  // Stream writes that did not go out at once and wait here, not in libuv, for the reader: here
  // they can be dropped with an exact count of what was written (see discard_unwritten).
  std::deque<std::pair<Slice, Done>> waiting_;
  std::vector<uv_buf_t> iov_;
  size_t in_flight_bytes_ = 0;          // handed to libuv
  std::deque<StreamWrite*> in_flight_;  // those writes, in order
  EndOfTurn flush_at_end_of_turn_;
  bool file_busy_ = false;
  bool close_when_drained_ = false;
  bool widen_tried_ = false;
  void after_write();
  size_t pending_bytes_ = 0;
  // Writes still with libuv when the writer goes (its owner destroyed it) find it gone here, not
  // through a dangling pointer; their bytes and callbacks are dropped with it.
  std::shared_ptr<LocalWriter*> alive_ = std::make_shared<LocalWriter*>(this);
};

}  // namespace hvterm
