#pragma once
// ReplayBuffer: the sending side of one byte stream that must survive reconnects.
//
// Every byte appended gets an offset. Bytes stay here until the peer acknowledges them; after a
// reconnect the sender rewinds to the peer's acknowledged offset and sends again from there, so
// the peer receives every byte exactly once (the receiver drops any prefix it already has).
// EOF takes one position after the last byte, like TCP's FIN, so its delivery is acknowledged too.
// Whoever fills the buffer stops producing while unacked() >= capacity: that is the flow control.
#include <cstdint>
#include <deque>
#include <functional>
#include <string_view>

#include "common/buffer.h"

namespace hvterm {

class ReplayBuffer {
 public:
  explicit ReplayBuffer(size_t capacity) : capacity_(capacity) {}

  // A fresh buffer for a stream that the peer already holds up to `position` (a client taking
  // over a session starts its input where the previous client left it). Only before anything was
  // sent; bytes appended so far are renumbered to follow `position`.
  void start_at(uint64_t position);
  // Start over at `position`, forgetting every byte held: a viewer joining again, whose old stream
  // the agent no longer keeps.
  void restart_at(uint64_t position);
  void append(Slice bytes);
  void finish() { finished_ = true; }  // no more bytes: EOF follows `end()`
  // Bytes that go before the EOF although the producer has finished (a PTY session's screen, sent
  // to a client attaching after its program ended). False, and nothing added, once the EOF has
  // been acknowledged: that client has seen the end.
  bool append_before_eof(Slice bytes);

  // The peer has everything before `position` (EOF counts as one position). False when the
  // position is beyond anything sent: a protocol violation.
  bool ack(uint64_t position);
  // Send again from `position`: what the peer holds after a reconnect. False when the position is
  // below what was acknowledged or beyond anything ever transmitted.
  bool rewind(uint64_t position);

  // Forget every byte not yet acknowledged, as if a peer had taken them: a PTY session whose screen
  // stands in for them (agent/session.cpp). The EOF, if any, is still to be sent.
  void discard_unacked();
  // Called with each byte range the buffer lets go of (acknowledged or discarded), in order.
  using ReleaseObserver = std::function<void(uint64_t offset, std::string_view bytes)>;
  void observe_release(ReleaseObserver observer) { release_observer_ = std::move(observer); }

  // Every byte not yet acknowledged, in order (a viewer joining is shown them).
  template <class F>
  void for_each_unacked(F&& f) const {
    for (const Slice& chunk : chunks_) f(chunk);
  }

  // Next bytes to transmit, at most `max`; false when nothing is waiting.
  bool next(Slice& out, uint64_t& offset, size_t max);
  // EOF is due once all bytes are sent and the producer finished; mark it sent when written.
  bool eof_due() const { return finished_ && !eof_sent_ && sent_ == end_; }
  void mark_eof_sent() {
    eof_sent_ = true;
    high_water_ = end_ + 1;
  }
  // Where transmission stands: bytes sent, plus one once the EOF is sent.
  uint64_t position() const { return sent_ + (eof_sent_ ? 1 : 0); }

  uint64_t acked() const { return acked_; }
  uint64_t sent() const { return sent_; }
  uint64_t end() const { return end_; }
  bool finished() const { return finished_; }
  bool fully_acked() const { return finished_ && acked_ == end_ + 1; }
  bool all_sent() const { return finished_ && eof_sent_; }  // every byte and the EOF are out
  size_t unacked() const { return static_cast<size_t>(end_ - std::min(acked_, end_)); }
  bool full() const { return unacked() >= capacity_; }
  size_t capacity() const { return capacity_; }

 private:
  size_t capacity_;
  std::deque<Slice> chunks_;     // bytes [acked_, end_), in order
  size_t send_chunk_ = 0;        // index in chunks_ of the chunk holding offset sent_
  size_t send_skip_ = 0;         // bytes of that chunk before sent_
  void trim(uint64_t position);  // forget everything before position
  uint64_t acked_ = 0, sent_ = 0, end_ = 0;
  uint64_t high_water_ = 0;  // the furthest position ever transmitted, on any connection
  bool finished_ = false, eof_sent_ = false;
  ReleaseObserver release_observer_;
};

// ReceiveCursor: the receiving side of one stream. Knows the next expected offset, so a
// retransmitted range is trimmed to its new part and a gap is detected as an error.
class ReceiveCursor {
 public:
  // How many leading bytes of DATA(offset, size) are already here; -1 for a gap.
  int64_t duplicate_prefix(uint64_t offset, size_t size) const;
  void received(size_t n) { received_ += n; }
  // EOF at `offset`: true when it is in place (or a repeat), false when bytes are missing.
  bool eof_at(uint64_t offset);
  // The consumer (a local write) finished n bytes / the EOF.
  void consumed(size_t n) { consumed_ += n; }
  void consumed_eof() { eof_consumed_ = true; }

  uint64_t position() const { return received_ + (eof_ ? 1 : 0); }  // for resume handshakes
  uint64_t ack_position() const { return consumed_ + (eof_consumed_ ? 1 : 0); }
  uint64_t received_bytes() const { return received_; }
  bool eof() const { return eof_; }
  // Restart from what a peer says it holds (client attaching afresh to a detached session).
  void reset_to(uint64_t position) { received_ = consumed_ = position; }

 private:
  uint64_t received_ = 0, consumed_ = 0;
  bool eof_ = false, eof_consumed_ = false;
};

}  // namespace hvterm
