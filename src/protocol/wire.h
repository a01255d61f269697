#pragma once
// The hvterm wire protocol: frame types and message layouts. PROTOCOL.md beside this file
// documents every byte; this header is the same thing as code.
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace hvterm::wire {

inline constexpr char kMagic[4] = {'H', 'V', 'T', 'M'};
inline constexpr uint16_t kVersion = 1;     // the highest protocol version this build speaks
inline constexpr uint16_t kMinVersion = 1;  // the lowest
inline constexpr size_t kHeaderSize = 8;
inline constexpr size_t kMaxPayload = 64 * 1024;
// DATA payload = stream (1) + offset (8) + bytes.
inline constexpr size_t kDataOverhead = 9;
inline constexpr size_t kMaxDataBytes = kMaxPayload - kDataOverhead;
inline constexpr uint16_t kDefaultPort = 18518;  // 0x4856, "HV"

enum class FrameType : uint8_t {
  Hello = 0x01,
  Open = 0x02,
  Attach = 0x03,
  Session = 0x04,
  Data = 0x05,
  Eof = 0x06,
  WindowSize = 0x07,
  Signal = 0x08,
  Ack = 0x09,
  Exit = 0x0A,
  Ping = 0x0B,
  Pong = 0x0C,
  Error = 0x0D,
  Detach = 0x0E,
  List = 0x0F,
  ListEntry = 0x10,
  ListEnd = 0x11,
  Kill = 0x12,
  Ok = 0x13,
  Collect = 0x14,
};
inline constexpr uint8_t kLastFrameType = 0x14;
const char* frame_type_name(FrameType type);

// Capability bits announced in HELLO; a peer uses a feature only if both announce it.
inline constexpr uint32_t kCapResume = 1u << 0;
inline constexpr uint32_t kCapToken = 1u << 1;
// OPEN may carry the session id, chosen by the client: a client whose connection drops before the
// SESSION answer can then resume the session the agent may have started, instead of orphaning it.
inline constexpr uint32_t kCapOpenId = 1u << 2;
// The agent answers COLLECT with OK: a client that hears nothing reconnects and collects again, so a
// COLLECT lost to a broken connection does not leave the finished session behind.
inline constexpr uint32_t kCapCollectOk = 1u << 3;
// OPEN may ask for a connection inside the guest (SessionMode::Connection) instead of a program.
inline constexpr uint32_t kCapConnect = 1u << 4;
// OPEN may ask the agent to listen in the guest (SessionMode::Listen): each connection it accepts
// becomes a connection session of its own, whose id the listening session's stdout carries.
inline constexpr uint32_t kCapListen = 1u << 5;
// Sessions have names: OPEN may carry one (the agent keeps them unique) and LIST_ENTRY carries it.
// The agent appends the name to LIST_ENTRY only for a client that announced this bit, so an older
// client's strict decoder never sees the field.
inline constexpr uint32_t kCapNames = 1u << 6;
// KILL may say whom it is for (KillRecipient): the session's process, the terminal's foreground job,
// or the whole session (hang up and discard). Without it, KILL means the foreground job.
inline constexpr uint32_t kCapKillRecipient = 1u << 7;
// OPEN may ask the agent to copy files itself (SessionMode::Copy): hvterm cp without tar or cat in the guest.
inline constexpr uint32_t kCapCopy = 1u << 8;
// A copy may resume partial files (CopySpec::kResume): the receiver answers each file record on the
// other direction of the session with what it already holds of that file.
inline constexpr uint32_t kCapCopyResume = 1u << 9;
// Several clients may show one terminal session (an agent that keeps its screen): ATTACH may join a
// session that has a client (AttachRole), SESSION says which role the client got, the agent tells
// each client the session's size (WINSIZE, agent to client), and LIST_ENTRY counts the clients.
inline constexpr uint32_t kCapViewers = 1u << 10;

// The agent holds at most this much of a client's stdin beyond the last position it announced on
// the connection (in SESSION or ACK): DATA reaching further is a protocol error. Clients stop
// reading their stdin at 1 MiB unacknowledged, so one more read in flight stays well inside.
inline constexpr uint64_t kInputWindow = 2 * 1024 * 1024;
// And at most this much of a session's stdin that its program has not consumed yet, whatever
// reconnects announced: a program that does not read its input cannot make the agent grow.
inline constexpr uint64_t kMaxUnconsumedInput = 2 * kInputWindow;

enum class Stream : uint8_t { Stdin = 0, Stdout = 1, Stderr = 2 };
inline constexpr int kStreamCount = 3;

// Connection: the session carries a connection the agent opens in the guest; stdin is what goes
// into it, stdout what comes out of it, and there is no stderr.
// Listen: the agent listens at the destination in the guest; stdout is the ids of the sessions it
// made of the connections it accepted (kAcceptedIdSize bytes each), stdin carries nothing.
// Copy: the agent reads or writes files itself; the copy stream (src/copy/format.h) is stdin when
// copying into the guest, stdout when copying out of it; stderr carries one line per file that failed.
enum class SessionMode : uint8_t { Pipes = 0, Pty = 1, Connection = 2, Listen = 3, Copy = 4 };
inline constexpr uint8_t kLastSessionMode = 4;
inline constexpr bool carries_socket(SessionMode mode) {
  return mode == SessionMode::Connection || mode == SessionMode::Listen;
}
// Pipes and Pty sessions run a program (and may have a name); the others carry a socket or a copy.
inline constexpr bool runs_program(SessionMode mode) { return mode == SessionMode::Pipes || mode == SessionMode::Pty; }
const char* session_mode_name(SessionMode mode);

enum class SessionState : uint8_t { Attached = 0, Detached = 1, Exited = 2 };
const char* session_state_name(SessionState state);

// ConnectionFailed: a connection session that could not be opened or did not end cleanly; the code
// is a ConnectionError and the message says what happened in one line. A clean end is Exited 0.
enum class ExitKind : uint8_t { Exited = 0, Signaled = 1, NotFound = 2, CannotExecute = 3, ConnectionFailed = 4 };
enum class ConnectionError : uint8_t {
  Refused = 1,
  Reset = 2,
  Unreachable = 3,
  TimedOut = 4,
  UnknownHost = 5,
  Other = 6
};

enum class ErrorCode : uint16_t {
  Malformed = 1,     // a frame that does not parse, is unknown, or arrives out of place
  Version = 2,       // no protocol version in common
  Unauthorized = 3,  // peer not allowed or token wrong
  NoSuchSession = 4,
  Limit = 5,      // a configured limit (sessions, argv size, ...) was reached
  TakenOver = 6,  // another connection attached to this session
  SpawnFailed = 7,
  Internal = 8,
  BadRequest = 9,
};

using SessionId = std::array<uint8_t, 16>;
std::string session_id_hex(const SessionId& id);
bool parse_session_id_prefix(const std::string& text);  // true when text is 1..32 hex digits

struct WinSize {
  uint16_t rows = 24, cols = 80, xpixel = 0, ypixel = 0;
  bool operator==(const WinSize&) const = default;
};

struct Hello {
  uint16_t version = kVersion;
  uint32_t capabilities = 0;
  std::string software;  // "hvterm 0.1.0"
  std::string token;     // only from the client, only when the agent requires one
};

// Where a connection session connects, inside the guest.
struct Destination {
  enum class Kind : uint8_t { Tcp = 0, Unix = 1, NamedPipe = 2 };
  Kind kind = Kind::Tcp;
  std::string host;   // TCP: a name or an address (empty: localhost); otherwise the path or pipe name
  uint16_t port = 0;  // TCP only
  bool operator==(const Destination&) const = default;
};
std::string describe(const Destination& destination);  // "localhost:22", "[::1]:80", "unix:/run/x.sock"

// What a copy session does (SessionMode::Copy).
struct CopySpec {
  enum class Direction : uint8_t { IntoGuest = 0, OutOfGuest = 1 };
  // Recursive: directories too. Preserve: mode and mtime (and owner when the agent is root).
  // NoClobber: an existing file is not replaced. Into: the destination must be a directory the
  // stream's entries go into (several sources); without it a single source may name its copy.
  // Resume: a partial file left by an interrupted copy is continued where the sender's bytes still
  // match it (the copy stream's resume handshake), instead of being started over.
  static constexpr uint8_t kRecursive = 1, kPreserve = 2, kNoClobber = 4, kInto = 8, kResume = 16, kKnownFlags = 31;
  Direction direction = Direction::IntoGuest;
  uint8_t flags = 0;
  std::vector<std::string> paths;  // IntoGuest: the destination, one; OutOfGuest: the sources
  bool operator==(const CopySpec&) const = default;
};

struct Open {
  SessionMode mode = SessionMode::Pipes;
  WinSize size;
  std::string term, cwd, user;
  std::vector<std::string> argv;  // empty: the user's login shell
  std::vector<std::string> env;   // "KEY=VALUE"
  SessionId id{};                 // all zero: the agent chooses (sent only to agents with kCapOpenId)
  Destination destination;        // Connection: where to connect; Listen: where to listen (both require an id)
  std::string name;               // empty: none (sent only to agents with kCapNames, and only with an id)
  CopySpec copy;                  // Copy (requires an id)
};

// Attach to an existing session. With `resume`, the client continues a session it was already
// bridging and states exactly what it has received; otherwise the agent replays from what the
// previous client acknowledged.
struct Attach {
  SessionId id{};  // all zero: the most recently detached session
  bool resume = false;
  // Fresh attaches only, and only to an agent with kCapViewers. Neither: join a session another
  // client shows, as a viewer that types too; take: the session's client, every other one let go
  // (what a fresh attach always did before kCapViewers); read_only: a viewer that does not type.
  bool take = false;
  bool read_only = false;
  uint64_t received[kStreamCount] = {0, 0, 0};
  WinSize size;
};

// What an attached client is to its session. The session's client has the exact, resumable
// streams; a viewer (kCapViewers) has streams of its own that start with the screen, and after a
// cut joins again rather than resume.
enum class AttachRole : uint8_t { Client = 0, Viewer = 1, ReadOnlyViewer = 2 };

struct SessionInfo {  // reply to OPEN and ATTACH
  SessionId id{};
  SessionMode mode = SessionMode::Pipes;
  uint32_t pid = 0;
  uint64_t received[kStreamCount] = {0, 0, 0};  // what the agent holds of each inbound stream
  AttachRole role = AttachRole::Client;         // sent only to clients that announced kCapViewers
};

struct Exit {
  ExitKind kind = ExitKind::Exited;
  int32_t code = 0;
  std::string message;
};

struct ErrorMsg {
  ErrorCode code = ErrorCode::Internal;
  std::string message;
};

struct ListEntry {
  SessionId id{};
  SessionState state = SessionState::Detached;
  SessionMode mode = SessionMode::Pipes;
  uint32_t pid = 0;
  WinSize size;
  uint64_t created_unix_ms = 0;
  uint64_t idle_ms = 0;
  int32_t exit_code = -1;  // exited sessions: what `attach` will return
  std::string command;
  std::string name;  // empty: none (from agents with kCapNames, to clients that announced it)
  int clients = -1;  // attached clients, viewers included (to clients that announced kCapViewers); -1: not said
};

// Whom a KILL is for. Foreground is what KILL meant before kCapKillRecipient, and what SIGNAL does.
enum class KillRecipient : uint8_t {
  Foreground = 0,  // a PTY's foreground process group; a pipes session's process group
  Process = 1,     // the session's process, the pid LIST_ENTRY shows (the session leader)
  Close = 2,       // hang the session up and discard it, whatever runs in it (the signal is unused)
};
inline constexpr uint8_t kLastKillRecipient = 2;

struct Kill {
  SessionId id{};
  uint8_t signal = 15;
  KillRecipient recipient = KillRecipient::Foreground;  // sent only to agents with kCapKillRecipient
};

// Wire signal numbers are the classic POSIX numbers on every platform.
namespace sig {
inline constexpr uint8_t kHup = 1, kInt = 2, kQuit = 3, kKill = 9, kUsr1 = 10, kUsr2 = 12, kPipe = 13, kTerm = 15,
                         kCont = 18, kStop = 19, kTstp = 20, kWinch = 28;
}
// "TERM", "SIGTERM" or "15" → wire number; 0 when unknown.
uint8_t parse_signal_name(const std::string& text);
const char* signal_name(uint8_t wire_signal);

}  // namespace hvterm::wire
