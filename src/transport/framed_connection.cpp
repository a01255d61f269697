#include "transport/framed_connection.h"

#include "platform/platform.h"

namespace hvterm {
namespace {
constexpr size_t kReadBlockSize = 256 * 1024;
constexpr size_t kMinReadSpace = 64 * 1024 + 64;  // room for at least one whole frame
constexpr size_t kKeepFreeWrites = 64;
}  // namespace

struct FramedConnection::Write {
  uv_write_t request{};
  FramedConnection* owner = nullptr;
  char prefix[wire::kDataPrefixSize];
  std::string control;
  Slice payload;
};

FramedConnection* FramedConnection::create(uv_stream_t* stream, Handler* handler) {
  return new FramedConnection(stream, handler);
}

FramedConnection::FramedConnection(uv_stream_t* stream, Handler* handler) : stream_(stream), handler_(handler) {
  stream_->data = this;
}

FramedConnection::~FramedConnection() {
  if (read_block_ != nullptr) read_block_->unref();
  for (Write* w : free_writes_) delete w;
}

void FramedConnection::start() {
  uv_read_start(
      stream_,
      [](uv_handle_t* handle, size_t, uv_buf_t* buf) {
        auto* self = static_cast<FramedConnection*>(handle->data);
        if (self->read_block_ != nullptr) {
          if (!self->read_block_->shared()) {
            self->read_used_ = 0;  // nothing refers to it any more: start over at the front
          } else if (kReadBlockSize - self->read_used_ < kMinReadSpace) {
            self->read_block_->unref();  // the frames in it keep it alive; read into a new one
            self->read_block_ = nullptr;
          }
        }
        if (self->read_block_ == nullptr) {
          self->read_block_ = Block::create(kReadBlockSize);
          self->read_used_ = 0;
        }
        // Small reads (acks, keystrokes) share one block instead of taking a block each.
        *buf = uv_buf_init(self->read_block_->data() + self->read_used_,
                           static_cast<unsigned>(kReadBlockSize - self->read_used_));
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t*) { static_cast<FramedConnection*>(s->data)->on_read(nread); });
}

void FramedConnection::on_read(ssize_t nread) {
  if (closing_) return;
  if (nread == 0) return;
  if (nread < 0) {
    disconnect(nread == UV_EOF ? std::string() : std::string(uv_strerror(static_cast<int>(nread))));
    return;
  }
  read_block_->ref();
  decoder_.feed(Slice::adopt(read_block_, read_used_, static_cast<size_t>(nread)));
  read_used_ += static_cast<size_t>(nread);
  wire::Frame frame;
  for (;;) {
    auto status = decoder_.next(frame);
    if (status == wire::FrameDecoder::Status::NeedMore) break;
    if (status == wire::FrameDecoder::Status::Error) {
      std::string reason = "protocol error: " + decoder_.error();
      Handler* h = handler_;
      handler_ = nullptr;
      fail(wire::ErrorCode::Malformed, decoder_.error());
      if (h != nullptr) h->on_disconnect(reason);
      return;
    }
    if (handler_ == nullptr) return;
    handler_->on_frame(frame);
    if (closing_ || close_when_flushed_) return;
  }
}

void FramedConnection::disconnect(const std::string& reason) {
  Handler* h = handler_;
  handler_ = nullptr;
  close();
  if (h != nullptr) h->on_disconnect(reason);
}

FramedConnection::Write* FramedConnection::new_write() {
  Write* w;
  if (!free_writes_.empty()) {
    w = free_writes_.back();
    free_writes_.pop_back();
  } else {
    w = new Write;
  }
  w->owner = this;
  w->request.data = w;
  return w;
}

void FramedConnection::submit(Write* write, uv_buf_t* bufs, unsigned count) {
  if (pending_writes_ == 0) {
    // Nothing queued: write now. A frame that goes out whole needs no request, no callback and
    // no poll-for-writable round (libuv re-arms epoll for every queued write); this is most
    // frames of an interactive session.
    int written = uv_try_write(stream_, bufs, count);
    size_t left = written > 0 ? static_cast<size_t>(written) : 0;
    while (count > 0 && left >= bufs->len) {
      left -= bufs->len;
      ++bufs;
      --count;
    }
    if (count == 0) {
      write->control.clear();
      write->payload = Slice();
      free_writes_.push_back(write);
      return;
    }
    bufs->base += left;
    bufs->len -= static_cast<decltype(bufs->len)>(left);
  }
  ++pending_writes_;
  int rc = uv_write(&write->request, stream_, bufs, count, [](uv_write_t* req, int status) {
    auto* w = static_cast<Write*>(req->data);
    w->owner->on_write_done(w, status);
  });
  if (rc != 0) {
    --pending_writes_;
    write->control.clear();
    write->payload = Slice();
    free_writes_.push_back(write);
    disconnect(uv_strerror(rc));
  }
}

void FramedConnection::send(std::string frame) {
  if (closing_ || close_when_flushed_) return;
  Write* w = new_write();
  w->control = std::move(frame);
  uv_buf_t buf = uv_buf_init(w->control.data(), static_cast<unsigned>(w->control.size()));
  submit(w, &buf, 1);
}

void FramedConnection::send_data(wire::Stream stream, uint64_t offset, Slice bytes) {
  if (closing_ || close_when_flushed_) return;
  Write* w = new_write();
  wire::put_data_prefix(w->prefix, stream, offset, bytes.size());
  w->payload = std::move(bytes);
  uv_buf_t bufs[2] = {uv_buf_init(w->prefix, static_cast<unsigned>(wire::kDataPrefixSize)),
                      uv_buf_init(w->payload.mutable_data(), static_cast<unsigned>(w->payload.size()))};
  submit(w, bufs, 2);
}

void FramedConnection::on_write_done(Write* write, int status) {
  --pending_writes_;
  write->control.clear();
  write->payload = Slice();
  if (free_writes_.size() < kKeepFreeWrites)
    free_writes_.push_back(write);
  else
    delete write;
  if (closing_) {
    return;
  }
  if (status != 0) {
    disconnect(uv_strerror(status));
    return;
  }
  if (pending_writes_ == 0 && close_when_flushed_) close();
}

void FramedConnection::fail(wire::ErrorCode code, const std::string& message) {
  send(wire::encode(wire::ErrorMsg{code, message}));
  close_after_flush();
}

void FramedConnection::close_after_flush() {
  if (closing_) return;
  handler_ = nullptr;
  uv_read_stop(stream_);
  if (pending_writes_ == 0) {
    close();
  } else {
    close_when_flushed_ = true;
  }
}

void FramedConnection::close() {
  if (closing_) return;
  closing_ = true;
  handler_ = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(stream_), [](uv_handle_t* h) {
    auto* self = static_cast<FramedConnection*>(h->data);
    // Cancelled writes have run their callbacks by now (libuv calls them before the close callback).
    if (h->type == UV_NAMED_PIPE)
      delete reinterpret_cast<uv_pipe_t*>(h);
    else
      delete reinterpret_cast<uv_tcp_t*>(h);
    delete self;
  });
}

}  // namespace hvterm
