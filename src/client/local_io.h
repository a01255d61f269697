#pragma once
// The client's own stdin, stdout and stderr as libuv objects, whatever they are: a terminal, a
// pipe, a socket or a regular file (libuv cannot poll files, so those go through uv_fs_*).
#include <uv.h>

#include <deque>
#include <functional>

#include "common/buffer.h"

namespace hvterm {

class LocalReader {
 public:
  using DataCallback = std::function<void(Slice bytes)>;
  using EndCallback = std::function<void(int error)>;  // 0 for EOF
  LocalReader(uv_loop_t* loop, int fd);
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
  struct FileRead;
  FileRead* file_read_ = nullptr;
  Block* block_ = nullptr;
  bool active_ = false, ended_ = false, closed_ = false;
  DataCallback on_data_;
  EndCallback on_end_;
};

class LocalWriter {
 public:
  using Done = std::function<void(size_t bytes, int error)>;
  LocalWriter(uv_loop_t* loop, int fd);
  ~LocalWriter();
  // Write in order; `done` runs when the bytes are with the OS (or failed).
  void write(Slice bytes, Done done);
  size_t pending() const { return pending_bytes_; }
  void close();
  // Close once every queued write is done (now, if none are).
  void close_when_drained();

 private:
  struct FileWrite;
  void issue_file_write();
  uv_loop_t* loop_;
  int fd_;
  uv_handle_type kind_;
  uv_stream_t* stream_ = nullptr;
  std::deque<std::pair<Slice, Done>> file_queue_;
  bool file_busy_ = false;
  bool close_when_drained_ = false;
  void after_write();
  size_t pending_bytes_ = 0;
};

}  // namespace hvterm
