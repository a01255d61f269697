#include "session/inbound_stream.h"

#include "protocol/wire.h"

namespace hvterm {

std::optional<Slice> InboundStream::fresh_part(uint64_t offset, Slice bytes, std::string& problem) const {
  int64_t duplicate = duplicate_prefix(offset, bytes.size());
  if (duplicate < 0) {
    problem = "DATA at offset " + std::to_string(offset) + " leaves a gap after " + std::to_string(received_bytes());
    return std::nullopt;
  }
  bytes.remove_prefix(static_cast<size_t>(duplicate));
  return bytes;
}

std::optional<Slice> InboundStream::accept_stdin(uint64_t offset, Slice bytes, uint64_t window_base,
                                                 std::string& problem) {
  size_t size = bytes.size();
  auto fresh = fresh_part(offset, std::move(bytes), problem);
  if (!fresh) {
    problem = "stdin " + problem;
    return std::nullopt;
  }
  // Only now is offset known to be small: no overflow below.
  uint64_t end = offset + size;
  if (end > window_base + wire::kInputWindow) {
    problem = "stdin DATA up to offset " + std::to_string(end) + " is beyond the window (" +
              std::to_string(window_base) + " acknowledged + " + std::to_string(wire::kInputWindow) + ")";
    return std::nullopt;
  }
  if (end > ack_position() + wire::kMaxUnconsumedInput) {
    problem = "the program has not read " + std::to_string(received_bytes() - ack_position()) +
              " bytes of its stdin; the agent holds no more";
    return std::nullopt;
  }
  received(fresh->size());
  return fresh;
}

InboundStream::AckDue InboundStream::ack_due(bool force) const {
  uint64_t position = ack_position();
  if (position == ack_sent_) return AckDue::No;
  if (!force && position - ack_sent_ < kAckEvery) return AckDue::Later;
  return AckDue::Now;
}

}  // namespace hvterm
