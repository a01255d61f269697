#pragma once
// FramedConnection: frames over one libuv stream (Unix, vsock or Hyper-V socket alike).
//
// Reads land in reference-counted blocks and come out as frames whose payloads point into those
// blocks; DATA frames go out as a 17-byte prefix plus the caller's slice, so payload bytes are
// never copied on either side. The object is heap-only and deletes itself after close().
//
// Frames sent during one turn of the event loop are batched: they queue up and go out together in
// one writev at the end of the turn (EndOfTurn). A burst of output then costs one system call and
// one wake-up of the peer instead of one per frame, and a keystroke waits for nothing but the
// callbacks that were already due.
#include <uv.h>

#include <string>
#include <vector>

#include "common/timer.h"
#include "protocol/frame_decoder.h"
#include "transport/end_of_turn.h"

namespace hvterm {

class FramedConnection {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void on_frame(wire::Frame& frame) = 0;
    // The peer closed, the stream failed or a frame was malformed. Called once; the connection
    // is closing and must not be used afterwards. `reason` is empty for a clean EOF.
    virtual void on_disconnect(const std::string& reason) = 0;
  };

  static FramedConnection* create(uv_stream_t* stream, Handler* handler);
  void start();  // begin reading

  void send(std::string frame);
  void send_data(wire::Stream stream, uint64_t offset, Slice bytes);
  // An error frame, then close once it has been written.
  void fail(wire::ErrorCode code, const std::string& message);
  // Close now; queued writes are dropped. No handler callbacks after this.
  void close();
  // Close after queued writes are flushed, or once they have made no progress for a while (a peer
  // that never reads must not hold the connection open).
  void close_after_flush();

  // Bytes of frames sent and not yet written to the socket: what a peer that does not read makes
  // this side hold. Callers bound it.
  size_t unwritten_bytes() const { return unwritten_bytes_; }

  uv_stream_t* stream() const { return stream_; }

  // One debug record per frame sent and received (hvterm -vv): type, size, stream and offset,
  // never payload bytes (they may be a password typed at a prompt).
  void trace_frames(bool on) { trace_ = on; }

 private:
  FramedConnection(uv_stream_t* stream, Handler* handler);
  ~FramedConnection();
  struct Write;
  Write* new_write();
  void recycle(Write* write);
  void enqueue(Write* write);
  void flush();
  void write_one(Write* write, uv_buf_t* bufs, unsigned count);
  void on_read(ssize_t nread);
  void release_idle_block();
  void next_read_block();
  void on_write_done(Write* write, int status);
  void on_write_failed(int status);
  void arm_flush_deadline();
  void disconnect(const std::string& reason);

  uv_stream_t* stream_;
  Handler* handler_;
  wire::FrameDecoder decoder_;
  ReadBlock read_block_;  // bytes before its used() are with the decoder
  std::vector<Write*> free_writes_;
  std::vector<Write*> queued_;      // sent this turn, not yet handed to the OS
  std::vector<Write*> flushing_;    // the batch flush() is handing out
  std::vector<uv_buf_t> iov_;       // reused for the batched writev
  EndOfTurn flush_at_end_of_turn_;  // armed while queued_ is not empty
  size_t pending_writes_ = 0;       // handed to libuv, not yet written
  size_t unwritten_bytes_ = 0;      // queued_ and handed to libuv
  bool closing_ = false;
  bool close_when_flushed_ = false;
  // A write failed while the peer may still have frames on their way to us (it sent its last words
  // and closed): writing stops, reading goes on to the peer's end, then the handler hears why.
  bool write_broken_ = false;
  bool reading_ = false;  // start() was called: frames can still arrive
  bool trace_ = false;
  std::string write_error_;
  Timer flush_deadline_;  // close_after_flush() waiting on a peer that does not read
};

}  // namespace hvterm
