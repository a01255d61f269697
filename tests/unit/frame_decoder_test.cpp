// FrameDecoder (protocol/frame_decoder.h): reassembly across arbitrary read boundaries, limits
// checked from the header alone, and a clean, sticky error for anything malformed.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <utility>
#include <vector>

#include "protocol/codec.h"
#include "protocol/frame_decoder.h"

using namespace hvterm;
using namespace hvterm::wire;
using Status = FrameDecoder::Status;

namespace {

struct Decoded {
  std::vector<std::pair<FrameType, std::string>> frames;
  bool error = false;
};

// Drains every available frame into `into`; records an Error.
void drain(FrameDecoder& decoder, Decoded& into) {
  for (;;) {
    Frame frame;
    Status status = decoder.next(frame);
    if (status == Status::NeedMore) return;
    if (status == Status::Error) {
      into.error = true;
      return;
    }
    into.frames.emplace_back(frame.type, std::string(frame.payload.view()));
  }
}

// Feeds `stream` in the given chunk sizes (the rest as a final chunk), draining after each.
Decoded decode_in_chunks(const std::string& stream, const std::vector<size_t>& chunks) {
  FrameDecoder decoder;
  Decoded result;
  size_t at = 0;
  for (size_t n : chunks) {
    if (at >= stream.size()) break;
    n = std::min(n, stream.size() - at);
    decoder.feed(Slice::copy_of(std::string_view(stream).substr(at, n)));
    at += n;
    drain(decoder, result);
  }
  if (at < stream.size()) {
    decoder.feed(Slice::copy_of(std::string_view(stream).substr(at)));
    drain(decoder, result);
  }
  return result;
}

std::string header(uint8_t type, uint8_t b1, uint8_t b2, uint8_t b3, uint32_t length) {
  std::string h;
  h.push_back(static_cast<char>(type));
  h.push_back(static_cast<char>(b1));
  h.push_back(static_cast<char>(b2));
  h.push_back(static_cast<char>(b3));
  for (int i = 0; i < 4; ++i) h.push_back(static_cast<char>((length >> (8 * i)) & 0xFF));
  return h;
}

// A stream of assorted frames and the frames it should decode to.
std::pair<std::string, std::vector<std::pair<FrameType, std::string>>> sample_stream() {
  std::vector<std::pair<FrameType, std::string>> frames;
  Hello hello;
  hello.software = "hvterm test";
  std::string encoded = encode(hello);
  frames.emplace_back(FrameType::Hello, encoded.substr(kHeaderSize));
  frames.emplace_back(FrameType::Detach, "");
  frames.emplace_back(FrameType::Data, std::string("\x01\x00\x00\x00\x00\x00\x00\x00\x00payload", 16));
  frames.emplace_back(FrameType::Ping, std::string(8, '\x7f'));
  frames.emplace_back(FrameType::Ok, "");
  frames.emplace_back(FrameType::Error, std::string(300, 'e'));
  frames.emplace_back(FrameType::Collect, "z");
  std::string stream;
  for (const auto& [type, payload] : frames) stream += frame(type, payload);
  return {stream, frames};
}

}  // namespace

TEST_CASE("a whole frame in one block is handed out without a copy") {
  Slice block = Slice::copy_of(frame(FrameType::Signal, "\x0f"));
  FrameDecoder decoder;
  decoder.feed(block);
  Frame f;
  REQUIRE(decoder.next(f) == Status::Frame);
  CHECK(f.type == FrameType::Signal);
  CHECK(f.payload.view() == "\x0f");
  CHECK(f.payload.block() == block.block());
  CHECK(decoder.next(f) == Status::NeedMore);
  CHECK(decoder.buffered() == 0);
}

TEST_CASE("a frame split across reads into one block is still a slice of it") {
  Slice block = Slice::copy_of(frame(FrameType::Data, std::string(1000, 'd')) + frame(FrameType::Ok, ""));
  FrameDecoder decoder;
  Frame f;
  decoder.feed(block.sub(0, 5));  // part of the header
  CHECK(decoder.next(f) == Status::NeedMore);
  CHECK(decoder.unfinished().size() == 5);
  CHECK(decoder.unfinished_missing() == 3);  // the rest of the header
  decoder.feed(block.sub(5, 500));           // the read went on right after, in the same block
  CHECK(decoder.next(f) == Status::NeedMore);
  CHECK(decoder.unfinished_missing() == 1008 - 505);  // the rest of the frame
  decoder.feed(block.sub(505, block.size() - 505));
  REQUIRE(decoder.next(f) == Status::Frame);
  CHECK(f.payload.view() == std::string(1000, 'd'));
  CHECK(f.payload.block() == block.block());
  REQUIRE(decoder.next(f) == Status::Frame);
  CHECK(f.type == FrameType::Ok);
  CHECK(decoder.next(f) == Status::NeedMore);
  CHECK(decoder.buffered() == 0);
  CHECK(decoder.unfinished().empty());
  CHECK(decoder.unfinished_missing() == 0);
}

TEST_CASE("an unfinished frame moved to the front of the next block is completed there") {
  std::string stream = frame(FrameType::Data, std::string(3000, 'x'));
  Slice first = Slice::copy_of(std::string_view(stream).substr(0, 1200));
  FrameDecoder decoder;
  Frame f;
  decoder.feed(first);
  CHECK(decoder.next(f) == Status::NeedMore);
  REQUIRE(decoder.unfinished().size() == 1200);
  // What FramedConnection does when its block is used up: copy the start into the new block...
  Slice next = Slice::copy_of(stream);
  decoder.relocate_unfinished(next.sub(0, 1200));
  // ...and read the rest right behind it.
  decoder.feed(next.sub(1200, stream.size() - 1200));
  REQUIRE(decoder.next(f) == Status::Frame);
  CHECK(f.payload.view() == std::string(3000, 'x'));
  CHECK(f.payload.block() == next.block());
  CHECK(decoder.next(f) == Status::NeedMore);
  CHECK(decoder.buffered() == 0);
}

TEST_CASE("an empty decoder and empty feeds need more") {
  FrameDecoder decoder;
  Frame f;
  CHECK(decoder.next(f) == Status::NeedMore);
  decoder.feed(Slice());
  CHECK(decoder.next(f) == Status::NeedMore);
  decoder.feed(Slice::copy_of(""));
  CHECK(decoder.next(f) == Status::NeedMore);
  CHECK(decoder.buffered() == 0);
  CHECK(decoder.error().empty());
}

TEST_CASE("many frames in one block") {
  std::string stream;
  std::vector<std::string> payloads;
  for (int i = 0; i < 500; ++i) {
    payloads.push_back(std::string(static_cast<size_t>(i % 37), static_cast<char>('a' + i % 26)));
    stream += frame(FrameType::Data, payloads.back());
  }
  Decoded out = decode_in_chunks(stream, {stream.size()});
  CHECK_FALSE(out.error);
  REQUIRE(out.frames.size() == payloads.size());
  for (size_t i = 0; i < payloads.size(); ++i) {
    CHECK(out.frames[i].first == FrameType::Data);
    CHECK(out.frames[i].second == payloads[i]);
  }
}

TEST_CASE("frames split at every byte boundary reassemble identically") {
  auto [stream, expected] = sample_stream();
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    INFO("cut at " << cut);
    Decoded out = decode_in_chunks(stream, {cut});
    CHECK_FALSE(out.error);
    CHECK(out.frames == expected);
  }
  for (size_t a = 1; a < 40; ++a) {
    for (size_t b = 1; b < 40; b += 3) {
      INFO("two cuts " << a << ", " << a + b);
      Decoded out = decode_in_chunks(stream, {a, b});
      CHECK(out.frames == expected);
    }
  }
}

TEST_CASE("one byte at a time, and random chunkings") {
  auto [stream, expected] = sample_stream();
  Decoded bytewise = decode_in_chunks(stream, std::vector<size_t>(stream.size(), 1));
  CHECK_FALSE(bytewise.error);
  CHECK(bytewise.frames == expected);

  std::mt19937 rng(12345);
  for (int iteration = 0; iteration < 300; ++iteration) {
    std::vector<size_t> chunks;
    for (size_t total = 0; total < stream.size();) {
      size_t n = std::uniform_int_distribution<size_t>(1, 64)(rng);
      chunks.push_back(n);
      total += n;
    }
    Decoded out = decode_in_chunks(stream, chunks);
    INFO("iteration " << iteration);
    CHECK_FALSE(out.error);
    CHECK(out.frames == expected);
  }
}

TEST_CASE("a frame that was split survives its source blocks and the decoder") {
  std::string f = frame(FrameType::Data, std::string(1000, 'q'));
  Frame out;
  {
    FrameDecoder decoder;
    decoder.feed(Slice::copy_of(std::string_view(f).substr(0, 500)));
    REQUIRE(decoder.next(out) == Status::NeedMore);
    CHECK(decoder.buffered() == 500);
    decoder.feed(Slice::copy_of(std::string_view(f).substr(500)));
    REQUIRE(decoder.next(out) == Status::Frame);
    CHECK(decoder.buffered() == 0);
  }
  CHECK(out.payload.view() == std::string(1000, 'q'));
}

TEST_CASE("payload of exactly 64 KiB is accepted, whole or split") {
  std::string payload(kMaxPayload, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i * 7 + i / 256);
  std::string stream = frame(FrameType::Data, payload) + frame(FrameType::Ok, "");
  std::vector<std::pair<FrameType, std::string>> expected = {{FrameType::Data, payload}, {FrameType::Ok, ""}};
  CHECK(decode_in_chunks(stream, {stream.size()}).frames == expected);
  CHECK(decode_in_chunks(stream, {3}).frames == expected);
  CHECK(decode_in_chunks(stream, {8}).frames == expected);
  CHECK(decode_in_chunks(stream, {kHeaderSize + kMaxPayload - 1}).frames == expected);
  CHECK(decode_in_chunks(stream, std::vector<size_t>(100, 4096)).frames == expected);
}

TEST_CASE("payload of 64 KiB + 1 is rejected from the header alone") {
  for (uint32_t length : {static_cast<uint32_t>(kMaxPayload + 1), 0x00100000u, 0x7FFFFFFFu, 0xFFFFFFFFu}) {
    INFO("length " << length);
    SUBCASE("header in one block") {
      FrameDecoder decoder;
      decoder.feed(Slice::copy_of(header(0x05, 0, 0, 0, length)));
      Frame f;
      CHECK(decoder.next(f) == Status::Error);
      CHECK_FALSE(decoder.error().empty());
    }
    SUBCASE("header split in two") {
      FrameDecoder decoder;
      std::string h = header(0x05, 0, 0, 0, length);
      decoder.feed(Slice::copy_of(h.substr(0, 5)));
      Frame f;
      CHECK(decoder.next(f) == Status::NeedMore);
      decoder.feed(Slice::copy_of(h.substr(5)));
      CHECK(decoder.next(f) == Status::Error);
    }
    SUBCASE("after a valid frame in the same block") {
      FrameDecoder decoder;
      decoder.feed(Slice::copy_of(frame(FrameType::Ping, std::string(8, '\0')) + header(0x05, 0, 0, 0, length)));
      Frame f;
      CHECK(decoder.next(f) == Status::Frame);
      CHECK(decoder.next(f) == Status::Error);
    }
  }
}

TEST_CASE("frame types 1..last are accepted, 0 and anything above are not") {
  for (int type = 1; type <= kLastFrameType; ++type) {
    FrameDecoder decoder;
    decoder.feed(Slice::copy_of(header(static_cast<uint8_t>(type), 0, 0, 0, 0)));
    Frame f;
    INFO("type " << type);
    REQUIRE(decoder.next(f) == Status::Frame);
    CHECK(static_cast<int>(f.type) == type);
  }
  for (int type : {0, kLastFrameType + 1, 0x7F, 0x80, 0xFF}) {
    INFO("type " << type);
    FrameDecoder whole;
    whole.feed(Slice::copy_of(header(static_cast<uint8_t>(type), 0, 0, 0, 0)));
    Frame f;
    CHECK(whole.next(f) == Status::Error);
    CHECK_FALSE(whole.error().empty());

    FrameDecoder split;
    std::string h = header(static_cast<uint8_t>(type), 0, 0, 0, 4);
    split.feed(Slice::copy_of(h.substr(0, 1)));
    CHECK(split.next(f) == Status::NeedMore);
    split.feed(Slice::copy_of(h.substr(1)));
    CHECK(split.next(f) == Status::Error);
  }
}

TEST_CASE("nonzero reserved header bytes are rejected") {
  for (int which = 1; which <= 3; ++which) {
    for (int value : {1, 0x80, 0xFF}) {
      uint8_t b[3] = {0, 0, 0};
      b[which - 1] = static_cast<uint8_t>(value);
      INFO("byte " << which << " = " << value);
      FrameDecoder decoder;
      decoder.feed(Slice::copy_of(header(0x0B, b[0], b[1], b[2], 8) + std::string(8, '\0')));
      Frame f;
      CHECK(decoder.next(f) == Status::Error);
      CHECK_FALSE(decoder.error().empty());
    }
  }
}

TEST_CASE("after an error the decoder stays in error") {
  FrameDecoder decoder;
  decoder.feed(Slice::copy_of(header(0, 0, 0, 0, 0)));
  Frame f;
  REQUIRE(decoder.next(f) == Status::Error);
  std::string reason = decoder.error();
  CHECK_FALSE(reason.empty());
  CHECK(decoder.next(f) == Status::Error);
  decoder.feed(Slice::copy_of(frame(FrameType::Ok, "")));
  CHECK(decoder.next(f) == Status::Error);
  CHECK(decoder.next(f) == Status::Error);
  CHECK(decoder.error() == reason);
}

TEST_CASE("error reasons say what was wrong") {
  auto reason_for = [](const std::string& bytes) {
    FrameDecoder decoder;
    decoder.feed(Slice::copy_of(bytes));
    Frame f;
    REQUIRE(decoder.next(f) == Status::Error);
    return decoder.error();
  };
  CHECK(reason_for(header(0x42, 0, 0, 0, 0)).find("66") != std::string::npos);         // the type number
  CHECK(reason_for(header(0x05, 0, 0, 0, 65537)).find("65537") != std::string::npos);  // the length
  CHECK_FALSE(reason_for(header(0x05, 0, 1, 0, 0)).empty());
}

TEST_CASE("random garbage never crashes; it yields well-formed frames or a clean error") {
  std::mt19937 rng(20240601);
  int errors = 0, frames_seen = 0;
  for (int iteration = 0; iteration < 3000; ++iteration) {
    size_t length = std::uniform_int_distribution<size_t>(0, 600)(rng);
    std::string garbage(length, '\0');
    for (auto& c : garbage) c = static_cast<char>(rng() & 0xFF);
    // Bias some inputs toward plausible headers so the payload paths get exercised too.
    if (length >= kHeaderSize && rng() % 2 == 0) {
      garbage[0] = static_cast<char>(1 + rng() % kLastFrameType);
      garbage[1] = garbage[2] = garbage[3] = 0;
      uint32_t len = static_cast<uint32_t>(rng() % (length + 16));
      for (int i = 0; i < 4; ++i) garbage[4 + i] = static_cast<char>((len >> (8 * i)) & 0xFF);
    }
    FrameDecoder decoder;
    size_t at = 0, consumed = 0;
    bool failed = false;
    while (at < garbage.size() && !failed) {
      size_t n = std::min<size_t>(garbage.size() - at, 1 + rng() % 50);
      decoder.feed(Slice::copy_of(std::string_view(garbage).substr(at, n)));
      at += n;
      for (int guard = 0; guard < 10000; ++guard) {
        Frame f;
        Status status = decoder.next(f);
        if (status == Status::NeedMore) break;
        if (status == Status::Error) {
          failed = true;
          CHECK_FALSE(decoder.error().empty());
          CHECK(decoder.next(f) == Status::Error);
          break;
        }
        ++frames_seen;
        int type = static_cast<int>(f.type);
        REQUIRE(type >= 1);
        REQUIRE(type <= kLastFrameType);
        REQUIRE(f.payload.size() <= kMaxPayload);
        // The frame is exactly the bytes of the input at this point.
        REQUIRE(garbage.compare(consumed + kHeaderSize, f.payload.size(), f.payload.view()) == 0);
        consumed += kHeaderSize + f.payload.size();
      }
    }
    if (failed) ++errors;
    if (!failed) CHECK(consumed + decoder.buffered() == garbage.size());
  }
  CHECK(errors > 0);
  CHECK(frames_seen > 0);
}
