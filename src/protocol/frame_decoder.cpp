#include "protocol/frame_decoder.h"

#include <cstring>

namespace hvterm::wire {
namespace {

struct Header {
  uint8_t type;
  uint8_t flags;
  uint16_t reserved;
  uint32_t length;
};

Header parse_header(const char* p) {
  auto byte = [p](int i) { return static_cast<uint32_t>(static_cast<uint8_t>(p[i])); };
  return Header{static_cast<uint8_t>(byte(0)), static_cast<uint8_t>(byte(1)),
                static_cast<uint16_t>(byte(2) | byte(3) << 8), byte(4) | byte(5) << 8 | byte(6) << 16 | byte(7) << 24};
}

std::string check_header(const Header& h) {
  if (h.type == 0 || h.type > kLastFrameType) return "unknown frame type " + std::to_string(h.type);
  if (h.flags != 0 || h.reserved != 0) return "reserved header bits set";
  if (h.length > kMaxPayload)
    return "frame of " + std::to_string(h.length) + " bytes exceeds the " + std::to_string(kMaxPayload) + "-byte limit";
  return {};
}

// Bytes missing from the frame that `start` begins: to the end of its header while that is
// incomplete, else to the end of the frame; 0 when `start` holds the whole frame.
size_t missing_from(const Slice& start) {
  if (start.size() < kHeaderSize) return kHeaderSize - start.size();
  size_t total = kHeaderSize + parse_header(start.data()).length;
  return total > start.size() ? total - start.size() : 0;
}

}  // namespace

void FrameDecoder::feed(Slice bytes) {
  if (bytes.empty()) return;
  if (pending_.empty()) {
    pending_ = std::move(bytes);
  } else if (partial_.empty() && pending_.extend(bytes)) {
    // The read went on in the same block: the unfinished frame is whole in place, no copy.
  } else if (partial_.empty() && missing_from(pending_) > 0) {  // only the start of one frame
    partial_.assign(pending_.view());                           // a frame crossing into another block: gathered once
    pending_ = std::move(bytes);
  } else {
    // Fed again before the previous bytes were drained: join them (rare, so a copy is fine).
    std::string joined(pending_.view());
    joined.append(bytes.view());
    pending_ = Slice::copy_of(joined);
  }
}

size_t FrameDecoder::buffered() const { return partial_.size() + pending_.size(); }

const Slice& FrameDecoder::unfinished() const {
  static const Slice none;
  return partial_.empty() ? pending_ : none;
}

size_t FrameDecoder::unfinished_missing() const {
  const Slice& start = unfinished();
  return start.empty() ? 0 : missing_from(start);
}

void FrameDecoder::relocate_unfinished(Slice copy) {
  if (partial_.empty() && copy.size() == pending_.size()) pending_ = std::move(copy);
}

FrameDecoder::Status FrameDecoder::need_more() {
  // Everything consumed: let go of the block so its owner can reuse it. An unfinished frame stays
  // where it is, for the next read to complete.
  if (pending_.empty()) pending_ = Slice();
  return Status::NeedMore;
}

FrameDecoder::Status FrameDecoder::next(Frame& out) {
  if (!error_.empty()) return Status::Error;
  if (partial_.empty() && pending_.size() >= kHeaderSize) {
    Header h = parse_header(pending_.data());
    if (auto problem = check_header(h); !problem.empty()) {
      error_ = problem;
      return Status::Error;
    }
    if (pending_.size() >= kHeaderSize + h.length) {  // whole frame in this block: no copy
      out.type = static_cast<FrameType>(h.type);
      out.payload = pending_.sub(kHeaderSize, h.length);
      pending_.remove_prefix(kHeaderSize + h.length);
      return Status::Frame;
    }
  }
  if (partial_.empty()) return need_more();  // the start of a frame: wait for the rest in place
  // Gather a split frame into partial_: first its header, then its payload.
  if (partial_.size() < kHeaderSize) {
    size_t want = std::min(kHeaderSize - partial_.size(), pending_.size());
    partial_.append(pending_.data() == nullptr ? "" : pending_.data(), want);
    pending_.remove_prefix(want);
    if (partial_.size() < kHeaderSize) return need_more();
  }
  Header h = parse_header(partial_.data());
  if (auto problem = check_header(h); !problem.empty()) {
    error_ = problem;
    return Status::Error;
  }
  size_t total = kHeaderSize + h.length;
  size_t want = std::min(total - partial_.size(), pending_.size());
  partial_.append(pending_.data() == nullptr ? "" : pending_.data(), want);
  pending_.remove_prefix(want);
  if (partial_.size() < total) return need_more();
  out.type = static_cast<FrameType>(h.type);
  out.payload = Slice::copy_of(std::string_view(partial_).substr(kHeaderSize));
  partial_.clear();
  return Status::Frame;
}

}  // namespace hvterm::wire
