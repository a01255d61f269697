#include "session/replay_buffer.h"

namespace hvterm {

void ReplayBuffer::start_at(uint64_t position) {
  if (sent_ != 0 || acked_ != 0) return;
  // Bytes may already wait here (typed before the session answered): they follow `position`.
  end_ += position;
  acked_ = sent_ = high_water_ = position;
}

void ReplayBuffer::restart_at(uint64_t position) {
  chunks_.clear();
  send_chunk_ = send_skip_ = 0;
  acked_ = sent_ = end_ = high_water_ = position;
  finished_ = eof_sent_ = false;
}

void ReplayBuffer::append(Slice bytes) {
  if (bytes.empty() || finished_) return;
  end_ += bytes.size();
  chunks_.push_back(std::move(bytes));
}

bool ReplayBuffer::append_before_eof(Slice bytes) {
  if (acked_ > end_) return false;
  if (!finished_) return (append(std::move(bytes)), true);
  finished_ = false;
  append(std::move(bytes));
  finished_ = true;
  if (sent_ < end_) eof_sent_ = false;  // the EOF goes out again, behind these bytes
  return true;
}

bool ReplayBuffer::ack(uint64_t position) {
  if (position > sent_ + (eof_sent_ ? 1 : 0)) return false;
  trim(position);
  return true;
}

void ReplayBuffer::trim(uint64_t position) {
  if (position <= acked_) return;  // old or repeated acknowledgement
  uint64_t drop = std::min(position, end_) - std::min(acked_, end_);
  uint64_t at = std::min(acked_, end_);
  while (drop > 0 && !chunks_.empty()) {
    Slice& front = chunks_.front();
    if (release_observer_) {
      size_t part = static_cast<size_t>(std::min<uint64_t>(drop, front.size()));
      release_observer_(at, std::string_view(front.data(), part));
      at += part;
    }
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
      if (send_chunk_ == 0) send_skip_ = send_skip_ > drop ? send_skip_ - static_cast<size_t>(drop) : 0;
      drop = 0;
    }
  }
  acked_ = position;
}

void ReplayBuffer::discard_unacked() {
  high_water_ = std::max(high_water_, end_);
  trim(end_);
  sent_ = end_;
  send_chunk_ = 0;
  send_skip_ = 0;
}

bool ReplayBuffer::rewind(uint64_t position) {
  // A peer may hold anything that was ever transmitted (perhaps on an older connection, before
  // another client's fresh attach rewound us), but nothing beyond that.
  if (position < acked_ || position > high_water_) return false;
  trim(position);
  sent_ = std::min(position, end_);
  eof_sent_ = position == end_ + 1;
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
  high_water_ = std::max(high_water_, sent_);
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
