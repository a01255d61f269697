#pragma once
// Splits an incoming byte stream into frames.
//
// Bytes arrive in Blocks (one per socket read); a frame wholly inside a block is handed out as a
// slice of it. A read that continues in the same block right after the previous one joins it
// without a copy, so a frame split across such reads is still a slice. Only a frame that crosses
// into another block is copied: by the reader, which moves the unfinished frame to the front of
// its next block (unfinished / relocate_unfinished), or else here, gathered into a block of
// exactly its size. The length field is checked against kMaxPayload before anything is allocated.
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
  // The start of a frame still waiting for the rest of its bytes, as held in the last block fed
  // (empty when there is none, or when it has been gathered already).
  const Slice& unfinished() const;
  // Bytes still missing from unfinished(): to the end of its header while that is incomplete,
  // else to the end of the frame; 0 when nothing is unfinished.
  size_t unfinished_missing() const;
  // The reader copied unfinished() elsewhere (the front of its next block): hold that instead.
  void relocate_unfinished(Slice copy);

 private:
  Status need_more();
  Slice pending_;        // unconsumed tail of the most recent block
  std::string partial_;  // bytes of a frame split across reads
  std::string error_;
};

}  // namespace hvterm::wire
