#include "session/replay_buffer.h"

namespace hvterm {

void ReplayBuffer::start_at(uint64_t position) {
  if (end_ != 0 || !chunks_.empty()) return;
  acked_ = sent_ = end_ = position;
}

void ReplayBuffer::append(Slice bytes) {
  if (bytes.empty() || finished_) return;
  end_ += bytes.size();
  chunks_.push_back(std::move(bytes));
}

bool ReplayBuffer::ack(uint64_t position) {
  uint64_t limit = sent_ + (eof_sent_ ? 1 : 0);
  if (position > limit) return false;
  if (position <= acked_) return true;  // old or repeated acknowledgement
  uint64_t bytes_position = std::min(position, end_);
  uint64_t drop = bytes_position - acked_;
  while (drop > 0 && !chunks_.empty()) {
    Slice& front = chunks_.front();
    if (front.size() <= drop) {
      drop -= front.size();
      chunks_.pop_front();
      if (send_chunk_ > 0) {
        --send_chunk_;
      } else {
        send_skip_ = 0;
      }
    } else {
      front.remove_prefix(static_cast<size_t>(drop));
      if (send_chunk_ == 0) send_skip_ -= static_cast<size_t>(drop);
      drop = 0;
    }
  }
  acked_ = position;
  return true;
}

bool ReplayBuffer::rewind(uint64_t position) {
  if (position < acked_ || position > end_ + (eof_sent_ ? 1 : 0)) return false;
  if (position == end_ + 1) {  // peer has everything including EOF
    ack(position);
    return true;
  }
  ack(position);
  sent_ = position;
  eof_sent_ = false;
  send_chunk_ = 0;
  send_skip_ = 0;
  return true;
}

bool ReplayBuffer::next(Slice& out, uint64_t& offset, size_t max) {
  if (sent_ == end_) return false;
  while (send_chunk_ < chunks_.size() && chunks_[send_chunk_].size() == send_skip_) {
    ++send_chunk_;
    send_skip_ = 0;
  }
  if (send_chunk_ >= chunks_.size()) return false;
  const Slice& chunk = chunks_[send_chunk_];
  size_t n = std::min(max, chunk.size() - send_skip_);
  out = chunk.sub(send_skip_, n);
  offset = sent_;
  send_skip_ += n;
  sent_ += n;
  return true;
}

int64_t ReceiveCursor::duplicate_prefix(uint64_t offset, size_t size) const {
  if (offset > received_ || eof_) return offset > received_ ? -1 : static_cast<int64_t>(size);
  return static_cast<int64_t>(std::min<uint64_t>(received_ - offset, size));
}

bool ReceiveCursor::eof_at(uint64_t offset) {
  if (offset != received_) return false;
  eof_ = true;
  return true;
}

}  // namespace hvterm
