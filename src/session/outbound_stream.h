#pragma once
// OutboundStream: the sending end of one resumable stream (the agent's stdout and stderr, the
// client's stdin). A ReplayBuffer that keeps every byte until the peer acknowledges it, plus the
// one way its bytes and its EOF go out on whichever connection is current.
#include "protocol/codec.h"
#include "protocol/wire.h"
#include "session/replay_buffer.h"

namespace hvterm {

class OutboundStream : public ReplayBuffer {
 public:
  OutboundStream(wire::Stream stream, size_t capacity) : ReplayBuffer(capacity), stream_(stream) {}

  // Sends what is due: DATA frames of at most kMaxDataBytes, then the EOF once every byte is out.
  // `Sink` is FramedConnection or a test's recorder: send_data(stream, offset, Slice) and
  // send(std::string frame). A PTY session's stdin has no EOF frame (^D is a byte): `with_eof` false.
  template <class Sink>
  void pump(Sink& sink, bool with_eof = true) {
    Slice bytes;
    uint64_t offset;
    while (next(bytes, offset, wire::kMaxDataBytes)) sink.send_data(stream_, offset, bytes);
    if (with_eof && eof_due()) {
      sink.send(wire::encode_eof(stream_, end()));
      mark_eof_sent();
    }
  }

  wire::Stream stream() const { return stream_; }

 private:
  wire::Stream stream_;
};

}  // namespace hvterm
