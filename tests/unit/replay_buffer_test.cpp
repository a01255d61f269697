// ReplayBuffer and ReceiveCursor (session/replay_buffer.h): byte offsets, acknowledgements,
// rewind after reconnect, EOF as one position, flow control — and a randomized model of a
// lossy connection, run on the stream ends both programs use (OutboundStream, InboundStream),
// that proves nothing is lost or duplicated.
#include <doctest/doctest.h>

#include <deque>
#include <random>
#include <string>
#include <variant>

#include "protocol/codec.h"
#include "session/inbound_stream.h"
#include "session/outbound_stream.h"
#include "session/replay_buffer.h"

using namespace hvterm;

namespace {

// Drains everything sendable, max bytes per call; checks offsets are contiguous.
std::string send_all(ReplayBuffer& buffer, size_t max = 1 << 20) {
  std::string out;
  Slice slice;
  uint64_t offset = 0;
  while (buffer.next(slice, offset, max)) {
    CHECK(offset == buffer.sent() - slice.size());
    CHECK(slice.size() <= max);
    CHECK(slice.size() > 0);
    out.append(slice.view());
  }
  return out;
}

// Sends up to n bytes (in one or more chunks) and returns them.
std::string take(ReplayBuffer& buffer, size_t n) {
  std::string out;
  Slice slice;
  uint64_t offset = 0;
  while (out.size() < n && buffer.next(slice, offset, n - out.size())) out.append(slice.view());
  return out;
}

}  // namespace

TEST_CASE("ReplayBuffer: a fresh buffer has nothing to send") {
  ReplayBuffer buffer(100);
  Slice slice;
  uint64_t offset = 99;
  CHECK_FALSE(buffer.next(slice, offset, 10));
  CHECK(buffer.acked() == 0);
  CHECK(buffer.sent() == 0);
  CHECK(buffer.end() == 0);
  CHECK(buffer.unacked() == 0);
  CHECK_FALSE(buffer.full());
  CHECK_FALSE(buffer.eof_due());
  CHECK_FALSE(buffer.finished());
  CHECK_FALSE(buffer.fully_acked());
  CHECK(buffer.capacity() == 100);
}

TEST_CASE("ReplayBuffer: offsets follow the bytes across chunks and size limits") {
  ReplayBuffer buffer(1000);
  Slice first = Slice::copy_of("hello ");
  buffer.append(first);
  buffer.append(Slice::copy_of("wide "));
  buffer.append(Slice::copy_of("world"));
  CHECK(buffer.end() == 16);

  Slice slice;
  uint64_t offset = 0;
  REQUIRE(buffer.next(slice, offset, 4));
  CHECK(offset == 0);
  CHECK(slice.view() == "hell");
  CHECK(slice.block() == first.block());  // retransmission keeps references, not copies
  REQUIRE(buffer.next(slice, offset, 100));
  CHECK(offset == 4);
  CHECK(slice.view() == "o ");  // never crosses into the next chunk
  REQUIRE(buffer.next(slice, offset, 100));
  CHECK(offset == 6);
  CHECK(slice.view() == "wide ");
  REQUIRE(buffer.next(slice, offset, 1));
  CHECK(offset == 11);
  CHECK(slice.view() == "w");
  CHECK(send_all(buffer, 3) == "orld");
  CHECK(buffer.sent() == 16);
  CHECK_FALSE(buffer.next(slice, offset, 100));

  buffer.append(Slice::copy_of("!"));
  REQUIRE(buffer.next(slice, offset, 100));
  CHECK(offset == 16);
  CHECK(slice.view() == "!");
}

TEST_CASE("ReplayBuffer: empty appends and appends after finish are ignored") {
  ReplayBuffer buffer(100);
  buffer.append(Slice());
  buffer.append(Slice::copy_of(""));
  CHECK(buffer.end() == 0);
  buffer.append(Slice::copy_of("ab"));
  buffer.finish();
  buffer.append(Slice::copy_of("cd"));
  CHECK(buffer.end() == 2);
  CHECK(buffer.finished());
  CHECK(send_all(buffer) == "ab");
}

TEST_CASE("ReplayBuffer: acknowledgements trim, repeat acks are harmless, acks beyond sent are refused") {
  ReplayBuffer buffer(100);
  buffer.append(Slice::copy_of("0123456789"));
  buffer.append(Slice::copy_of("abcdef"));
  Slice slice;
  uint64_t offset;
  REQUIRE(buffer.next(slice, offset, 12));  // "0123456789"
  REQUIRE(buffer.next(slice, offset, 2));   // "ab"
  CHECK(buffer.sent() == 12);

  CHECK_FALSE(buffer.ack(13));  // never sent
  CHECK_FALSE(buffer.ack(17));  // EOF position, not sent
  CHECK(buffer.acked() == 0);

  CHECK(buffer.ack(4));
  CHECK(buffer.acked() == 4);
  CHECK(buffer.unacked() == 12);
  CHECK(buffer.ack(4));
  CHECK(buffer.ack(2));  // old acknowledgement
  CHECK(buffer.acked() == 4);

  CHECK(buffer.ack(11));  // across the chunk boundary, into the chunk being sent
  CHECK(buffer.acked() == 11);
  REQUIRE(buffer.next(slice, offset, 100));
  CHECK(offset == 12);
  CHECK(slice.view() == "cdef");
  CHECK(buffer.ack(16));
  CHECK(buffer.unacked() == 0);
  CHECK_FALSE(buffer.fully_acked());  // no EOF yet
}

TEST_CASE("ReplayBuffer: rewind resends exactly the unacknowledged bytes") {
  ReplayBuffer buffer(1000);
  std::string all;
  for (int i = 0; i < 10; ++i) {
    std::string chunk(static_cast<size_t>(3 + i), static_cast<char>('A' + i));
    all += chunk;
    buffer.append(Slice::copy_of(chunk));
  }
  CHECK(send_all(buffer, 5) == all);
  REQUIRE(buffer.ack(9));

  SUBCASE("peer holds more than it acknowledged") {
    // Reconnect: the peer says it holds 20 bytes.
    REQUIRE(buffer.rewind(20));
    CHECK(buffer.acked() == 20);
    CHECK(buffer.sent() == 20);
    Slice slice;
    uint64_t offset;
    REQUIRE(buffer.next(slice, offset, 100));
    CHECK(offset == 20);
    CHECK(send_all(buffer) == all.substr(20 + slice.size()));
  }
  SUBCASE("peer holds exactly what it acknowledged") {
    REQUIRE(buffer.rewind(9));
    CHECK(send_all(buffer, 7) == all.substr(9));
  }
  SUBCASE("rewind twice without sending in between") {
    REQUIRE(buffer.rewind(15));
    REQUIRE(buffer.rewind(15));
    CHECK(send_all(buffer) == all.substr(15));
  }
  SUBCASE("peer holds everything") {
    REQUIRE(buffer.rewind(all.size()));
    CHECK(send_all(buffer).empty());
    CHECK(buffer.unacked() == 0);
  }
  SUBCASE("positions we no longer hold, or never had") {
    CHECK_FALSE(buffer.rewind(8));                  // before what was acknowledged
    CHECK_FALSE(buffer.rewind(all.size() + 1));     // EOF never sent
    CHECK_FALSE(buffer.rewind(all.size() + 1000));  // beyond anything
    CHECK(buffer.acked() == 9);
    CHECK(buffer.sent() == all.size());
  }
}

TEST_CASE("ReplayBuffer: rewind in the middle of a partly sent chunk") {
  ReplayBuffer buffer(1000);
  buffer.append(Slice::copy_of("abcdefghij"));
  Slice slice;
  uint64_t offset;
  REQUIRE(buffer.next(slice, offset, 7));
  REQUIRE(buffer.rewind(3));
  REQUIRE(buffer.next(slice, offset, 2));
  CHECK(offset == 3);
  CHECK(slice.view() == "de");
  REQUIRE(buffer.ack(4));
  REQUIRE(buffer.next(slice, offset, 100));
  CHECK(offset == 5);
  CHECK(slice.view() == "fghij");
}

TEST_CASE("ReplayBuffer: a resume may name a position sent before another client's fresh attach") {
  // Client A received "0123456789" but acknowledged only 6; client B attached afresh (rewind to 6)
  // and left before anything was resent; A now resumes holding everything up to 10.
  ReplayBuffer buffer(1024);
  buffer.append(Slice::copy_of("0123456789abc"));
  std::string first = take(buffer, 10);
  CHECK(first == "0123456789");
  REQUIRE(buffer.ack(6));
  REQUIRE(buffer.rewind(6));   // B's fresh attach
  REQUIRE(buffer.rewind(10));  // A's resume: beyond what was sent since, but not beyond ever
  Slice slice;
  uint64_t offset = 0;
  REQUIRE(buffer.next(slice, offset, 100));
  CHECK(offset == 10);
  CHECK(slice.view() == "abc");
  CHECK(buffer.position() == 13);
  // Nothing beyond what was ever transmitted can be claimed.
  ReplayBuffer other(1024);
  other.append(Slice::copy_of("0123456789"));
  take(other, 4);
  CHECK_FALSE(other.rewind(7));
}

TEST_CASE("ReplayBuffer: EOF takes one position") {
  ReplayBuffer buffer(100);
  buffer.append(Slice::copy_of("xyz"));
  buffer.finish();
  CHECK_FALSE(buffer.eof_due());  // bytes first
  CHECK(send_all(buffer) == "xyz");
  CHECK(buffer.eof_due());
  CHECK_FALSE(buffer.ack(4));  // EOF not yet sent
  buffer.mark_eof_sent();
  CHECK_FALSE(buffer.eof_due());
  CHECK_FALSE(buffer.ack(5));

  SUBCASE("acknowledged bytes, then the EOF") {
    CHECK(buffer.ack(3));
    CHECK_FALSE(buffer.fully_acked());
    CHECK(buffer.unacked() == 0);
    CHECK(buffer.ack(4));
    CHECK(buffer.fully_acked());
    CHECK(buffer.acked() == 4);
    CHECK(buffer.unacked() == 0);
  }
  SUBCASE("reconnect: the peer has the EOF") {
    CHECK(buffer.rewind(4));
    CHECK(buffer.fully_acked());
    CHECK_FALSE(buffer.eof_due());
  }
  SUBCASE("reconnect: the peer lost the EOF") {
    CHECK(buffer.rewind(3));
    CHECK(buffer.eof_due());  // send it again
    CHECK(send_all(buffer).empty());
  }
  SUBCASE("reconnect: the peer lost a byte and the EOF") {
    CHECK(buffer.rewind(2));
    CHECK_FALSE(buffer.eof_due());
    CHECK(send_all(buffer) == "z");
    CHECK(buffer.eof_due());
  }
}

TEST_CASE("ReplayBuffer: an empty stream is just an EOF") {
  ReplayBuffer buffer(100);
  buffer.finish();
  CHECK(buffer.eof_due());
  buffer.mark_eof_sent();
  CHECK(buffer.ack(1));
  CHECK(buffer.fully_acked());
}

TEST_CASE("ReplayBuffer: flow control counts everything not yet acknowledged") {
  ReplayBuffer buffer(10);
  buffer.append(Slice::copy_of("123456"));
  CHECK(buffer.unacked() == 6);  // unsent bytes count as well
  CHECK_FALSE(buffer.full());
  buffer.append(Slice::copy_of("7890"));
  CHECK(buffer.unacked() == 10);
  CHECK(buffer.full());
  send_all(buffer);
  CHECK(buffer.full());
  REQUIRE(buffer.ack(1));
  CHECK(buffer.unacked() == 9);
  CHECK_FALSE(buffer.full());
  buffer.append(Slice::copy_of("abcdef"));  // the producer may overshoot by one read
  CHECK(buffer.unacked() == 15);
  CHECK(buffer.full());
  REQUIRE(buffer.ack(10));
  CHECK(buffer.unacked() == 6);
  CHECK_FALSE(buffer.full());
}

TEST_CASE("ReplayBuffer: start_at continues a stream the peer already holds") {
  ReplayBuffer buffer(100);
  buffer.start_at(1000);
  CHECK(buffer.acked() == 1000);
  CHECK(buffer.sent() == 1000);
  CHECK(buffer.end() == 1000);
  CHECK(buffer.unacked() == 0);
  buffer.append(Slice::copy_of("abc"));
  CHECK(buffer.unacked() == 3);
  Slice slice;
  uint64_t offset = 0;
  REQUIRE(buffer.next(slice, offset, 100));
  CHECK(offset == 1000);
  CHECK(slice.view() == "abc");
  CHECK_FALSE(buffer.ack(1004));
  CHECK(buffer.ack(1002));
  CHECK_FALSE(buffer.rewind(1001));
  CHECK(buffer.rewind(1002));
  CHECK(send_all(buffer) == "c");

  buffer.start_at(5);  // only before any append: ignored now
  CHECK(buffer.end() == 1003);
  CHECK(buffer.acked() == 1002);
}

TEST_CASE("ReplayBuffer: restart_at forgets everything and numbers from the new position") {
  ReplayBuffer buffer(100);
  buffer.append(Slice::copy_of("abcdef"));
  take(buffer, 4);
  buffer.restart_at(0);
  CHECK(buffer.unacked() == 0);
  CHECK_FALSE(buffer.ack(1));  // nothing was sent in the new numbering
  buffer.append(Slice::copy_of("xy"));
  Slice slice;
  uint64_t offset = 7;
  REQUIRE(buffer.next(slice, offset, 100));
  CHECK(offset == 0);
  CHECK(slice.view() == "xy");
  CHECK_FALSE(buffer.rewind(3));
  buffer.restart_at(50);
  CHECK(buffer.acked() == 50);
  CHECK(buffer.end() == 50);
  buffer.append(Slice::copy_of("z"));
  REQUIRE(buffer.next(slice, offset, 100));
  CHECK(offset == 50);
  std::string held;
  buffer.for_each_unacked([&held](const Slice& bytes) { held += bytes.view(); });
  CHECK(held == "z");
}

TEST_CASE("ReplayBuffer: every byte let go of is reported once, in order, acknowledged or discarded") {
  ReplayBuffer buffer(1 << 20);
  std::string released;
  uint64_t next_offset = 0;
  buffer.observe_release([&](uint64_t offset, std::string_view bytes) {
    CHECK(offset == next_offset);
    next_offset += bytes.size();
    released.append(bytes);
  });
  buffer.append(Slice::copy_of("hello "));
  buffer.append(Slice::copy_of("world"));
  CHECK(take(buffer, 8) == "hello wo");
  CHECK(buffer.ack(3));
  CHECK(released == "hel");
  CHECK(buffer.ack(3));  // a repeat lets go of nothing more
  CHECK(released == "hel");

  SUBCASE("discarding lets go of the rest, sent or not, and nothing is left to send") {
    buffer.append(Slice::copy_of("!"));
    buffer.discard_unacked();
    CHECK(released == "hello world!");
    CHECK(buffer.unacked() == 0);
    CHECK(buffer.acked() == 12);
    CHECK(send_all(buffer).empty());
    SUBCASE("and what comes after is sent from the end, where a fresh attach starts") {
      buffer.append(Slice::copy_of("new"));
      CHECK(buffer.rewind(12));
      CHECK(send_all(buffer) == "new");
      CHECK(buffer.ack(15));
      CHECK(released == "hello world!new");
    }
    SUBCASE("a resume from a position it let go of is refused") { CHECK_FALSE(buffer.rewind(8)); }
  }
  SUBCASE("a finished stream still owes its EOF after a discard") {
    buffer.finish();
    buffer.discard_unacked();
    CHECK(buffer.eof_due());
    REQUIRE(buffer.end() == 11);
    SUBCASE("and bytes may still go before it: the EOF moves behind them") {
      CHECK(buffer.append_before_eof(Slice::copy_of("screen")));
      CHECK_FALSE(buffer.eof_due());
      CHECK(send_all(buffer) == "screen");
      CHECK(buffer.eof_due());
      CHECK(buffer.end() == 17);
    }
    SUBCASE("but not once the EOF was acknowledged") {
      buffer.mark_eof_sent();
      CHECK(buffer.ack(11 + 1));
      CHECK_FALSE(buffer.append_before_eof(Slice::copy_of("late")));
      CHECK(buffer.end() == 11);
    }
  }
}

TEST_CASE("ReceiveCursor: duplicates, gaps, EOF") {
  ReceiveCursor cursor;
  CHECK(cursor.position() == 0);
  CHECK(cursor.duplicate_prefix(0, 5) == 0);
  CHECK(cursor.duplicate_prefix(1, 5) == -1);

  cursor.received(5);
  CHECK(cursor.received_bytes() == 5);
  CHECK(cursor.position() == 5);
  CHECK(cursor.duplicate_prefix(0, 5) == 5);  // an entire retransmit
  CHECK(cursor.duplicate_prefix(0, 8) == 5);  // overlapping: 3 new bytes
  CHECK(cursor.duplicate_prefix(3, 4) == 2);
  CHECK(cursor.duplicate_prefix(1, 2) == 2);  // wholly inside what we have
  CHECK(cursor.duplicate_prefix(5, 3) == 0);  // exactly next
  CHECK(cursor.duplicate_prefix(6, 1) == -1);
  CHECK(cursor.duplicate_prefix(1000000, 1) == -1);

  CHECK_FALSE(cursor.eof_at(4));  // EOF cannot come before bytes we hold
  CHECK_FALSE(cursor.eof_at(6));  // bytes missing before it
  CHECK_FALSE(cursor.eof());
  CHECK(cursor.eof_at(5));
  CHECK(cursor.eof());
  CHECK(cursor.position() == 6);
  CHECK(cursor.eof_at(5));  // a retransmitted EOF
  CHECK(cursor.duplicate_prefix(0, 5) == 5);
  CHECK(cursor.duplicate_prefix(2, 3) == 3);
  CHECK(cursor.duplicate_prefix(3, 4) == 4);  // bytes after the EOF are never taken as new
  CHECK(cursor.duplicate_prefix(5, 3) == 3);
  CHECK(cursor.duplicate_prefix(7, 1) == -1);

  CHECK(cursor.ack_position() == 0);
  cursor.consumed(3);
  CHECK(cursor.ack_position() == 3);
  cursor.consumed(2);
  CHECK(cursor.ack_position() == 5);
  cursor.consumed_eof();
  CHECK(cursor.ack_position() == 6);
}

TEST_CASE("ReceiveCursor: reset_to starts from the peer's position") {
  ReceiveCursor cursor;
  cursor.received(3);
  cursor.consumed(1);
  cursor.reset_to(100);
  CHECK(cursor.position() == 100);
  CHECK(cursor.received_bytes() == 100);
  CHECK(cursor.ack_position() == 100);
  CHECK(cursor.duplicate_prefix(100, 5) == 0);
  CHECK(cursor.duplicate_prefix(98, 5) == 2);
  CHECK(cursor.duplicate_prefix(101, 5) == -1);
  CHECK(cursor.eof_at(100));
  CHECK(cursor.position() == 101);
}

namespace {

// One direction of a bridged stream over a connection that is cut at random points. Everything
// in flight is lost on a cut; on reconnect the receiver states what it holds and the sender
// rewinds there (DESIGN §5, "Persistence and resume").
struct LossyModel {
  struct DataMsg {
    uint64_t offset;
    std::string bytes;
  };
  struct EofMsg {
    uint64_t offset;
  };
  using ToReceiver = std::variant<DataMsg, EofMsg>;

  // Takes the frames OutboundStream::pump sends as FramedConnection would, onto the wire.
  struct Wire {
    std::deque<ToReceiver>& forward;
    void send_data(wire::Stream stream, uint64_t offset, const Slice& bytes) {
      REQUIRE(stream == wire::Stream::Stdin);
      REQUIRE(bytes.size() <= wire::kMaxDataBytes);
      forward.push_back(DataMsg{offset, std::string(bytes.view())});
    }
    void send(const std::string& frame) {
      REQUIRE(frame.size() > wire::kHeaderSize);
      REQUIRE(static_cast<wire::FrameType>(frame[0]) == wire::FrameType::Eof);
      wire::Stream stream;
      uint64_t offset;
      REQUIRE(wire::decode_stream_offset(std::string_view(frame).substr(wire::kHeaderSize), stream, offset));
      forward.push_back(EofMsg{offset});
    }
  };

  std::mt19937 rng;
  std::string input;
  size_t produced = 0;
  OutboundStream sender;
  InboundStream receiver;
  std::string delivered;  // what the receiver handed to its consumer, in order
  size_t consumed_bytes = 0;
  bool eof_delivered = false;
  std::deque<ToReceiver> forward;  // in flight, sender → receiver
  std::deque<uint64_t> acks;       // in flight, receiver → sender
  int cuts = 0, duplicates_trimmed = 0;

  LossyModel(uint32_t seed, size_t size, size_t capacity) : rng(seed), sender(wire::Stream::Stdin, capacity) {
    input.resize(size);
    for (auto& c : input) c = static_cast<char>(rng() & 0xFF);
  }
  size_t rand(size_t lo, size_t hi) { return std::uniform_int_distribution<size_t>(lo, hi)(rng); }

  void produce() {
    if (produced == input.size() && !sender.finished()) sender.finish();
    if (sender.full() || produced == input.size()) return;
    size_t n = std::min(rand(1, 300), input.size() - produced);
    sender.append(Slice::copy_of(std::string_view(input).substr(produced, n)));
    produced += n;
    if (produced == input.size()) sender.finish();
  }
  void transmit() {
    Wire out{forward};
    sender.pump(out);
  }
  void receive() {
    if (forward.empty()) return;
    ToReceiver msg = std::move(forward.front());
    forward.pop_front();
    if (auto* data = std::get_if<DataMsg>(&msg)) {
      std::string problem;
      auto fresh = receiver.fresh_part(data->offset, Slice::copy_of(data->bytes), problem);
      REQUIRE_MESSAGE(fresh, problem);  // a FIFO connection plus correct rewinds never leaves a gap
      if (fresh->size() < data->bytes.size()) ++duplicates_trimmed;
      delivered.append(fresh->view());
      receiver.received(fresh->size());
    } else {
      REQUIRE(receiver.eof_at(std::get<EofMsg>(msg).offset));
    }
  }
  void consume() {
    if (consumed_bytes < delivered.size()) {
      size_t n = rand(1, delivered.size() - consumed_bytes);
      receiver.consumed(n);
      consumed_bytes += n;
    } else if (receiver.eof() && !eof_delivered) {
      receiver.consumed_eof();
      eof_delivered = true;
    }
  }
  void acknowledge() { acks.push_back(receiver.ack_position()); }
  void take_ack() {
    if (acks.empty()) return;
    REQUIRE(sender.ack(acks.front()));
    acks.pop_front();
  }
  void cut_and_reconnect() {
    ++cuts;
    forward.clear();
    acks.clear();
    uint64_t stated = receiver.position();  // what the client and the agent state on resume
    REQUIRE(sender.rewind(stated));
    REQUIRE(sender.acked() == stated);
    REQUIRE(sender.sent() == std::min<uint64_t>(stated, sender.end()));
  }
  bool done() const { return sender.fully_acked() && eof_delivered; }

  void run(int cut_per_mille) {
    for (long step = 0; !done(); ++step) {
      REQUIRE(step < 10000000);
      switch (rand(0, 9)) {
        case 0:
        case 1: produce(); break;
        case 2:
        case 3:
        case 4: transmit(); break;
        case 5:
        case 6: receive(); break;
        case 7: consume(); break;
        case 8:
          if (rand(0, 3) == 0) acknowledge();
          break;
        case 9: take_ack(); break;
      }
      if (rand(0, 999) < static_cast<size_t>(cut_per_mille)) cut_and_reconnect();
      // Invariants that hold at every step.
      REQUIRE(delivered.size() == receiver.received_bytes());
      REQUIRE(delivered.size() <= sender.end());
      REQUIRE(sender.acked() <= receiver.position());
      REQUIRE(input.compare(0, delivered.size(), delivered) == 0);  // no loss, no duplication so far
    }
  }
};

}  // namespace

TEST_CASE("lossy connection model: the receiver gets the input exactly once, in order") {
  for (uint32_t seed = 1; seed <= 60; ++seed) {
    size_t size = seed % 7 == 0 ? 0 : 1 + (seed * 7919) % 20000;
    size_t capacity = 1 + (seed * 104729) % 4096;
    int cut_rate = static_cast<int>(seed % 5) * 3;  // 0..12 per mille per step
    INFO("seed " << seed << ", " << size << " bytes, capacity " << capacity << ", cut rate " << cut_rate);
    LossyModel model(seed, size, capacity);
    model.run(cut_rate);
    CHECK(model.delivered == model.input);
    CHECK(model.receiver.eof());
    CHECK(model.receiver.position() == size + 1);
    CHECK(model.sender.acked() == size + 1);
    CHECK(model.sender.unacked() == 0);
    if (cut_rate >= 6 && size > 5000) {
      CHECK(model.cuts > 0);  // the interesting path was taken
    }
  }
}

TEST_CASE("lossy connection model: frequent cuts and a tiny replay buffer") {
  int cuts = 0;
  for (uint32_t seed = 100; seed < 120; ++seed) {
    LossyModel model(seed, 30000, 1 + seed % 16);
    model.run(30);
    CHECK(model.delivered == model.input);
    CHECK(model.duplicates_trimmed == 0);  // exact resume positions never cause a retransmit overlap
    cuts += model.cuts;
  }
  CHECK(cuts > 1000);
}

TEST_CASE("OutboundStream: pump sends the due bytes in frames of at most kMaxDataBytes, then the EOF once") {
  struct Recorder {
    std::vector<std::pair<uint64_t, size_t>> data;
    std::vector<std::string> frames;
    void send_data(wire::Stream stream, uint64_t offset, const Slice& bytes) {
      CHECK(stream == wire::Stream::Stdout);
      data.emplace_back(offset, bytes.size());
    }
    void send(const std::string& frame) { frames.push_back(frame); }
  } out;
  OutboundStream stream(wire::Stream::Stdout, 1 << 20);
  stream.append(Slice::copy_of(std::string(wire::kMaxDataBytes + 10, 'x')));
  stream.pump(out);
  CHECK(out.data == std::vector<std::pair<uint64_t, size_t>>{{0, wire::kMaxDataBytes}, {wire::kMaxDataBytes, 10}});
  CHECK(out.frames.empty());  // not finished: no EOF
  stream.finish();
  stream.pump(out, false);
  CHECK(out.frames.empty());  // a PTY's stdin: no EOF frame
  stream.pump(out);
  REQUIRE(out.frames.size() == 1);
  CHECK(out.frames[0] == wire::encode_eof(wire::Stream::Stdout, wire::kMaxDataBytes + 10));
  stream.pump(out);
  CHECK(out.frames.size() == 1);  // once
  CHECK(stream.all_sent());
}

TEST_CASE("InboundStream: a resend's repeated prefix is trimmed, a gap is refused, nothing counts until received") {
  InboundStream stream;
  std::string problem;
  auto fresh = stream.fresh_part(0, Slice::copy_of("hello"), problem);
  REQUIRE(fresh);
  CHECK(fresh->view() == "hello");
  CHECK(stream.received_bytes() == 0);
  stream.received(5);
  fresh = stream.fresh_part(3, Slice::copy_of("lo, world"), problem);
  REQUIRE(fresh);
  CHECK(fresh->view() == ", world");
  fresh = stream.fresh_part(0, Slice::copy_of("hel"), problem);
  REQUIRE(fresh);
  CHECK(fresh->empty());
  CHECK_FALSE(stream.fresh_part(6, Slice::copy_of("x"), problem));
  CHECK(problem == "DATA at offset 6 leaves a gap after 5");
}

TEST_CASE("InboundStream: acknowledge a quarter window at once, less after the delay, nothing twice") {
  InboundStream stream;
  using Due = InboundStream::AckDue;
  CHECK(stream.ack_due(false) == Due::No);
  CHECK(stream.ack_due(true) == Due::No);
  stream.received(kAckEvery);
  stream.consumed(100);
  CHECK(stream.ack_due(false) == Due::Later);
  CHECK(stream.ack_due(true) == Due::Now);
  stream.consumed(kAckEvery - 100);
  CHECK(stream.ack_due(false) == Due::Now);
  stream.ack_sent();
  CHECK(stream.ack_due(true) == Due::No);
  stream.eof_at(kAckEvery);
  stream.consumed_eof();
  CHECK(stream.ack_due(false) == Due::Later);  // the EOF alone: the caller forces it when due
  CHECK(stream.ack_due(true) == Due::Now);
  // A new connection that SESSION told where we stand needs no ACK for that.
  stream.acks_start_at(stream.ack_position());
  CHECK(stream.ack_due(true) == Due::No);
  stream.acks_start_at(0);
  CHECK(stream.ack_due(false) == Due::Now);
}
