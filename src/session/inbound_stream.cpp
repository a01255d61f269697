#include "session/inbound_stream.h"

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

InboundStream::AckDue InboundStream::ack_due(bool force) const {
  uint64_t position = ack_position();
  if (position == ack_sent_) return AckDue::No;
  if (!force && position - ack_sent_ < kAckEvery) return AckDue::Later;
  return AckDue::Now;
}

}  // namespace hvterm
