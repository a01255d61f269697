#pragma once
// Splits an incoming byte stream into frames.
//
// Bytes arrive in Blocks (one per socket read); a frame wholly inside a block is handed out as a
// slice of it, and only a frame split across reads is copied, into a block of exactly its size.
// The length field is checked against kMaxPayload before anything is allocated for it.
#include <string>

#include "protocol/codec.h"

namespace hvterm::wire {

class FrameDecoder {
 public:
  enum class Status { Frame, NeedMore, Error };

  // Append bytes read from the peer.
  void feed(Slice bytes);
  // Next complete frame, NeedMore, or Error (then `error()` says why; the stream is unusable).
  Status next(Frame& out);
  const std::string& error() const { return error_; }
  size_t buffered() const;

 private:
  Status need_more();
  Slice pending_;                  // unconsumed tail of the most recent block
  std::string partial_;            // bytes of a frame split across reads
  std::string error_;
};

}  // namespace hvterm::wire
