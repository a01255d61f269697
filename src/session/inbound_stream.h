#pragma once
// InboundStream: the receiving end of one resumable stream (the agent's stdin, the client's stdout
// and stderr). A ReceiveCursor that trims what a resend repeats, refuses gaps, and decides when
// what the consumer has taken is worth an acknowledgement.
#include <optional>
#include <string>

#include "common/buffer.h"
#include "session/replay_buffer.h"

namespace hvterm {

// Acknowledge a quarter of the smallest window (the agent's 1 MiB of output) at once, and whatever
// is left after a short delay: each ACK costs a write and a wake-up on both sides, and a quarter
// leaves the sender three quarters to go on with while the ACK travels.
inline constexpr uint64_t kAckEvery = 256 * 1024;
inline constexpr uint64_t kDelayedAckMs = 20;

class InboundStream : public ReceiveCursor {
 public:
  // DATA at `offset`: the part not received before (a resend's repeated prefix trimmed, possibly
  // nothing), or nullopt with `problem` set when bytes before it are missing. Nothing counts as
  // received until received(n): the receiver may still refuse it (the agent's input window).
  std::optional<Slice> fresh_part(uint64_t offset, Slice bytes, std::string& problem) const;
  // The agent's stdin: DATA at `offset` checked against the window announced up to `window_base`
  // (wire::kInputWindow beyond it) and against what the program has not read yet
  // (wire::kMaxUnconsumedInput); the fresh part, now received, or nullopt with `problem` set.
  std::optional<Slice> accept_stdin(uint64_t offset, Slice bytes, uint64_t window_base, std::string& problem);

  enum class AckDue { No, Now, Later };
  // Whether to send ACK(ack_position()) now, arm the kDelayedAckMs timer for it, or neither.
  // `force`: now whatever the amount (the delay ran out, the stream ended, a detach).
  AckDue ack_due(bool force) const;
  void ack_sent() { ack_sent_ = ack_position(); }
  // A connection that has heard `position` from us already (SESSION stated it), or nothing (0).
  void acks_start_at(uint64_t position) { ack_sent_ = position; }

 private:
  uint64_t ack_sent_ = 0;
};

}  // namespace hvterm
