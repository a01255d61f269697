#include "protocol/codec.h"

#include <algorithm>
#include <cstring>

namespace hvterm::wire {
namespace {

// ATTACH flags.
constexpr uint8_t kAttachResume = 0x1, kAttachTake = 0x2, kAttachReadOnly = 0x4;

class Writer {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u16(uint16_t v) { le(v, 2); }
  void u32(uint32_t v) { le(v, 4); }
  void u64(uint64_t v) { le(v, 8); }
  void bytes(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  // Strings are u16 length + bytes; longer ones are cut by the caller's limits, never here.
  void str(std::string_view s) {
    u16(static_cast<uint16_t>(s.size() > 0xFFFF ? 0xFFFF : s.size()));
    out_.append(s.substr(0, 0xFFFF));
  }
  void size(const WinSize& w) {
    u16(w.rows);
    u16(w.cols);
    u16(w.xpixel);
    u16(w.ypixel);
  }
  std::string take() { return std::move(out_); }

 private:
  void le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  }
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool u8(uint8_t& v) {
    uint64_t x;
    if (!le(x, 1)) return false;
    v = static_cast<uint8_t>(x);
    return true;
  }
  bool u16(uint16_t& v) {
    uint64_t x;
    if (!le(x, 2)) return false;
    v = static_cast<uint16_t>(x);
    return true;
  }
  bool u32(uint32_t& v) {
    uint64_t x;
    if (!le(x, 4)) return false;
    v = static_cast<uint32_t>(x);
    return true;
  }
  bool u64(uint64_t& v) { return le(v, 8); }
  bool bytes(void* p, size_t n) {
    if (in_.size() < n) return false;
    std::memcpy(p, in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  bool str(std::string& s) {
    uint16_t n;
    if (!u16(n) || in_.size() < n) return false;
    s.assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  bool strings(std::vector<std::string>& v) {
    uint16_t count;
    if (!u16(count)) return false;
    // Each string needs at least its 2-byte length: bound the count by what is actually here
    // so a hostile count cannot make us reserve memory.
    if (count > in_.size() / 2) return false;
    v.clear();
    v.reserve(count);
    for (uint16_t i = 0; i < count; ++i) {
      std::string s;
      if (!str(s)) return false;
      v.push_back(std::move(s));
    }
    return true;
  }
  bool size(WinSize& w) { return u16(w.rows) && u16(w.cols) && u16(w.xpixel) && u16(w.ypixel); }
  bool done() const { return in_.empty(); }

 private:
  bool le(uint64_t& v, int n) {
    if (in_.size() < static_cast<size_t>(n)) return false;
    v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(in_[i])) << (8 * i);
    in_.remove_prefix(n);
    return true;
  }
  std::string_view in_;
};

bool valid_stream(uint8_t s) { return s < kStreamCount; }

void strings(Writer& w, const std::vector<std::string>& v) {
  w.u16(static_cast<uint16_t>(v.size()));
  for (const auto& s : v) w.str(s);
}

}  // namespace

const char* frame_type_name(FrameType type) {
  switch (type) {
    case FrameType::Hello: return "HELLO";
    case FrameType::Open: return "OPEN";
    case FrameType::Attach: return "ATTACH";
    case FrameType::Session: return "SESSION";
    case FrameType::Data: return "DATA";
    case FrameType::Eof: return "EOF";
    case FrameType::WindowSize: return "WINSIZE";
    case FrameType::Signal: return "SIGNAL";
    case FrameType::Ack: return "ACK";
    case FrameType::Exit: return "EXIT";
    case FrameType::Ping: return "PING";
    case FrameType::Pong: return "PONG";
    case FrameType::Error: return "ERROR";
    case FrameType::Detach: return "DETACH";
    case FrameType::List: return "LIST";
    case FrameType::ListEntry: return "LIST_ENTRY";
    case FrameType::ListEnd: return "LIST_END";
    case FrameType::Kill: return "KILL";
    case FrameType::Ok: return "OK";
    case FrameType::Collect: return "COLLECT";
  }
  return "UNKNOWN";
}

const char* session_mode_name(SessionMode mode) {
  switch (mode) {
    case SessionMode::Pipes: return "pipes";
    case SessionMode::Pty: return "pty";
    case SessionMode::Connection: return "connection";
    case SessionMode::Listen: return "listener";
    case SessionMode::Copy: return "copy";
  }
  return "unknown";
}

std::string describe(const Destination& d) {
  switch (d.kind) {
    case Destination::Kind::Tcp: {
      std::string host = d.host.empty() ? "localhost" : d.host;
      if (host.find(':') != std::string::npos) host = "[" + host + "]";  // an IPv6 address
      return host + ":" + std::to_string(d.port);
    }
    case Destination::Kind::Unix: return "unix:" + d.host;
    case Destination::Kind::NamedPipe: return "pipe:" + d.host;
  }
  return "?";
}

const char* session_state_name(SessionState state) {
  switch (state) {
    case SessionState::Attached: return "attached";
    case SessionState::Detached: return "detached";
    case SessionState::Exited: return "exited";
  }
  return "unknown";
}

std::string session_id_hex(const SessionId& id) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : id) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

bool parse_session_id_prefix(const std::string& text) {
  if (text.empty() || text.size() > 32) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  return true;
}

void put_header(char* out, FrameType type, size_t payload_size) {
  out[0] = static_cast<char>(type);
  out[1] = 0;
  out[2] = 0;
  out[3] = 0;
  for (int i = 0; i < 4; ++i) out[4 + i] = static_cast<char>((payload_size >> (8 * i)) & 0xFF);
}

std::string frame(FrameType type, std::string_view payload) {
  std::string out(kHeaderSize, '\0');
  put_header(out.data(), type, payload.size());
  out.append(payload);
  return out;
}

void put_data_prefix(char* out, Stream stream, uint64_t offset, size_t bytes) {
  put_header(out, FrameType::Data, kDataOverhead + bytes);
  out[kHeaderSize] = static_cast<char>(stream);
  for (int i = 0; i < 8; ++i) out[kHeaderSize + 1 + i] = static_cast<char>((offset >> (8 * i)) & 0xFF);
}

std::string encode(const Hello& m) {
  Writer w;
  w.bytes(kMagic, 4);
  w.u16(m.version);
  w.u32(m.capabilities);
  w.str(m.software);
  w.str(m.token);
  return frame(FrameType::Hello, w.take());
}

bool decode(std::string_view payload, Hello& m) {
  Reader r(payload);
  char magic[4];
  if (!r.bytes(magic, 4) || std::memcmp(magic, kMagic, 4) != 0) return false;
  // Later versions may append fields: HELLO alone tolerates trailing bytes.
  return r.u16(m.version) && r.u32(m.capabilities) && r.str(m.software) && r.str(m.token);
}

std::string encode(const Open& m) {
  Writer w;
  w.u8(static_cast<uint8_t>(m.mode));
  w.size(m.size);
  w.str(m.term);
  w.str(m.cwd);
  w.str(m.user);
  strings(w, m.argv);
  strings(w, m.env);
  if (m.id != SessionId{}) w.bytes(m.id.data(), m.id.size());
  // Behind the id, which it requires: without one, the name's bytes would read as an id.
  if (!m.name.empty() && m.id != SessionId{} && runs_program(m.mode)) w.str(m.name);
  if (carries_socket(m.mode)) {
    w.u8(static_cast<uint8_t>(m.destination.kind));
    w.str(m.destination.host);
    w.u16(m.destination.port);
  }
  if (m.mode == SessionMode::Copy) {
    w.u8(static_cast<uint8_t>(m.copy.direction));
    w.u8(m.copy.flags);
    strings(w, m.copy.paths);
  }
  return frame(FrameType::Open, w.take());
}

bool decode(std::string_view payload, Open& m) {
  Reader r(payload);
  uint8_t mode;
  if (!r.u8(mode) || mode > kLastSessionMode) return false;
  m.mode = static_cast<SessionMode>(mode);
  if (!(r.size(m.size) && r.str(m.term) && r.str(m.cwd) && r.str(m.user) && r.strings(m.argv) && r.strings(m.env)))
    return false;
  m.id = SessionId{};
  m.destination = Destination{};
  m.name.clear();
  m.copy = CopySpec{};
  if (m.mode == SessionMode::Copy) {  // named by the client, as a connection is, so a lost answer can be resumed
    uint8_t direction;
    return r.bytes(m.id.data(), m.id.size()) && m.id != SessionId{} && r.u8(direction) && direction <= 1 &&
           (m.copy.direction = static_cast<CopySpec::Direction>(direction), r.u8(m.copy.flags)) &&
           r.strings(m.copy.paths) && r.done();
  }
  if (!carries_socket(m.mode))
    return r.done() || (r.bytes(m.id.data(), m.id.size()) && m.id != SessionId{} &&
                        (r.done() || (r.str(m.name) && !m.name.empty() && r.done())));  // "no name" is the field absent
  // A connection or listener always names its session (so a lost answer can be resumed), then
  // where it goes or listens.
  uint8_t kind;
  if (!r.bytes(m.id.data(), m.id.size()) || m.id == SessionId{} || !r.u8(kind) || kind > 2) return false;
  m.destination.kind = static_cast<Destination::Kind>(kind);
  return r.str(m.destination.host) && r.u16(m.destination.port) && r.done();
}

std::string encode(const Attach& m) {
  Writer w;
  w.bytes(m.id.data(), m.id.size());
  w.u8(static_cast<uint8_t>((m.resume ? kAttachResume : 0) | (m.take ? kAttachTake : 0) |
                            (m.read_only ? kAttachReadOnly : 0)));
  for (uint64_t v : m.received) w.u64(v);
  w.size(m.size);
  return frame(FrameType::Attach, w.take());
}

bool decode(std::string_view payload, Attach& m) {
  Reader r(payload);
  uint8_t flags;
  if (!r.bytes(m.id.data(), m.id.size()) || !r.u8(flags)) return false;
  // A resume is the session's client coming back, so it neither takes nor watches; nobody both
  // takes the session and only watches it.
  constexpr uint8_t kKnown = kAttachResume | kAttachTake | kAttachReadOnly;
  if ((flags & ~kKnown) != 0 || ((flags & kAttachResume) != 0 && flags != kAttachResume) ||
      (flags & (kAttachTake | kAttachReadOnly)) == (kAttachTake | kAttachReadOnly))
    return false;
  m.resume = (flags & kAttachResume) != 0;
  m.take = (flags & kAttachTake) != 0;
  m.read_only = (flags & kAttachReadOnly) != 0;
  for (uint64_t& v : m.received)
    if (!r.u64(v)) return false;
  return r.size(m.size) && r.done();
}

std::string encode(const SessionInfo& m, bool with_role) {
  Writer w;
  w.bytes(m.id.data(), m.id.size());
  w.u8(static_cast<uint8_t>(m.mode));
  w.u32(m.pid);
  for (uint64_t v : m.received) w.u64(v);
  if (with_role) w.u8(static_cast<uint8_t>(m.role));
  return frame(FrameType::Session, w.take());
}

bool decode(std::string_view payload, SessionInfo& m) {
  Reader r(payload);
  uint8_t mode;
  if (!r.bytes(m.id.data(), m.id.size()) || !r.u8(mode) || mode > kLastSessionMode || !r.u32(m.pid)) return false;
  m.mode = static_cast<SessionMode>(mode);
  for (uint64_t& v : m.received)
    if (!r.u64(v)) return false;
  m.role = AttachRole::Client;
  if (r.done()) return true;  // an agent without kCapViewers, or a client that did not announce it
  uint8_t role;
  if (!r.u8(role) || role > static_cast<uint8_t>(AttachRole::ReadOnlyViewer)) return false;
  m.role = static_cast<AttachRole>(role);
  return r.done();
}

std::string encode(const Exit& m) {
  Writer w;
  w.u8(static_cast<uint8_t>(m.kind));
  w.u32(static_cast<uint32_t>(m.code));
  w.str(m.message);
  return frame(FrameType::Exit, w.take());
}

bool decode(std::string_view payload, Exit& m) {
  Reader r(payload);
  uint8_t kind;
  uint32_t code;
  if (!r.u8(kind) || kind > 4 || !r.u32(code)) return false;
  m.kind = static_cast<ExitKind>(kind);
  m.code = static_cast<int32_t>(code);
  return r.str(m.message) && r.done();
}

std::string encode(const ErrorMsg& m) {
  Writer w;
  w.u16(static_cast<uint16_t>(m.code));
  w.str(m.message);
  return frame(FrameType::Error, w.take());
}

bool decode(std::string_view payload, ErrorMsg& m) {
  Reader r(payload);
  uint16_t code;
  if (!r.u16(code)) return false;
  m.code = static_cast<ErrorCode>(code);
  return r.str(m.message) && r.done();
}

std::string encode(const ListEntry& m, bool with_name, bool with_clients) {
  Writer w;
  w.bytes(m.id.data(), m.id.size());
  w.u8(static_cast<uint8_t>(m.state));
  w.u8(static_cast<uint8_t>(m.mode));
  w.u32(m.pid);
  w.size(m.size);
  w.u64(m.created_unix_ms);
  w.u64(m.idle_ms);
  w.u32(static_cast<uint32_t>(m.exit_code));
  w.str(m.command);
  if (with_name || with_clients) w.str(m.name);
  if (with_clients) w.u16(static_cast<uint16_t>(std::clamp(m.clients, 0, 0xFFFF)));
  return frame(FrameType::ListEntry, w.take());
}

bool decode(std::string_view payload, ListEntry& m) {
  Reader r(payload);
  uint8_t state, mode;
  uint32_t code;
  if (!r.bytes(m.id.data(), m.id.size()) || !r.u8(state) || state > 2 || !r.u8(mode) || mode > kLastSessionMode)
    return false;
  m.state = static_cast<SessionState>(state);
  m.mode = static_cast<SessionMode>(mode);
  if (!r.u32(m.pid) || !r.size(m.size) || !r.u64(m.created_unix_ms) || !r.u64(m.idle_ms) || !r.u32(code)) return false;
  m.exit_code = static_cast<int32_t>(code);
  m.name.clear();
  m.clients = -1;
  if (!r.str(m.command)) return false;
  if (r.done()) return true;
  uint16_t clients;
  if (!r.str(m.name)) return false;
  if (r.done()) return true;
  if (!r.u16(clients) || !r.done()) return false;
  m.clients = clients;
  return true;
}

std::string encode(const Kill& m) {
  Writer w;
  w.bytes(m.id.data(), m.id.size());
  w.u8(m.signal);
  if (m.recipient != KillRecipient::Foreground) w.u8(static_cast<uint8_t>(m.recipient));
  return frame(FrameType::Kill, w.take());
}

bool decode(std::string_view payload, Kill& m) {
  Reader r(payload);
  m.recipient = KillRecipient::Foreground;  // a KILL without the byte means what it always did
  if (!r.bytes(m.id.data(), m.id.size()) || !r.u8(m.signal) || m.signal == 0 || m.signal >= 65) return false;
  if (r.done()) return true;
  uint8_t recipient;
  if (!r.u8(recipient) || recipient > kLastKillRecipient) return false;
  m.recipient = static_cast<KillRecipient>(recipient);
  return r.done();
}

static std::string stream_offset(FrameType type, Stream stream, uint64_t offset) {
  Writer w;
  w.u8(static_cast<uint8_t>(stream));
  w.u64(offset);
  return frame(type, w.take());
}

std::string encode_eof(Stream stream, uint64_t offset) { return stream_offset(FrameType::Eof, stream, offset); }
std::string encode_ack(Stream stream, uint64_t offset) { return stream_offset(FrameType::Ack, stream, offset); }

bool decode_stream_offset(std::string_view payload, Stream& stream, uint64_t& offset) {
  Reader r(payload);
  uint8_t s;
  if (!r.u8(s) || !valid_stream(s) || !r.u64(offset)) return false;
  stream = static_cast<Stream>(s);
  return r.done();
}

bool decode_data(const Slice& payload, Stream& stream, uint64_t& offset, Slice& bytes) {
  if (payload.size() < kDataOverhead) return false;
  Reader r(payload.view().substr(0, kDataOverhead));
  uint8_t s;
  if (!r.u8(s) || !valid_stream(s) || !r.u64(offset)) return false;
  stream = static_cast<Stream>(s);
  bytes = payload.sub(kDataOverhead, payload.size() - kDataOverhead);
  return true;
}

std::string encode_window_size(const WinSize& size) {
  Writer w;
  w.size(size);
  return frame(FrameType::WindowSize, w.take());
}

bool decode_window_size(std::string_view payload, WinSize& out) {
  Reader r(payload);
  return r.size(out) && r.done();
}

std::string encode_signal(uint8_t wire_signal) {
  Writer w;
  w.u8(wire_signal);
  return frame(FrameType::Signal, w.take());
}

bool decode_signal(std::string_view payload, uint8_t& wire_signal) {
  Reader r(payload);
  return r.u8(wire_signal) && wire_signal != 0 && wire_signal < 65 && r.done();
}

std::string encode_ping(uint64_t token, FrameType type) {
  Writer w;
  w.u64(token);
  return frame(type, w.take());
}

bool decode_ping(std::string_view payload, uint64_t& token) {
  Reader r(payload);
  return r.u64(token) && r.done();
}

std::string encode_empty(FrameType type) { return frame(type, {}); }

}  // namespace hvterm::wire
