#include "transport/framed_connection.h"

#include <cstring>

#include "common/log.h"
#include "transport/io_sizes.h"

namespace hvterm {
namespace {
constexpr size_t kMinReadSpace = 64 * 1024 + 64;  // room for at least one whole frame
constexpr size_t kKeepFreeWrites = 64;
// close_after_flush() gives up on writes that make no progress for this long.
constexpr uint64_t kFlushStallMs = 10000;

// "-> DATA stdin @1024 +512": DATA, EOF and ACK begin with a stream and an offset. `payload` may
// be only the start of a payload of `payload_size` bytes.
void trace(const char* direction, wire::FrameType type, std::string_view payload, size_t payload_size) {
  std::string record = std::string(direction) + " " + wire::frame_type_name(type);
  bool positioned = type == wire::FrameType::Data || type == wire::FrameType::Eof || type == wire::FrameType::Ack;
  if (positioned && payload.size() >= wire::kDataOverhead) {
    static const char* const kStreams[] = {"stdin", "stdout", "stderr"};
    auto stream = static_cast<unsigned char>(payload[0]);
    uint64_t offset = 0;
    for (int i = 7; i >= 0; --i)
      offset = (offset << 8) | static_cast<unsigned char>(payload[1 + static_cast<size_t>(i)]);
    record += std::string(" ") + (stream < 3 ? kStreams[stream] : "?") + " @" + std::to_string(offset);
    if (type == wire::FrameType::Data) record += " +" + std::to_string(payload_size - wire::kDataOverhead);
  } else {
    record += " (" + std::to_string(payload_size) + " bytes)";
  }
  log::debug(record);
}

}  // namespace

struct FramedConnection::Write {
  uv_write_t request{};
  FramedConnection* owner = nullptr;
  char prefix[wire::kDataPrefixSize];
  std::string control;
  Slice payload;
  uv_buf_t bufs[2];  // control, or prefix + payload
  unsigned nbufs = 0;
  size_t size = 0;  // bytes of the whole frame, counted in unwritten_bytes_
};

FramedConnection* FramedConnection::create(uv_stream_t* stream, Handler* handler) {
  return new FramedConnection(stream, handler);
}

FramedConnection::FramedConnection(uv_stream_t* stream, Handler* handler)
    : stream_(stream), handler_(handler), flush_at_end_of_turn_(stream->loop, [this] { flush(); }) {
  stream_->data = this;
}

FramedConnection::~FramedConnection() {
  for (Write* w : queued_) delete w;
  for (Write* w : free_writes_) delete w;
}

void FramedConnection::start() {
  reading_ = true;
  uv_read_start(
      stream_,
      [](uv_handle_t* handle, size_t, uv_buf_t* buf) {
        auto* self = static_cast<FramedConnection*>(handle->data);
        ReadBlock& block = self->read_block_;
        block.rewind_if_sole();  // nothing refers to it any more: start over at the front
        size_t room = block.room();
        if (!block.empty() && room < kMinReadSpace) {
          // Near the end of the block: read exactly what completes the unfinished frame, if it
          // fits, so the next read starts a new block with a whole frame; else move its start.
          size_t missing = self->decoder_.unfinished_missing();
          if (missing > 0 && missing <= room) {
            room = missing;
          } else {
            self->next_read_block();  // the frames in it keep it alive; read into a new one
            room = block.room();
          }
        }
        if (block.empty()) {
          block.ensure(kReadBlockSize);
          room = block.room();
        }
        // Small reads (acks, keystrokes) share one block instead of taking a block each.
        *buf = uv_buf_init(block.next(), static_cast<unsigned>(room));
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t*) { static_cast<FramedConnection*>(s->data)->on_read(nread); });
}

void FramedConnection::on_read(ssize_t nread) {
  if (closing_) return;
  if (nread == 0) {  // libuv asked for a buffer and found nothing to read
    release_idle_block();
    return;
  }
  if (nread < 0) {
    // After a failed write the peer's end is expected; why writing failed is the news.
    if (write_broken_) return disconnect(write_error_);
    disconnect(nread == UV_EOF ? std::string() : std::string(uv_strerror(static_cast<int>(nread))));
    return;
  }
  decoder_.feed(read_block_.take(static_cast<size_t>(nread)));
  wire::Frame frame;
  for (;;) {
    auto status = decoder_.next(frame);
    if (status == wire::FrameDecoder::Status::NeedMore) {
      frame.payload = Slice();  // the last frame's bytes are handled; they must not pin the block
      if (static_cast<size_t>(nread) < kMinReadSpace) release_idle_block();
      return;
    }
    if (status == wire::FrameDecoder::Status::Error) {
      std::string reason = "protocol error: " + decoder_.error();
      Handler* h = handler_;
      handler_ = nullptr;
      fail(wire::ErrorCode::Malformed, decoder_.error());
      if (h != nullptr) h->on_disconnect(reason);
      return;
    }
    if (handler_ == nullptr) return;
    if (trace_) trace("<-", frame.type, frame.payload.view(), frame.payload.size());
    handler_->on_frame(frame);
    if (closing_ || close_when_flushed_) return;
  }
}

// A frame whose start ends the old block moves to the front of the new one, so the next read
// completes it in place (only when the rest of the frame does not fit in the old block, or its
// header is still incomplete: a few bytes).
void FramedConnection::next_read_block() {
  Block* next = Block::create(kReadBlockSize);
  const Slice& unfinished = decoder_.unfinished();
  size_t keep = unfinished.size();
  if (keep > 0) {
    std::memcpy(next->data(), unfinished.data(), keep);
    decoder_.relocate_unfinished(Slice::share(next, 0, keep));
  }
  read_block_.replace(next, keep);
}

// An idle connection keeps no read block: 256 KiB (its touched pages) would otherwise stay with
// every connection that ever carried a burst. A block nothing refers to goes back to the pool, which
// hands it to the next read without a system call; bulk reads keep theirs.
void FramedConnection::release_idle_block() { read_block_.release_if_sole(); }

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

void FramedConnection::recycle(Write* write) {
  unwritten_bytes_ -= write->size;
  write->size = 0;
  write->control.clear();
  write->payload = Slice();
  if (free_writes_.size() < kKeepFreeWrites)
    free_writes_.push_back(write);
  else
    delete write;
}

void FramedConnection::enqueue(Write* write) {
  write->size = 0;
  for (unsigned i = 0; i < write->nbufs; ++i) write->size += write->bufs[i].len;
  unwritten_bytes_ += write->size;
  flush_at_end_of_turn_.arm();
  queued_.push_back(write);
}

void FramedConnection::flush() {
  flush_at_end_of_turn_.disarm();
  if (queued_.empty() || closing_) return;
  // A failing write below closes the connection, and close() drops what is queued: only frames
  // queued after this point, never the ones this loop is handing out.
  flushing_.swap(queued_);
  size_t first = 0;    // the first frame not wholly written by the batched write
  size_t written = 0;  // bytes of it that were
  if (pending_writes_ == 0) {
    // Nothing in libuv's queue: one writev for the whole batch. What does not fit goes to libuv,
    // which writes it as the socket drains.
    iov_.clear();
    for (Write* w : flushing_) iov_.insert(iov_.end(), w->bufs, w->bufs + w->nbufs);
    int rc = uv_try_write(stream_, iov_.data(), static_cast<unsigned>(iov_.size()));
    size_t left = rc > 0 ? static_cast<size_t>(rc) : 0;
    for (; first < flushing_.size(); ++first) {
      Write* w = flushing_[first];
      if (left < w->size) break;
      left -= w->size;
      recycle(w);
    }
    written = left;
  }
  for (size_t i = first; i < flushing_.size(); ++i) {
    Write* w = flushing_[i];
    uv_buf_t* bufs = w->bufs;
    unsigned count = w->nbufs;
    if (i == first) {
      while (written > 0 && written >= bufs->len) {
        written -= bufs->len;
        ++bufs;
        --count;
      }
      bufs->base += written;
      bufs->len -= static_cast<decltype(bufs->len)>(written);
    }
    write_one(w, bufs, count);  // after a failure, recycles the rest
  }
  flushing_.clear();
}

void FramedConnection::write_one(Write* write, uv_buf_t* bufs, unsigned count) {
  if (closing_ || write_broken_) {
    recycle(write);
    return;
  }
  ++pending_writes_;
  int rc = uv_write(&write->request, stream_, bufs, count, [](uv_write_t* req, int status) {
    auto* w = static_cast<Write*>(req->data);
    w->owner->on_write_done(w, status);
  });
  if (rc != 0) {
    --pending_writes_;
    recycle(write);
    on_write_failed(rc);
  }
}

void FramedConnection::send(std::string frame) {
  if (closing_ || close_when_flushed_ || write_broken_) return;
  if (trace_ && frame.size() >= wire::kHeaderSize)
    trace("->", static_cast<wire::FrameType>(frame[0]), std::string_view(frame).substr(wire::kHeaderSize),
          frame.size() - wire::kHeaderSize);
  Write* w = new_write();
  w->control = std::move(frame);
  w->bufs[0] = uv_buf_init(w->control.data(), static_cast<unsigned>(w->control.size()));
  w->nbufs = 1;
  enqueue(w);
}

void FramedConnection::send_data(wire::Stream stream, uint64_t offset, Slice bytes) {
  if (closing_ || close_when_flushed_ || write_broken_) return;
  Write* w = new_write();
  wire::put_data_prefix(w->prefix, stream, offset, bytes.size());
  if (trace_)
    trace("->", wire::FrameType::Data, std::string_view(w->prefix + wire::kHeaderSize, wire::kDataOverhead),
          wire::kDataOverhead + bytes.size());
  w->payload = std::move(bytes);
  w->bufs[0] = uv_buf_init(w->prefix, static_cast<unsigned>(wire::kDataPrefixSize));
  w->bufs[1] = uv_buf_init(w->payload.mutable_data(), static_cast<unsigned>(w->payload.size()));
  w->nbufs = 2;
  enqueue(w);
}

void FramedConnection::on_write_done(Write* write, int status) {
  --pending_writes_;
  recycle(write);
  if (closing_) {
    return;
  }
  if (status != 0) {
    on_write_failed(status);
    return;
  }
  if (!close_when_flushed_) return;
  if (pending_writes_ == 0)
    close();
  else
    arm_flush_deadline();  // progress: the peer reads
}

// A peer that closes right after its last frame (a client's COLLECT) makes our next write fail with
// EPIPE or ECONNRESET while those frames still wait in our receive buffer. Closing now would lose
// them: stop writing, read on until the peer's end, and only then report the failure.
void FramedConnection::on_write_failed(int status) {
  if (handler_ == nullptr || close_when_flushed_ || !reading_) {  // no frames to wait for
    disconnect(uv_strerror(status));
    return;
  }
  if (write_broken_) return;
  write_broken_ = true;
  write_error_ = uv_strerror(status);
  for (Write* w : queued_) recycle(w);
  queued_.clear();
  flush_at_end_of_turn_.disarm();
}

void FramedConnection::arm_flush_deadline() {
  flush_deadline_.start(stream_->loop, kFlushStallMs, 0, [this] { close(); });
}

void FramedConnection::fail(wire::ErrorCode code, const std::string& message) {
  send(wire::encode(wire::ErrorMsg{code, message}));
  close_after_flush();
}

void FramedConnection::close_after_flush() {
  if (closing_) return;
  handler_ = nullptr;
  uv_read_stop(stream_);
  flush();
  if (closing_) return;  // the flush found the stream broken
  if (pending_writes_ == 0 || write_broken_) {
    close();
  } else {
    close_when_flushed_ = true;
    arm_flush_deadline();
  }
}

void FramedConnection::close() {
  if (closing_) return;
  closing_ = true;
  handler_ = nullptr;
  for (Write* w : queued_) recycle(w);
  queued_.clear();
  flush_deadline_.close();
  uv_close(reinterpret_cast<uv_handle_t*>(stream_), [](uv_handle_t* h) {
    auto* self = static_cast<FramedConnection*>(h->data);
    // Cancelled writes have run their callbacks by now (libuv calls them before the close callback).
    if (h->type == UV_NAMED_PIPE)
      delete reinterpret_cast<uv_pipe_t*>(h);
    else
      delete reinterpret_cast<uv_tcp_t*>(h);
    delete self;
  });
  flush_at_end_of_turn_.disarm();
}

}  // namespace hvterm
