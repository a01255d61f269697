#include "client/local_io.h"

#include <algorithm>
#include <cstdint>

#include "platform/sockets.h"
#include "protocol/wire.h"
#include "transport/io_sizes.h"

namespace hvterm {
namespace {

// A pipe found full (a read that emptied 64 KiB, a write that did not fit) is widened, once.
void widen_if_pipe(uv_handle_type kind, int fd, bool& tried) {
  if (kind != UV_NAMED_PIPE || tried) return;
  tried = true;
  platform::widen_pipe(fd, kWideLocalPipe);
}

uv_stream_t* open_stream(uv_loop_t* loop, int fd, uv_handle_type kind, bool readable) {
  switch (kind) {
    case UV_TTY: {
      auto* tty = new uv_tty_t;
      if (uv_tty_init(loop, tty, fd, readable ? 1 : 0) == 0) return reinterpret_cast<uv_stream_t*>(tty);
      delete tty;
      return nullptr;
    }
    case UV_NAMED_PIPE: {
      auto* pipe = new uv_pipe_t;
      uv_pipe_init(loop, pipe, 0);
      if (uv_pipe_open(pipe, fd) == 0) return reinterpret_cast<uv_stream_t*>(pipe);
      platform::close_stream(reinterpret_cast<uv_stream_t*>(pipe));
      return nullptr;
    }
    case UV_TCP: {
      auto* tcp = new uv_tcp_t;
      uv_tcp_init(loop, tcp);
      if (uv_tcp_open(tcp, fd) == 0) return reinterpret_cast<uv_stream_t*>(tcp);
      platform::close_stream(reinterpret_cast<uv_stream_t*>(tcp));
      return nullptr;
    }
    default: return nullptr;
  }
}

// Only a terminal is detached from (discard_unwritten): a pipe or socket gets everything at once,
// which libuv then writes with as few system calls as the reader allows.
size_t in_flight_limit_for(uv_handle_type kind) { return kind == UV_TTY ? kTerminalWriteInFlight : SIZE_MAX; }

}  // namespace

SharedStream share_stream(uv_stream_t* stream) {
  return SharedStream(stream, [](uv_stream_t* s) { platform::close_stream(s); });
}

// ---- reader -------------------------------------------------------------------------------------------

LocalReader::LocalReader(uv_loop_t* loop, int fd) : loop_(loop), fd_(fd), kind_(uv_guess_handle(fd)) {
  stream_ = open_stream(loop, fd, kind_, true);
  if (stream_ == nullptr)
    kind_ = UV_FILE;  // anything libuv cannot poll is read like a file
  else
    stream_->data = this;
}

LocalReader::LocalReader(uv_loop_t* loop, SharedStream stream)
    : loop_(loop), fd_(-1), kind_(stream->type), stream_(stream.get()), shared_(std::move(stream)) {
  stream_->data = this;
}

LocalReader::~LocalReader() { close(); }

void LocalReader::start(DataCallback on_data, EndCallback on_end) {
  on_data_ = std::move(on_data);
  on_end_ = std::move(on_end);
  resume();
}

void LocalReader::resume() {
  if (active_ || ended_ || closed_) return;
  active_ = true;
  if (stream_ == nullptr) {
    if (file_read_ == nullptr) issue_file_read();
    return;
  }
  uv_read_start(
      stream_,
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        ReadBlock& block = static_cast<LocalReader*>(h->data)->block_;
        block.ensure(kReadBlockSize);
        *buf = uv_buf_init(block.next(), static_cast<unsigned>(block.room()));
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t*) { static_cast<LocalReader*>(s->data)->on_read(nread); });
}

void LocalReader::pause() {
  if (!active_) return;
  active_ = false;
  if (stream_ != nullptr) uv_read_stop(stream_);
}

void LocalReader::on_read(ssize_t nread) {
  if (nread == 0 || closed_) return;
  if (nread < 0) {
    ended_ = true;
    pause();
    if (on_end_) on_end_(nread == UV_EOF ? 0 : static_cast<int>(nread));
    return;
  }
  size_t n = static_cast<size_t>(nread);
  if (n >= platform::kDefaultPipeSize) widen_if_pipe(kind_, fd_, widen_tried_);  // bulk data waits behind it
  // A short read is copied out and the block reused; a long one keeps it (the next read takes a new one).
  on_data_(n < kCompactBelow ? block_.copy(n) : block_.hand_over(n));
}

// A file read in flight owns a reference to its buffer, so closing the reader meanwhile is safe.
struct LocalReader::FileRead {
  uv_fs_t request;
  LocalReader* reader;
  Slice buffer;
};

void LocalReader::issue_file_read() {
  block_.ensure(kReadBlockSize);
  file_read_ = new FileRead{{}, this, block_.pin()};
  file_read_->request.data = file_read_;
  uv_buf_t buf = uv_buf_init(block_.next(), static_cast<unsigned>(block_.room()));
  int rc = uv_fs_read(loop_, &file_read_->request, fd_, &buf, 1, -1, [](uv_fs_t* req) {
    auto* read = static_cast<FileRead*>(req->data);
    ssize_t result = req->result;
    uv_fs_req_cleanup(req);
    LocalReader* self = read->reader;
    delete read;
    if (self == nullptr) return;  // closed meanwhile
    self->file_read_ = nullptr;
    self->on_read(result == 0 ? static_cast<ssize_t>(UV_EOF) : result);
    if (self->active_ && !self->ended_ && self->file_read_ == nullptr) self->issue_file_read();
  });
  if (rc != 0) {
    delete file_read_;
    file_read_ = nullptr;
    on_read(rc);
  }
}

void LocalReader::close() {
  if (closed_) return;
  closed_ = true;
  active_ = false;
  if (file_read_ != nullptr) {
    file_read_->reader = nullptr;  // the request finishes on its own and frees itself
    file_read_ = nullptr;
  }
  if (shared_) {
    uv_read_stop(stream_);
    stream_->data = nullptr;
    shared_.reset();
  } else if (stream_ != nullptr) {
    platform::close_stream(stream_);
  }
  stream_ = nullptr;
}

// ---- writer -------------------------------------------------------------------------------------------

struct LocalWriter::FileWrite {
  uv_fs_t request;
  std::shared_ptr<LocalWriter*> writer;
  Slice bytes;
  Done done;
  size_t total;
};

LocalWriter::LocalWriter(uv_loop_t* loop, int fd)
    : loop_(loop),
      fd_(fd),
      kind_(uv_guess_handle(fd)),
      in_flight_limit_(in_flight_limit_for(kind_)),
      flush_at_end_of_turn_(loop, [this] { flush(); }) {
  stream_ = open_stream(loop, fd, kind_, false);
  if (stream_ == nullptr)
    kind_ = UV_FILE;
  else
    stream_->data = this;
}

LocalWriter::LocalWriter(uv_loop_t* loop, SharedStream stream)
    : loop_(loop),
      fd_(-1),
      kind_(stream->type),
      stream_(stream.get()),
      shared_(std::move(stream)),
      in_flight_limit_(in_flight_limit_for(kind_)),
      flush_at_end_of_turn_(loop, [this] { flush(); }) {}

LocalWriter::~LocalWriter() {
  close();
  *alive_ = nullptr;
}

void LocalWriter::write(Slice bytes, Done done) {
  if (stream_ == nullptr && kind_ != UV_FILE) return;  // closed: nobody will see it
  pending_bytes_ += bytes.size();
  if (stream_ == nullptr) {
    file_queue_.emplace_back(std::move(bytes), std::move(done));
    if (!file_busy_) issue_file_write();
    return;
  }
  batch_.emplace_back(std::move(bytes), std::move(done));
  flush_at_end_of_turn_.arm();
}

void LocalWriter::flush() {
  if (!flushing_.empty()) return;  // called again from a `done` callback: the outer flush goes on
  flush_at_end_of_turn_.disarm();
  if (stream_ == nullptr || batch_.empty()) return;
  flushing_.swap(batch_);  // callbacks below may write again: that goes into the next batch
  size_t i = 0;
  if (in_flight_bytes_ == 0 && waiting_.empty()) {
    // Nothing queued: write the whole batch now, and finish without a request for what goes out
    // (all of it, for terminal output). `done` may run more than once, for consecutive parts.
    iov_.clear();
    size_t total = 0;
    for (auto& [bytes, done] : flushing_) {
      iov_.push_back(uv_buf_init(bytes.mutable_data(), static_cast<unsigned>(bytes.size())));
      total += bytes.size();
    }
    int written = uv_try_write(stream_, iov_.data(), static_cast<unsigned>(iov_.size()));
    if (static_cast<size_t>(written) != total) widen_if_pipe(kind_, fd_, widen_tried_);  // reader is behind
    size_t left = written > 0 ? static_cast<size_t>(written) : 0;
    while (i < flushing_.size() && left > 0) {
      auto& [bytes, done] = flushing_[i];
      size_t n = std::min(left, bytes.size());
      left -= n;
      pending_bytes_ -= n;
      bytes.remove_prefix(n);
      done(n, 0);
      if (stream_ == nullptr) break;  // closed by the callback
      if (!bytes.empty()) break;
      ++i;
    }
  }
  for (; i < flushing_.size(); ++i) {
    if (stream_ == nullptr)
      pending_bytes_ -= flushing_[i].first.size();
    else
      waiting_.push_back(std::move(flushing_[i]));
  }
  flushing_.clear();
  hand_over();
  after_write();
}

struct LocalWriter::StreamWrite {
  uv_write_t request;
  std::shared_ptr<LocalWriter*> writer;
  std::vector<std::pair<Slice, Done>> parts;
  size_t total = 0;
  size_t went_out = 0;        // if the writer closes under it: how much the reader had been given
  void finished(int status);  // calls each part's `done`, then frees itself
};

void LocalWriter::hand_over() {
  if (stream_ == nullptr || waiting_.empty() || in_flight_bytes_ >= in_flight_limit_) return;
  auto* w = new StreamWrite{{}, alive_, {}, 0};
  w->request.data = w;
  size_t room = in_flight_limit_ - in_flight_bytes_;
  while (!waiting_.empty() && room > 0) {
    auto& [bytes, done] = waiting_.front();
    if (bytes.size() <= room) {
      room -= bytes.size();
      w->parts.push_back(std::move(waiting_.front()));
      waiting_.pop_front();
    } else {
      w->parts.emplace_back(bytes.sub(0, room), done);  // `done` hears of each part
      bytes.remove_prefix(room);
      room = 0;
    }
  }
  iov_.clear();
  for (auto& [bytes, done] : w->parts) {
    iov_.push_back(uv_buf_init(bytes.mutable_data(), static_cast<unsigned>(bytes.size())));
    w->total += bytes.size();
  }
  in_flight_bytes_ += w->total;
  in_flight_.push_back(w);
  int rc = uv_write(&w->request, stream_, iov_.data(), static_cast<unsigned>(iov_.size()),
                    [](uv_write_t* req, int status) { static_cast<StreamWrite*>(req->data)->finished(status); });
  if (rc != 0) w->finished(rc);
}

void LocalWriter::StreamWrite::finished(int status) {
  std::shared_ptr<LocalWriter*> alive = writer;
  LocalWriter* self = *alive;
  if (self != nullptr) {
    self->in_flight_bytes_ -= total;
    self->pending_bytes_ -= total;
    std::erase(self->in_flight_, this);
    // Cancelled: the writer was closed, which counted how much of it had gone out.
    size_t counted = status == UV_ECANCELED ? went_out : total;
    for (auto& [bytes, done] : parts) {
      if (*alive == nullptr || counted == 0) break;
      size_t n = std::min(counted, bytes.size());
      counted -= n;
      done(n, status == UV_ECANCELED ? 0 : status);
    }
  }
  delete this;
  if (self == nullptr || *alive == nullptr) return;  // gone, or destroyed by a callback
  self->hand_over();
  self->after_write();
}

void LocalWriter::issue_file_write() {
  if (file_queue_.empty()) {
    file_busy_ = false;
    return;
  }
  file_busy_ = true;
  size_t total = file_queue_.front().first.size();
  auto* w = new FileWrite{
      {}, alive_, std::move(file_queue_.front().first), std::move(file_queue_.front().second), total};
  file_queue_.pop_front();
  w->request.data = w;
  uv_buf_t buf = uv_buf_init(w->bytes.mutable_data(), static_cast<unsigned>(w->bytes.size()));
  uv_fs_write(loop_, &w->request, fd_, &buf, 1, -1, [](uv_fs_t* req) {
    auto* w = static_cast<FileWrite*>(req->data);
    ssize_t result = req->result;
    uv_fs_req_cleanup(req);
    LocalWriter* self = *w->writer;
    if (self != nullptr && result >= 0 && static_cast<size_t>(result) < w->bytes.size()) {
      // Short write to a file: write the rest before anything queued behind it.
      w->bytes.remove_prefix(static_cast<size_t>(result));
      self->pending_bytes_ -= static_cast<size_t>(result);
      uv_buf_t rest = uv_buf_init(w->bytes.mutable_data(), static_cast<unsigned>(w->bytes.size()));
      uv_fs_write(self->loop_, &w->request, self->fd_, &rest, 1, -1, req->cb);
      return;
    }
    if (self != nullptr) {
      self->pending_bytes_ -= w->bytes.size();
      w->done(w->total, result < 0 ? static_cast<int>(result) : 0);
      self->issue_file_write();
      self->after_write();
    }
    delete w;
  });
}

void LocalWriter::close_when_drained(std::function<void()> closed) {
  close_when_drained_ = true;
  on_drained_close_ = std::move(closed);
  after_write();
}

void LocalWriter::after_write() {
  if (pending_bytes_ != 0) return;
  if (close_when_drained_) {
    close();
    if (auto closed = std::move(on_drained_close_)) {
      on_drained_close_ = nullptr;
      closed();
      return;  // it may have destroyed us
    }
  }
  if (auto drained = std::move(on_drained_)) {
    on_drained_ = nullptr;
    drained();
  }
}

size_t LocalWriter::discard_unwritten() {
  flush_at_end_of_turn_.disarm();
  size_t dropped = 0;
  for (auto& entry : batch_) dropped += entry.first.size();
  for (auto& entry : waiting_) dropped += entry.first.size();
  for (auto& entry : file_queue_) dropped += entry.first.size();
  batch_.clear();
  waiting_.clear();
  file_queue_.clear();
  pending_bytes_ -= dropped;
  return dropped;
}

void LocalWriter::when_drained(std::function<void()> drained) {
  on_drained_ = std::move(drained);
  after_write();
}

void LocalWriter::close() {
  discard_unwritten();
  if (shared_) {
    // The request keeps the socket until the shutdown is done; writes libuv still holds go first.
    struct Shutdown {
      uv_shutdown_t request;
      SharedStream stream;
    };
    auto* shutdown = new Shutdown{{}, std::move(shared_)};
    shutdown->request.data = shutdown;
    if (uv_shutdown(&shutdown->request, stream_,
                    [](uv_shutdown_t* req, int) { delete static_cast<Shutdown*>(req->data); }) != 0)
      delete shutdown;  // already shut down, or the peer is gone: nothing to tell it
    shared_.reset();
  } else if (stream_ != nullptr) {
    // libuv cancels the writes it still holds: what of them the reader already has is counted now
    // (a detach acknowledges exactly what the terminal was given, even when it gives up waiting).
    size_t out = in_flight_bytes_ - std::min(in_flight_bytes_, uv_stream_get_write_queue_size(stream_));
    for (StreamWrite* w : in_flight_) {
      w->went_out = std::min(out, w->total);
      out -= w->went_out;
    }
    platform::close_stream(stream_);
  }
  stream_ = nullptr;
}

}  // namespace hvterm
