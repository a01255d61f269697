// Message codec (protocol/codec.h, protocol/wire.h): byte layout, round trips, and rejection of
// every malformed payload shape.
#include <doctest/doctest.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "alloc_probe.h"
#include "protocol/codec.h"

using namespace hvterm;
using namespace hvterm::wire;

namespace {

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (int v : values) out.push_back(static_cast<char>(v));
  return out;
}

std::string le16(uint16_t v) { return bytes({v & 0xFF, v >> 8}); }
std::string le32(uint32_t v) {
  std::string out;
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return out;
}
std::string le64(uint64_t v) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return out;
}
std::string str16(const std::string& s) { return le16(static_cast<uint16_t>(s.size())) + s; }

// Checks the header of a whole encoded frame and returns its payload.
std::string payload_of(const std::string& frame, FrameType expected) {
  REQUIRE(frame.size() >= kHeaderSize);
  CHECK(static_cast<uint8_t>(frame[0]) == static_cast<uint8_t>(expected));
  CHECK(frame.substr(1, 3) == bytes({0, 0, 0}));
  CHECK(frame.substr(4, 4) == le32(static_cast<uint32_t>(frame.size() - kHeaderSize)));
  return frame.substr(kHeaderSize);
}

SessionId make_id(uint8_t seed) {
  SessionId id{};
  for (size_t i = 0; i < id.size(); ++i) id[i] = static_cast<uint8_t>(seed + 17 * i);
  return id;
}

// Every strict prefix of `payload` must be rejected.
void check_all_truncations_rejected(const std::string& payload,
                                    const std::function<bool(std::string_view)>& decode_fn) {
  for (size_t len = 0; len < payload.size(); ++len) {
    INFO("truncated to " << len << " of " << payload.size() << " bytes");
    CHECK_FALSE(decode_fn(std::string_view(payload).substr(0, len)));
  }
  CHECK(decode_fn(payload));
}

// Bytes a string field must carry untouched: NUL, high bytes, UTF-8.
constexpr char kOddLiteral[] = "tab\tnul\0\xff\xfe utf8 \xc3\xa9";
const std::string kOddBytes(kOddLiteral, sizeof kOddLiteral - 1);

}  // namespace

TEST_CASE("frame header layout: type, three zero bytes, little-endian u32 length") {
  char header[kHeaderSize];
  std::memset(header, 0x55, sizeof header);
  put_header(header, FrameType::Ack, 0x01020304);
  CHECK(std::string(header, kHeaderSize) == bytes({0x09, 0, 0, 0, 0x04, 0x03, 0x02, 0x01}));

  put_header(header, FrameType::Collect, kMaxPayload);
  CHECK(std::string(header, kHeaderSize) == bytes({0x14, 0, 0, 0, 0x00, 0x00, 0x01, 0x00}));

  std::string f = frame(FrameType::Pong, "abc");
  CHECK(f == bytes({0x0C, 0, 0, 0, 3, 0, 0, 0}) + "abc");

  CHECK(encode_empty(FrameType::Detach) == bytes({0x0E, 0, 0, 0, 0, 0, 0, 0}));
  CHECK(encode_empty(FrameType::List) == bytes({0x0F, 0, 0, 0, 0, 0, 0, 0}));
  CHECK(encode_empty(FrameType::ListEnd) == bytes({0x11, 0, 0, 0, 0, 0, 0, 0}));
  CHECK(encode_empty(FrameType::Ok) == bytes({0x13, 0, 0, 0, 0, 0, 0, 0}));
}

TEST_CASE("frame type numbers are the documented ones") {
  CHECK(static_cast<int>(FrameType::Hello) == 0x01);
  CHECK(static_cast<int>(FrameType::Open) == 0x02);
  CHECK(static_cast<int>(FrameType::Attach) == 0x03);
  CHECK(static_cast<int>(FrameType::Session) == 0x04);
  CHECK(static_cast<int>(FrameType::Data) == 0x05);
  CHECK(static_cast<int>(FrameType::Eof) == 0x06);
  CHECK(static_cast<int>(FrameType::WindowSize) == 0x07);
  CHECK(static_cast<int>(FrameType::Signal) == 0x08);
  CHECK(static_cast<int>(FrameType::Ack) == 0x09);
  CHECK(static_cast<int>(FrameType::Exit) == 0x0A);
  CHECK(static_cast<int>(FrameType::Ping) == 0x0B);
  CHECK(static_cast<int>(FrameType::Pong) == 0x0C);
  CHECK(static_cast<int>(FrameType::Error) == 0x0D);
  CHECK(static_cast<int>(FrameType::Collect) == kLastFrameType);
  CHECK(kHeaderSize == 8);
  CHECK(kMaxPayload == 65536);
  CHECK(kMaxDataBytes == 65536 - 9);
  CHECK(kDefaultPort == 18518);
}

TEST_CASE("frame_type_name covers every type with a distinct name") {
  std::set<std::string> names;
  for (int t = 1; t <= kLastFrameType; ++t) {
    std::string name = frame_type_name(static_cast<FrameType>(t));
    INFO("type " << t);
    CHECK(name != "UNKNOWN");
    names.insert(name);
  }
  CHECK(names.size() == kLastFrameType);
  CHECK(std::string(frame_type_name(FrameType::Data)) == "DATA");
  CHECK(std::string(frame_type_name(static_cast<FrameType>(0))) == "UNKNOWN");
  CHECK(std::string(frame_type_name(static_cast<FrameType>(kLastFrameType + 1))) == "UNKNOWN");
}

TEST_CASE("session state names") {
  CHECK(std::string(session_state_name(SessionState::Attached)) == "attached");
  CHECK(std::string(session_state_name(SessionState::Detached)) == "detached");
  CHECK(std::string(session_state_name(SessionState::Exited)) == "exited");
}

TEST_CASE("session ids: hex form and prefix syntax") {
  SessionId id{};
  for (size_t i = 0; i < id.size(); ++i) id[i] = static_cast<uint8_t>(i * 0x11);
  CHECK(session_id_hex(id) == "00112233445566778899aabbccddeeff");
  CHECK(session_id_hex(SessionId{}) == std::string(32, '0'));

  CHECK(parse_session_id_prefix("a"));
  CHECK(parse_session_id_prefix("00112233445566778899AABBCCDDEEFF"));
  CHECK(parse_session_id_prefix("DeadBeef"));
  CHECK_FALSE(parse_session_id_prefix(""));
  CHECK_FALSE(parse_session_id_prefix(std::string(33, 'a')));
  CHECK_FALSE(parse_session_id_prefix("abcg"));
  CHECK_FALSE(parse_session_id_prefix("ab cd"));
  CHECK_FALSE(parse_session_id_prefix("-1"));
}

TEST_CASE("DATA prefix layout: header, stream byte, little-endian u64 offset") {
  char prefix[kDataPrefixSize];
  std::memset(prefix, 0x55, sizeof prefix);
  put_data_prefix(prefix, Stream::Stderr, 0x0102030405060708ull, 300);
  CHECK(std::string(prefix, kDataPrefixSize) ==
        bytes({0x05, 0, 0, 0, 0x35, 0x01, 0, 0, 0x02, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01}));

  put_data_prefix(prefix, Stream::Stdin, 0, kMaxDataBytes);
  CHECK(std::string(prefix, kHeaderSize) == bytes({0x05, 0, 0, 0, 0x00, 0x00, 0x01, 0x00}));
  CHECK(prefix[kHeaderSize] == 0);
}

TEST_CASE("DATA payload decoding") {
  char prefix[kDataPrefixSize];
  const std::string body = kOddBytes;
  put_data_prefix(prefix, Stream::Stdout, 0xFEDCBA9876543210ull, body.size());
  std::string whole = std::string(prefix, kDataPrefixSize) + body;
  Slice payload = Slice::copy_of(std::string_view(whole).substr(kHeaderSize));

  Stream stream{};
  uint64_t offset = 0;
  Slice out;
  REQUIRE(decode_data(payload, stream, offset, out));
  CHECK(stream == Stream::Stdout);
  CHECK(offset == 0xFEDCBA9876543210ull);
  CHECK(out.view() == body);
  CHECK(out.block() == payload.block());  // a view into the frame, not a copy

  SUBCASE("no bytes at all is a valid (empty) DATA") {
    Slice empty = Slice::copy_of(std::string_view(whole).substr(kHeaderSize, kDataOverhead));
    REQUIRE(decode_data(empty, stream, offset, out));
    CHECK(out.size() == 0);
  }
  SUBCASE("shorter than stream+offset is rejected at every length") {
    for (size_t len = 0; len < kDataOverhead; ++len) {
      INFO("len " << len);
      Slice shortp = Slice::copy_of(std::string_view(whole).substr(kHeaderSize, len));
      CHECK_FALSE(decode_data(shortp, stream, offset, out));
    }
  }
  SUBCASE("stream numbers above stderr are rejected") {
    for (int s : {3, 4, 0x80, 0xFF}) {
      std::string bad = static_cast<char>(s) + le64(5) + "x";
      CHECK_FALSE(decode_data(Slice::copy_of(bad), stream, offset, out));
    }
    std::string good = static_cast<char>(2) + le64(5) + "x";
    CHECK(decode_data(Slice::copy_of(good), stream, offset, out));
    CHECK(stream == Stream::Stderr);
  }
}

TEST_CASE("HELLO: exact bytes, round trip, magic, trailing bytes tolerated") {
  Hello hello;
  hello.version = 1;
  hello.capabilities = kCapResume | kCapToken;
  hello.software = "hv";
  std::string payload = payload_of(encode(hello), FrameType::Hello);
  CHECK(payload == std::string("HVTM") + bytes({1, 0, 3, 0, 0, 0, 2, 0}) + "hv" + bytes({0, 0}));

  Hello full;
  full.version = 0xBEEF;
  full.capabilities = 0x80000001u;
  full.software = "hvterm 0.1.0";
  full.token = kOddBytes;
  payload = payload_of(encode(full), FrameType::Hello);
  Hello out;
  REQUIRE(decode(payload, out));
  CHECK(out.version == 0xBEEF);
  CHECK(out.capabilities == 0x80000001u);
  CHECK(out.software == "hvterm 0.1.0");
  CHECK(out.token == kOddBytes);

  SUBCASE("truncated") {
    check_all_truncations_rejected(payload, [](std::string_view p) {
      Hello h;
      return decode(p, h);
    });
  }
  SUBCASE("a later version may append fields") {
    Hello h;
    CHECK(decode(payload + "future fields", h));
    CHECK(h.token == kOddBytes);
  }
  SUBCASE("wrong magic in any byte") {
    for (size_t i = 0; i < 4; ++i) {
      std::string bad = payload;
      bad[i] = static_cast<char>(bad[i] ^ 0x20);  // "hVTM", ...
      Hello h;
      INFO("magic byte " << i);
      CHECK_FALSE(decode(bad, h));
    }
    Hello h;
    CHECK_FALSE(decode(std::string("HVT\0", 4) + payload.substr(4), h));
  }
}

TEST_CASE("OPEN: layout, round trip, decode replaces old contents") {
  Open open;
  open.mode = SessionMode::Pty;
  open.size = WinSize{50, 132, 1024, 768};
  open.term = "xterm-256color";
  open.cwd = "/home/user/a dir";
  open.user = "root";
  open.argv = {"/bin/sh", "-c", "echo 'hi'; exit 3", "", kOddBytes};
  open.env = {"LANG=C.UTF-8", "EMPTY=", "X=" + std::string(1000, 'x')};
  std::string payload = payload_of(encode(open), FrameType::Open);

  Open out;
  out.argv = {"stale", "stale"};
  out.env = {"STALE=1"};
  REQUIRE(decode(payload, out));
  CHECK(out.mode == SessionMode::Pty);
  CHECK(out.size == WinSize{50, 132, 1024, 768});
  CHECK(out.term == open.term);
  CHECK(out.cwd == open.cwd);
  CHECK(out.user == open.user);
  CHECK(out.argv == open.argv);
  CHECK(out.env == open.env);

  SUBCASE("minimal OPEN: empty argv means the login shell") {
    Open minimal;
    std::string p = payload_of(encode(minimal), FrameType::Open);
    // mode, 4 x u16 size, 3 empty strings, two empty lists
    CHECK(p == bytes({0, 24, 0, 80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
    Open o;
    o.argv = {"x"};
    REQUIRE(decode(p, o));
    CHECK(o.mode == SessionMode::Pipes);
    CHECK(o.argv.empty());
    CHECK(o.env.empty());
    CHECK(o.size == WinSize{});
  }
  SUBCASE("truncated") {
    check_all_truncations_rejected(payload, [](std::string_view p) {
      Open o;
      return decode(p, o);
    });
  }
  SUBCASE("trailing byte") {
    Open o;
    CHECK_FALSE(decode(payload + "x", o));
  }
  SUBCASE("the client's session id: 16 trailing bytes, only when set") {
    Open with_id = open;
    for (size_t i = 0; i < with_id.id.size(); ++i) with_id.id[i] = static_cast<uint8_t>(0xA0 + i);
    std::string p = payload_of(encode(with_id), FrameType::Open);
    REQUIRE(p.size() == payload.size() + 16);
    CHECK(p.substr(0, payload.size()) == payload);
    CHECK(p.substr(payload.size()) == std::string(reinterpret_cast<const char*>(with_id.id.data()), 16));
    Open o;
    REQUIRE(decode(p, o));
    CHECK(o.id == with_id.id);
    CHECK(o.argv == open.argv);
    REQUIRE(decode(payload, o));  // decoding replaces an old id too
    CHECK(o.id == SessionId{});
    for (size_t cut = 1; cut < 16; ++cut) CHECK_FALSE(decode(p.substr(0, p.size() - cut), o));
    CHECK_FALSE(decode(p + "x", o));
    CHECK_FALSE(decode(payload + std::string(16, '\0'), o));  // all zero is "agent chooses": never sent
  }
  SUBCASE("the session's name: a string behind the id, never without one") {
    Open named = open;
    named.id = make_id(5);
    named.name = "build-1";
    std::string with_id = payload_of(encode(Open{named.mode,
                                                 named.size,
                                                 named.term,
                                                 named.cwd,
                                                 named.user,
                                                 named.argv,
                                                 named.env,
                                                 named.id,
                                                 {},
                                                 {},
                                                 {}}),
                                     FrameType::Open);
    std::string p = payload_of(encode(named), FrameType::Open);
    CHECK(p == with_id + le16(7) + "build-1");
    Open o;
    REQUIRE(decode(p, o));
    CHECK(o.name == "build-1");
    CHECK(o.id == named.id);
    REQUIRE(decode(with_id, o));  // decoding replaces an old name
    CHECK(o.name.empty());
    CHECK_FALSE(decode(p + "x", o));
    CHECK_FALSE(decode(p.substr(0, p.size() - 1), o));
    CHECK_FALSE(decode(with_id + le16(0), o));  // no name is no field: each OPEN has one encoding
    Open no_id = named;
    no_id.id = SessionId{};
    CHECK(payload_of(encode(no_id), FrameType::Open) == payload);  // else its bytes would read as an id
    Open connection;
    connection.mode = SessionMode::Connection;
    connection.id = make_id(6);
    connection.destination.port = 22;
    std::string unnamed = payload_of(encode(connection), FrameType::Open);
    connection.name = "x";
    CHECK(payload_of(encode(connection), FrameType::Open) == unnamed);  // only programs have names
  }
  SUBCASE("mode above connection") {
    for (int mode : {3, 4, 0xFF}) {
      std::string bad = payload;
      bad[0] = static_cast<char>(mode);
      Open o;
      CHECK_FALSE(decode(bad, o));
    }
  }
  SUBCASE("a string length that runs past the end") {
    // term length claims 0xFFFF bytes
    std::string bad = payload;
    bad[9] = '\xff';
    bad[10] = '\xff';
    Open o;
    CHECK_FALSE(decode(bad, o));
  }
}

TEST_CASE("OPEN of a connection: the id, then kind, host and port; nothing else decodes") {
  Open open;
  open.mode = SessionMode::Connection;
  for (size_t i = 0; i < open.id.size(); ++i) open.id[i] = static_cast<uint8_t>(i + 1);
  open.destination = {Destination::Kind::Tcp, "::1", 2222};
  std::string payload = payload_of(encode(open), FrameType::Open);
  std::string tail = std::string(reinterpret_cast<const char*>(open.id.data()), 16) + bytes({0}) + str16("::1") +
                     le16(2222);
  REQUIRE(payload.size() > tail.size());
  CHECK(payload.substr(payload.size() - tail.size()) == tail);
  Open out;
  REQUIRE(decode(payload, out));
  CHECK(out.mode == SessionMode::Connection);
  CHECK(out.id == open.id);
  CHECK(out.destination == open.destination);
  check_all_truncations_rejected(payload, [](std::string_view p) {
    Open o;
    return decode(p, o);
  });
  CHECK_FALSE(decode(payload + "x", out));
  SUBCASE("a connection without an id does not decode") {
    Open no_id = open;
    no_id.id = SessionId{};
    CHECK_FALSE(decode(payload_of(encode(no_id), FrameType::Open), out));
  }
  SUBCASE("kinds: unix and named pipe; above that is malformed") {
    for (auto kind : {Destination::Kind::Unix, Destination::Kind::NamedPipe}) {
      Open o = open;
      o.destination = {kind, "/run/x.sock", 0};
      REQUIRE(decode(payload_of(encode(o), FrameType::Open), out));
      CHECK(out.destination == o.destination);
    }
    std::string bad = payload;
    bad[payload.size() - tail.size() + 16] = 3;
    CHECK_FALSE(decode(bad, out));
  }
  SUBCASE("a command OPEN decoded after a connection forgets the destination") {
    REQUIRE(decode(payload_of(encode(Open{}), FrameType::Open), out));
    CHECK(out.destination == Destination{});
  }
}

TEST_CASE("OPEN of a listener: like a connection's, with mode 3") {
  Open open;
  open.mode = SessionMode::Listen;
  open.id[0] = 7;
  open.destination = {Destination::Kind::Tcp, "127.0.0.1", 8080};
  std::string payload = payload_of(encode(open), FrameType::Open);
  CHECK(static_cast<uint8_t>(payload[0]) == 3);
  Open out;
  REQUIRE(decode(payload, out));
  CHECK(out.mode == SessionMode::Listen);
  CHECK(out.id == open.id);
  CHECK(out.destination == open.destination);
  Open no_id = open;
  no_id.id = SessionId{};
  CHECK_FALSE(decode(payload_of(encode(no_id), FrameType::Open), out));
  std::string bad = payload;
  bad[0] = 4;
  CHECK_FALSE(decode(bad, out));
  CHECK(std::string(session_mode_name(SessionMode::Listen)) == "listener");
  CHECK(carries_socket(SessionMode::Listen));
  CHECK_FALSE(carries_socket(SessionMode::Pty));
}

TEST_CASE("destinations as people write them") {
  CHECK(describe(Destination{Destination::Kind::Tcp, "", 22}) == "localhost:22");
  CHECK(describe(Destination{Destination::Kind::Tcp, "10.0.0.1", 80}) == "10.0.0.1:80");
  CHECK(describe(Destination{Destination::Kind::Tcp, "::1", 80}) == "[::1]:80");
  CHECK(describe(Destination{Destination::Kind::Unix, "/run/a.sock", 0}) == "unix:/run/a.sock");
  CHECK(describe(Destination{Destination::Kind::NamedPipe, R"(\\.\pipe\x)", 0}) ==
        std::string("pipe:") + R"(\\.\pipe\x)");
  CHECK(std::string(session_mode_name(SessionMode::Connection)) == "connection");
}

TEST_CASE("OPEN: a hostile string count neither allocates nor takes time") {
  // mode, size, term, cwd, user, then argv count 65535 followed by only 10 bytes.
  std::string head = bytes({1}) + le16(24) + le16(80) + le16(0) + le16(0) + str16("") + str16("") + str16("");
  std::string payload = head + le16(0xFFFF) + std::string(10, '\0');
  Open out;
  auto start = std::chrono::steady_clock::now();
  {
    hvterm::test::AllocProbe probe;
    CHECK_FALSE(decode(payload, out));
    // 65535 std::strings reserved up front would be ~2 MiB; allow only small incidental allocations.
    CHECK(probe.largest() < 1024);
    CHECK(probe.total() < 4096);
  }
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(200));

  SUBCASE("same for env, after a valid argv") {
    std::string p2 = head + le16(1) + str16("sh") + le16(0xFFFF) + std::string(10, 'A');
    hvterm::test::AllocProbe probe;
    CHECK_FALSE(decode(p2, out));
    CHECK(probe.largest() < 1024);
  }
  SUBCASE("count 5 with five empty strings is fine; count 6 is not") {
    std::string five = head + le16(5) + std::string(10, '\0') + le16(0);
    CHECK(decode(five, out));
    CHECK(out.argv == std::vector<std::string>(5));
    std::string six = head + le16(6) + std::string(10, '\0') + le16(0);
    CHECK_FALSE(decode(six, out));
  }
}

TEST_CASE("ATTACH: round trip, resume flag, bad flags, truncation") {
  Attach attach;
  attach.id = make_id(3);
  attach.resume = true;
  attach.received[0] = 1;
  attach.received[1] = 0x1122334455667788ull;
  attach.received[2] = ~0ull;
  attach.size = WinSize{1, 2, 3, 4};
  std::string payload = payload_of(encode(attach), FrameType::Attach);
  CHECK(payload.size() == 16 + 1 + 24 + 8);
  CHECK(payload.substr(0, 16) == std::string(attach.id.begin(), attach.id.end()));
  CHECK(payload[16] == 1);
  CHECK(payload.substr(17 + 8, 8) == le64(0x1122334455667788ull));

  Attach out;
  REQUIRE(decode(payload, out));
  CHECK(out.id == attach.id);
  CHECK(out.resume);
  CHECK(out.received[0] == 1);
  CHECK(out.received[1] == 0x1122334455667788ull);
  CHECK(out.received[2] == ~0ull);
  CHECK(out.size == WinSize{1, 2, 3, 4});

  Attach plain;  // all-zero id: the most recent session
  std::string p2 = payload_of(encode(plain), FrameType::Attach);
  out.resume = true;
  REQUIRE(decode(p2, out));
  CHECK_FALSE(out.resume);
  CHECK(out.id == SessionId{});

  check_all_truncations_rejected(payload, [](std::string_view p) {
    Attach a;
    return decode(p, a);
  });
  Attach a;
  CHECK_FALSE(decode(payload + "x", a));
  std::string bad = payload;
  for (char flags :
       {'\x03', '\x05', '\x06', '\x07', '\x08', '\x80'}) {  // resume alone; take or read-only; nothing else
    bad[16] = flags;
    CHECK_FALSE(decode(bad, a));
  }
}

TEST_CASE("ATTACH: take and read-only are flags of a fresh attach") {
  for (auto [take, read_only, byte] : {std::tuple{true, false, 2}, std::tuple{false, true, 4}}) {
    Attach attach;
    attach.take = take;
    attach.read_only = read_only;
    std::string payload = payload_of(encode(attach), FrameType::Attach);
    CHECK(payload[16] == byte);
    Attach out;
    REQUIRE(decode(payload, out));
    CHECK(out.take == take);
    CHECK(out.read_only == read_only);
    CHECK_FALSE(out.resume);
  }
}

TEST_CASE("SESSION info: the role follows the positions, only for a client that takes it") {
  SessionInfo info;
  info.id = make_id(4);
  info.role = AttachRole::ReadOnlyViewer;
  std::string without = payload_of(encode(info), FrameType::Session);
  std::string with = payload_of(encode(info, true), FrameType::Session);
  CHECK(with == without + '\x02');  // an older client's exact decoder never sees it
  SessionInfo out;
  out.role = AttachRole::Viewer;
  REQUIRE(decode(without, out));
  CHECK(out.role == AttachRole::Client);  // an older agent: the client, as always
  REQUIRE(decode(with, out));
  CHECK(out.role == AttachRole::ReadOnlyViewer);
  CHECK_FALSE(decode(without + '\x03', out));
  CHECK_FALSE(decode(with + '\x00', out));
}

TEST_CASE("SESSION info: round trip, bad mode, truncation") {
  SessionInfo info;
  info.id = make_id(99);
  info.mode = SessionMode::Pty;
  info.pid = 0xDEADBEEF;
  info.received[0] = 7;
  info.received[1] = 8;
  info.received[2] = 1ull << 40;
  std::string payload = payload_of(encode(info), FrameType::Session);
  CHECK(payload.size() == 16 + 1 + 4 + 24);
  CHECK(payload.substr(17, 4) == le32(0xDEADBEEF));

  SessionInfo out;
  REQUIRE(decode(payload, out));
  CHECK(out.id == info.id);
  CHECK(out.mode == SessionMode::Pty);
  CHECK(out.pid == 0xDEADBEEF);
  CHECK(out.received[0] == 7);
  CHECK(out.received[1] == 8);
  CHECK(out.received[2] == 1ull << 40);

  check_all_truncations_rejected(payload, [](std::string_view p) {
    SessionInfo s;
    return decode(p, s);
  });
  SessionInfo s;
  CHECK_FALSE(decode(payload + "x", s));
  std::string bad = payload;
  bad[16] = kLastSessionMode + 1;
  CHECK_FALSE(decode(bad, s));
  bad[16] = 3;
  REQUIRE(decode(bad, s));
  CHECK(s.mode == SessionMode::Listen);
  bad[16] = 2;
  REQUIRE(decode(bad, s));
  CHECK(s.mode == SessionMode::Connection);
}

TEST_CASE("EXIT: every kind, negative codes, bad kind, truncation") {
  for (int kind = 0; kind <= 4; ++kind) {
    Exit exit_msg;
    exit_msg.kind = static_cast<ExitKind>(kind);
    exit_msg.code = kind == 0 ? -1 : 128 + kind;
    exit_msg.message = kind == 2 ? "nosuchcmd: command not found" : "";
    std::string payload = payload_of(encode(exit_msg), FrameType::Exit);
    Exit out;
    REQUIRE(decode(payload, out));
    CHECK(static_cast<int>(out.kind) == kind);
    CHECK(out.code == exit_msg.code);
    CHECK(out.message == exit_msg.message);
  }
  Exit e;
  e.kind = ExitKind::Signaled;
  e.code = -2147483647 - 1;
  e.message = kOddBytes;
  std::string payload = payload_of(encode(e), FrameType::Exit);
  CHECK(payload.substr(0, 5) == bytes({1, 0, 0, 0, 0x80}));
  Exit out;
  REQUIRE(decode(payload, out));
  CHECK(out.code == e.code);
  CHECK(out.message == kOddBytes);

  check_all_truncations_rejected(payload, [](std::string_view p) {
    Exit x;
    return decode(p, x);
  });
  CHECK_FALSE(decode(payload + "x", out));
  for (int kind : {5, 6, 0xFF}) {
    std::string bad = payload;
    bad[0] = static_cast<char>(kind);
    CHECK_FALSE(decode(bad, out));
  }
}

TEST_CASE("ERROR: round trip, truncation, trailing bytes") {
  ErrorMsg err;
  err.code = ErrorCode::NoSuchSession;
  err.message = "no session 1234";
  std::string payload = payload_of(encode(err), FrameType::Error);
  CHECK(payload == le16(4) + str16("no session 1234"));
  ErrorMsg out;
  REQUIRE(decode(payload, out));
  CHECK(out.code == ErrorCode::NoSuchSession);
  CHECK(out.message == "no session 1234");

  check_all_truncations_rejected(payload, [](std::string_view p) {
    ErrorMsg m;
    return decode(p, m);
  });
  CHECK_FALSE(decode(payload + "x", out));
}

TEST_CASE("strings longer than a u16 are cut at 65535, never wrapped") {
  ErrorMsg err;
  err.code = ErrorCode::Internal;
  err.message = std::string(70000, 'm');
  std::string payload = payload_of(encode(err), FrameType::Error);
  CHECK(payload.size() == 2 + 2 + 65535);
  ErrorMsg out;
  REQUIRE(decode(payload, out));
  CHECK(out.message == std::string(65535, 'm'));
}

TEST_CASE("LIST_ENTRY: round trip, bad state and mode, truncation") {
  ListEntry entry;
  entry.id = make_id(42);
  entry.state = SessionState::Exited;
  entry.mode = SessionMode::Pty;
  entry.pid = 4242;
  entry.size = WinSize{30, 100, 0, 0};
  entry.created_unix_ms = 1700000000123ull;
  entry.idle_ms = 86400000;
  entry.exit_code = -1;
  entry.command = "bash -l";
  std::string payload = payload_of(encode(entry, false), FrameType::ListEntry);

  ListEntry out;
  REQUIRE(decode(payload, out));
  CHECK(out.id == entry.id);
  CHECK(out.state == SessionState::Exited);
  CHECK(out.mode == SessionMode::Pty);
  CHECK(out.pid == 4242);
  CHECK(out.size == entry.size);
  CHECK(out.created_unix_ms == 1700000000123ull);
  CHECK(out.idle_ms == 86400000);
  CHECK(out.exit_code == -1);
  CHECK(out.command == "bash -l");

  check_all_truncations_rejected(payload, [](std::string_view p) {
    ListEntry l;
    return decode(p, l);
  });
  CHECK_FALSE(decode(payload + "x", out));
  std::string bad_state = payload;
  bad_state[16] = 3;
  CHECK_FALSE(decode(bad_state, out));
  std::string bad_mode = payload;
  bad_mode[17] = kLastSessionMode + 1;
  CHECK_FALSE(decode(bad_mode, out));
  bad_mode[17] = 3;
  REQUIRE(decode(bad_mode, out));
  CHECK(out.mode == SessionMode::Listen);
}

TEST_CASE("LIST_ENTRY: the name follows the command, only for a client that takes it") {
  ListEntry entry;
  entry.id = make_id(9);
  entry.command = "make -j8";
  entry.name = "build";
  std::string without = payload_of(encode(entry, false), FrameType::ListEntry);
  std::string with = payload_of(encode(entry, true), FrameType::ListEntry);
  CHECK(with == without + le16(5) + "build");  // an older client's exact decoder never sees it
  ListEntry out;
  out.name = "stale";
  REQUIRE(decode(without, out));
  CHECK(out.name.empty());  // an older agent's entry: no name
  REQUIRE(decode(with, out));
  CHECK(out.name == "build");
  CHECK(out.command == "make -j8");
  CHECK_FALSE(decode(with + "x", out));
  CHECK_FALSE(decode(with.substr(0, with.size() - 1), out));
  CHECK_FALSE(decode(without + "x", out));  // a name's length cut short
}

TEST_CASE("LIST_ENTRY: the count of clients follows the name, only for a client that takes it") {
  ListEntry entry;
  entry.id = make_id(9);
  entry.command = "bash";
  entry.clients = 3;
  std::string named = payload_of(encode(entry, true), FrameType::ListEntry);
  std::string counted = payload_of(encode(entry, false, true), FrameType::ListEntry);
  CHECK(counted == named + le16(3));  // the (empty) name comes first, whether the client takes names or not
  ListEntry out;
  REQUIRE(decode(named, out));
  CHECK(out.clients == -1);  // not said
  REQUIRE(decode(counted, out));
  CHECK(out.clients == 3);
  CHECK_FALSE(decode(counted + "x", out));
  CHECK_FALSE(decode(counted.substr(0, counted.size() - 1), out));
}

TEST_CASE("KILL: whom it is for, as a byte after the signal; none means the foreground job") {
  Kill kill;
  kill.id = make_id(3);
  kill.signal = sig::kTerm;
  std::string old_form = payload_of(encode(kill), FrameType::Kill);
  CHECK(old_form.size() == 17);  // Foreground is encoded as before: an older agent understands it
  Kill out;
  out.recipient = KillRecipient::Close;
  REQUIRE(decode(old_form, out));
  CHECK(out.recipient == KillRecipient::Foreground);
  for (auto recipient : {KillRecipient::Process, KillRecipient::Close}) {
    kill.recipient = recipient;
    std::string p = payload_of(encode(kill), FrameType::Kill);
    CHECK(p == old_form + bytes({static_cast<int>(recipient)}));
    REQUIRE(decode(p, out));
    CHECK(out.recipient == recipient);
    CHECK(out.signal == sig::kTerm);
    CHECK_FALSE(decode(p + "x", out));
  }
  CHECK(decode(old_form + bytes({0}), out));  // Foreground said explicitly
  CHECK(out.recipient == KillRecipient::Foreground);
  CHECK_FALSE(decode(old_form + bytes({3}), out));
  CHECK_FALSE(decode(old_form + bytes({0xFF}), out));
}

TEST_CASE("KILL: round trip and signal range") {
  Kill kill;
  kill.id = make_id(7);
  kill.signal = sig::kKill;
  std::string payload = payload_of(encode(kill), FrameType::Kill);
  CHECK(payload == std::string(kill.id.begin(), kill.id.end()) + bytes({9}));
  Kill out;
  REQUIRE(decode(payload, out));
  CHECK(out.id == kill.id);
  CHECK(out.signal == 9);

  check_all_truncations_rejected(payload, [](std::string_view p) {
    Kill k;
    return decode(p, k);
  });
  CHECK_FALSE(decode(payload + "x", out));
  std::string p = payload;
  p[16] = 0;
  CHECK_FALSE(decode(p, out));
  p[16] = 65;
  CHECK_FALSE(decode(p, out));
  p[16] = 64;
  CHECK(decode(p, out));
  CHECK(out.signal == 64);
}

TEST_CASE("EOF and ACK: stream + offset") {
  for (int s = 0; s < kStreamCount; ++s) {
    for (uint64_t offset : {0ull, 1ull, 0x0102030405060708ull, ~0ull}) {
      std::string eof = payload_of(encode_eof(static_cast<Stream>(s), offset), FrameType::Eof);
      std::string ack = payload_of(encode_ack(static_cast<Stream>(s), offset), FrameType::Ack);
      CHECK(eof == static_cast<char>(s) + le64(offset));
      CHECK(ack == eof);
      Stream stream{};
      uint64_t out = 0;
      REQUIRE(decode_stream_offset(eof, stream, out));
      CHECK(static_cast<int>(stream) == s);
      CHECK(out == offset);
    }
  }
  std::string payload = payload_of(encode_ack(Stream::Stdout, 12345), FrameType::Ack);
  check_all_truncations_rejected(payload, [](std::string_view p) {
    Stream s;
    uint64_t o;
    return decode_stream_offset(p, s, o);
  });
  Stream s;
  uint64_t o;
  CHECK_FALSE(decode_stream_offset(payload + "x", s, o));
  for (int bad : {3, 0x7F, 0xFF}) {
    std::string p = payload;
    p[0] = static_cast<char>(bad);
    CHECK_FALSE(decode_stream_offset(p, s, o));
  }
}

TEST_CASE("WINSIZE: layout and round trip") {
  WinSize size{0x0102, 0x0304, 0xFFFF, 0};
  std::string payload = payload_of(encode_window_size(size), FrameType::WindowSize);
  CHECK(payload == bytes({0x02, 0x01, 0x04, 0x03, 0xFF, 0xFF, 0, 0}));
  WinSize out;
  REQUIRE(decode_window_size(payload, out));
  CHECK(out == size);
  check_all_truncations_rejected(payload, [](std::string_view p) {
    WinSize w;
    return decode_window_size(p, w);
  });
  CHECK_FALSE(decode_window_size(payload + "x", out));
}

TEST_CASE("SIGNAL: one byte, 1..64") {
  for (uint8_t s : {sig::kHup, sig::kInt, sig::kTerm, sig::kWinch, uint8_t{64}}) {
    std::string payload = payload_of(encode_signal(s), FrameType::Signal);
    CHECK(payload == bytes({s}));
    uint8_t out = 0;
    REQUIRE(decode_signal(payload, out));
    CHECK(out == s);
  }
  uint8_t out = 0;
  CHECK_FALSE(decode_signal("", out));
  CHECK_FALSE(decode_signal(bytes({0}), out));
  CHECK_FALSE(decode_signal(bytes({65}), out));
  CHECK_FALSE(decode_signal(bytes({0xFF}), out));
  CHECK_FALSE(decode_signal(bytes({15, 0}), out));
}

TEST_CASE("PING and PONG: u64 token") {
  std::string ping = encode_ping(0x0102030405060708ull);
  std::string payload = payload_of(ping, FrameType::Ping);
  CHECK(payload == le64(0x0102030405060708ull));
  std::string pong = encode_ping(99, FrameType::Pong);
  CHECK(payload_of(pong, FrameType::Pong) == le64(99));
  uint64_t token = 0;
  REQUIRE(decode_ping(payload, token));
  CHECK(token == 0x0102030405060708ull);
  check_all_truncations_rejected(payload, [](std::string_view p) {
    uint64_t t;
    return decode_ping(p, t);
  });
  CHECK_FALSE(decode_ping(payload + "x", token));
}

TEST_CASE("parse_signal_name: names, SIG prefix, numbers, garbage") {
  CHECK(parse_signal_name("TERM") == 15);
  CHECK(parse_signal_name("SIGTERM") == 15);
  CHECK(parse_signal_name("sigterm") == 15);
  CHECK(parse_signal_name("term") == 15);
  CHECK(parse_signal_name("SigInt") == 2);
  CHECK(parse_signal_name("HUP") == 1);
  CHECK(parse_signal_name("QUIT") == 3);
  CHECK(parse_signal_name("KILL") == 9);
  CHECK(parse_signal_name("SIGUSR1") == 10);
  CHECK(parse_signal_name("USR2") == 12);
  CHECK(parse_signal_name("CONT") == 18);
  CHECK(parse_signal_name("STOP") == 19);
  CHECK(parse_signal_name("TSTP") == 20);
  CHECK(parse_signal_name("WINCH") == 28);

  CHECK(parse_signal_name("15") == 15);
  CHECK(parse_signal_name("1") == 1);
  CHECK(parse_signal_name("64") == 64);
  CHECK(parse_signal_name("09") == 9);

  CHECK(parse_signal_name("") == 0);
  CHECK(parse_signal_name("0") == 0);
  CHECK(parse_signal_name("65") == 0);
  CHECK(parse_signal_name("256") == 0);
  CHECK(parse_signal_name("271") == 0);  // must not wrap to 15 in a uint8_t
  CHECK(parse_signal_name("99999999999999999999999") == 0);
  CHECK(parse_signal_name("15x") == 0);
  CHECK(parse_signal_name("-15") == 0);
  CHECK(parse_signal_name(" 15") == 0);
  CHECK(parse_signal_name("SIG") == 0);
  CHECK(parse_signal_name("SIGSIGTERM") == 0);
  CHECK(parse_signal_name("TERMINATE") == 0);
  CHECK(parse_signal_name("SIG15") == 0);
  CHECK(parse_signal_name("BOGUS") == 0);

  CHECK(std::string(signal_name(15)) == "TERM");
  CHECK(std::string(signal_name(28)) == "WINCH");
  CHECK(signal_name(0) == nullptr);
  CHECK(signal_name(63) == nullptr);
  // Every name maps back to its number.
  for (const char* name : {"HUP", "INT", "QUIT", "KILL", "USR1", "USR2", "TERM", "CONT", "STOP", "TSTP", "WINCH"}) {
    uint8_t n = parse_signal_name(name);
    REQUIRE(n != 0);
    CHECK(std::string(signal_name(n)) == name);
  }
}
