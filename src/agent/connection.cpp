#include "agent/connection.h"

#include "agent/agent.h"
#include "agent/session.h"
#include "common/log.h"
#include "platform/process.h"
#include "protocol/codec.h"
#include "protocol/validate.h"
#include "transport/wire_platform.h"

namespace hvterm {
namespace {
constexpr uint64_t kAuthFailureDelayMs = 1000;
// A peer that connects and then says nothing (or half a frame) must not hold a slot forever.
constexpr uint64_t kHandshakeTimeoutMs = 30000;
// What answers to control frames (PONG, ACK) may wait unwritten for a client that does not read,
// beyond the session output its replay buffer allows.
constexpr size_t kControlBacklog = 64 * 1024;
// Output waits in the replay buffer until it is acknowledged; reading stops once that is full, but
// one read (up to four DATA frames) may land on top.
constexpr size_t kOutputReadSlack = 4 * wire::kMaxPayload;
}  // namespace

AgentConnection::AgentConnection(Agent& agent, uv_stream_t* stream, std::string peer, std::string transport)
    : agent_(agent),
      framed_(FramedConnection::create(stream, this)),
      peer_(std::move(peer)),
      transport_(std::move(transport)) {}

AgentConnection::~AgentConnection() = default;

void AgentConnection::start() {
  framed_->start();
  delay_.start(agent_.loop(), kHandshakeTimeoutMs, 0, [this] {
    if (state_ == State::AwaitHello || state_ == State::AwaitRequest)
      reject(wire::ErrorCode::Malformed, "no request within " + std::to_string(kHandshakeTimeoutMs / 1000) + " s");
  });
}

void AgentConnection::on_disconnect(const std::string& reason) {
  if (!reason.empty()) log::debug("connection from " + peer_ + " ended: " + reason);
  framed_ = nullptr;                      // it has closed itself
  if (state_ == State::Refusing) return;  // the refusal timer still holds us; it finishes
  finish();
}

void AgentConnection::finish() {
  if (state_ == State::Done) return;
  state_ = State::Done;
  if (session_ != nullptr) {
    Session* s = session_;
    session_ = nullptr;
    s->detach(this, detached_on_purpose_);
  }
  agent_.connection_closed(this);  // deletes this
}

void AgentConnection::close() {
  if (framed_ != nullptr) framed_->close_after_flush();
  framed_ = nullptr;
  finish();
}

void AgentConnection::reject(wire::ErrorCode code, const std::string& message) {
  log::info("refused request from " + peer_ + ": " + message);
  if (framed_ != nullptr) framed_->fail(code, message);
  framed_ = nullptr;
  finish();
}

void AgentConnection::taken_over() {
  session_ = nullptr;
  if (framed_ != nullptr) framed_->fail(wire::ErrorCode::TakenOver, "another client attached to this session");
  framed_ = nullptr;
  finish();
}

// Both sides announced kCapViewers (an agent without screens does not).
bool AgentConnection::shares() const { return keeps_screens() && (client_capabilities_ & wire::kCapViewers) != 0; }

void AgentConnection::tell_size(const wire::WinSize& size) {
  if (framed_ != nullptr && shares()) framed_->send(wire::encode_window_size(size));
}

void AgentConnection::session_gone(const std::string& message) {
  session_ = nullptr;
  if (framed_ != nullptr) framed_->fail(wire::ErrorCode::NoSuchSession, message);
  framed_ = nullptr;
  finish();
}

void AgentConnection::on_frame(wire::Frame& frame) {
  // Checked before each frame is handled (handling may end this object): answers to what the peer
  // sent so far are what is waiting.
  if (state_ != State::Refusing && state_ != State::Done && !backlog_ok()) return;
  switch (state_) {
    case State::AwaitHello: on_hello(frame); break;
    case State::AwaitRequest: on_request(frame); break;
    case State::Bound: on_session_frame(frame); break;
    case State::Refusing:  // the refusal follows after its delay; nothing the peer says changes it
    case State::Done: break;
  }
}

bool AgentConnection::backlog_ok() {
  if (framed_ == nullptr) return true;
  size_t limit = kControlBacklog + (state_ == State::Bound ? agent_.options().replay_buffer + kOutputReadSlack : 0);
  size_t waiting = framed_->unwritten_bytes();
  if (waiting <= limit) return true;
  reject(wire::ErrorCode::Limit,
         "the client does not read what the agent sends (" + std::to_string(waiting) + " bytes waiting)");
  return false;
}

void AgentConnection::on_hello(wire::Frame& frame) {
  wire::Hello hello;
  if (frame.type != wire::FrameType::Hello) {
    reject(wire::ErrorCode::Malformed, std::string("expected HELLO, got ") + wire::frame_type_name(frame.type));
    return;
  }
  if (!wire::decode(frame.payload.view(), hello)) {
    reject(wire::ErrorCode::Malformed, "malformed HELLO: " + wire::hello_problem(frame.payload.view()));
    return;
  }
  uint16_t version = wire::common_version(hello.version);
  if (version == 0) {
    reject(wire::ErrorCode::Version, "the client speaks protocol version " + std::to_string(hello.version) +
                                         ", this agent versions " + std::to_string(wire::kMinVersion) + " to " +
                                         std::to_string(wire::kVersion));
    return;
  }
  client_capabilities_ = hello.capabilities;
  if (!agent_.token_ok(hello.token)) {
    // Answer late, so guessing tokens over one connection after another stays slow.
    log::warn("wrong or missing token from " + peer_);
    state_ = State::Refusing;  // frames that follow are ignored; a disconnect just ends us
    delay_.start(agent_.loop(), kAuthFailureDelayMs, 0,
                 [this] { reject(wire::ErrorCode::Unauthorized, "authentication failed: wrong or missing token"); });
    return;
  }
  wire::Hello reply;
  reply.version = version;
  reply.capabilities = wire::kCapResume | wire::kCapOpenId | wire::kCapCollectOk | wire::kCapConnect |
                       wire::kCapListen | wire::kCapNames | wire::kCapKillRecipient | wire::kCapCopy |
                       wire::kCapCopyResume | (keeps_screens() ? wire::kCapViewers : 0) |
                       (agent_.options().token.empty() ? 0 : wire::kCapToken);
  reply.software = std::string("hvtermd ") + HVTERM_VERSION;
  framed_->send(wire::encode(reply));
  state_ = State::AwaitRequest;
}

void AgentConnection::on_request(wire::Frame& frame) {
  switch (frame.type) {
    case wire::FrameType::Open: {
      wire::Open open;
      if (!wire::decode(frame.payload.view(), open)) return reject(wire::ErrorCode::Malformed, "malformed OPEN");
      if (auto problem = wire::open_problem(open); !problem.empty())
        return reject(wire::ErrorCode::BadRequest, problem);
      if (wire::carries_socket(open.mode)) {
        const ForwardPolicy& policy = agent_.options().forward;
        auto refusal = open.mode == wire::SessionMode::Connection ? forward_refusal(policy, open.destination)
                                                                  : listen_refusal(policy, open.destination);
        if (!refusal.empty()) return reject(wire::ErrorCode::Unauthorized, refusal);
      }
      if (open.id != wire::SessionId{} && agent_.find_session(open.id) != nullptr)
        return reject(wire::ErrorCode::BadRequest,
                      "session id " + wire::session_id_hex(open.id) + " is already in use");
      // The agent is where names are unique: two clients racing for one name cannot both get it.
      if (const Session* named = agent_.find_session_named(open.name); named != nullptr)
        return reject(wire::ErrorCode::BadRequest, "a session named '" + open.name + "' exists already (" +
                                                       wire::session_id_hex(named->id()).substr(0, 8) + ", " +
                                                       wire::session_state_name(named->state()) +
                                                       "); pick another name");
      platform::ExitStatus failure;
      std::string error;
      Session* session = agent_.open_session(open, transport_, failure, error);
      if (session == nullptr) {
        if (!error.empty()) return reject(wire::ErrorCode::Limit, error);
        // The command could not start: its exit status (126/127) is the whole answer.
        framed_->send(wire::encode(to_wire(failure)));
        framed_->close_after_flush();
        framed_ = nullptr;
        finish();
        return;
      }
      wire::Attach attach;
      attach.size = open.size;
      bind(session, attach);
      return;
    }
    case wire::FrameType::Attach: {
      wire::Attach attach;
      if (!wire::decode(frame.payload.view(), attach)) return reject(wire::ErrorCode::Malformed, "malformed ATTACH");
      if (attach.received[0] != 0) return reject(wire::ErrorCode::BadRequest, "ATTACH: the stdin position must be 0");
      bool most_recent = true;
      for (uint8_t b : attach.id) most_recent = most_recent && b == 0;
      Session* session = most_recent ? agent_.most_recent_detached() : agent_.find_session(attach.id);
      if (session == nullptr)
        return reject(wire::ErrorCode::NoSuchSession,
                      most_recent ? "no detached session to attach to" : "no such session");
      bind(session, attach);
      return;
    }
    case wire::FrameType::List: {
      if (!frame.payload.empty()) return reject(wire::ErrorCode::Malformed, "malformed LIST");
      bool names = (client_capabilities_ & wire::kCapNames) != 0;
      bool clients = (client_capabilities_ & wire::kCapViewers) != 0;
      for (const Session* s : agent_.sessions()) framed_->send(wire::encode(s->describe(), names, clients));
      framed_->send(wire::encode_empty(wire::FrameType::ListEnd));
      return close();
    }
    case wire::FrameType::Kill: {
      wire::Kill kill;
      if (!wire::decode(frame.payload.view(), kill)) return reject(wire::ErrorCode::Malformed, "malformed KILL");
      return on_kill(kill);
    }
    case wire::FrameType::Ping: {
      if (frame.payload.size() != 8) return reject(wire::ErrorCode::Malformed, "malformed PING");
      framed_->send(wire::frame(wire::FrameType::Pong, frame.payload.view()));
      return;
    }
    default: reject(wire::ErrorCode::Malformed, std::string("unexpected ") + wire::frame_type_name(frame.type));
  }
}

void AgentConnection::on_kill(const wire::Kill& kill) {
  Session* session = agent_.find_session(kill.id);
  if (session == nullptr) return reject(wire::ErrorCode::NoSuchSession, "no such session");
  if (session->state() == wire::SessionState::Exited || kill.recipient == wire::KillRecipient::Close) {
    // Killing a finished session discards it and its unread output; closing one hangs it up first.
    log::info("session " + wire::session_id_hex(kill.id).substr(0, 8) + " closed by a client (" + peer_ + ")");
    session->terminate();
  } else {
    int rc = kill.recipient == wire::KillRecipient::Process ? session->signal_process(kill.signal)
                                                            : session->signal(kill.signal);
    if (rc != 0)
      return reject(wire::ErrorCode::BadRequest, std::string("cannot signal the session: ") + uv_strerror(rc));
  }
  framed_->send(wire::encode_empty(wire::FrameType::Ok));
  close();
}

void AgentConnection::bind(Session* session, const wire::Attach& attach) {
  bool shares = this->shares();
  if (!shares && (attach.take || attach.read_only))
    return reject(wire::ErrorCode::Malformed, "ATTACH flags 0x2 and 0x4 need capability 0x400 on both sides");
  std::string refusal;
  auto info = session->attach(this, attach, shares, refusal);
  if (!info)
    return reject(wire::ErrorCode::BadRequest, refusal.empty() ? "resume positions do not match the session" : refusal);
  session_ = session;
  state_ = State::Bound;
  delay_.stop();
  framed_->send(wire::encode(*info, shares));
  // The size of the terminal it shows, which others may share: smaller than its own, perhaps.
  if (info->mode == wire::SessionMode::Pty) tell_size(session->size());
  session->pump();
}

void AgentConnection::on_session_frame(wire::Frame& frame) {
  std::string problem;  // set with a protocol violation; else the frame says what is malformed
  bool ok = true;
  switch (frame.type) {
    case wire::FrameType::Data: {
      wire::Stream stream;
      uint64_t offset;
      Slice bytes;
      ok = wire::decode_data(frame.payload, stream, offset, bytes);
      if (ok && stream != wire::Stream::Stdin) problem = "DATA for a stream other than stdin";
      if (ok && problem.empty()) session_->on_input(this, offset, std::move(bytes), problem);
      break;
    }
    case wire::FrameType::Eof: {
      wire::Stream stream;
      uint64_t offset;
      ok = wire::decode_stream_offset(frame.payload.view(), stream, offset);
      if (ok && stream != wire::Stream::Stdin) problem = "EOF for a stream other than stdin";
      if (ok && problem.empty() && !session_->on_input_eof(this, offset))
        problem = "stdin EOF at offset " + std::to_string(offset) + " does not follow the data received";
      break;
    }
    case wire::FrameType::Ack: {
      wire::Stream stream;
      uint64_t position;
      ok = wire::decode_stream_offset(frame.payload.view(), stream, position);
      if (ok && !session_->on_ack(this, stream, position))
        problem = "ACK of position " + std::to_string(position) + " acknowledges what was never sent";
      break;
    }
    case wire::FrameType::WindowSize: {
      wire::WinSize size;
      ok = wire::decode_window_size(frame.payload.view(), size);
      if (ok) session_->resize(this, size);
      break;
    }
    case wire::FrameType::Signal: {
      uint8_t sig;
      ok = wire::decode_signal(frame.payload.view(), sig);
      if (ok && session_->may_signal(this)) session_->signal(sig);
      break;
    }
    case wire::FrameType::Ping:
      ok = frame.payload.size() == 8;
      if (ok) framed_->send(wire::frame(wire::FrameType::Pong, frame.payload.view()));
      break;
    case wire::FrameType::Detach:
      ok = frame.payload.empty();
      if (ok) {
        detached_on_purpose_ = true;
        return close();
      }
      break;
    case wire::FrameType::Collect: {
      ok = frame.payload.empty();
      if (!ok) break;
      Session* s = session_;
      session_ = nullptr;
      s->collect(this);
      if ((client_capabilities_ & wire::kCapCollectOk) != 0) framed_->send(wire::encode_empty(wire::FrameType::Ok));
      return close();
    }
    default: problem = std::string("unexpected ") + wire::frame_type_name(frame.type) + " in a session";
  }
  if (!ok) return reject(wire::ErrorCode::Malformed, std::string("malformed ") + wire::frame_type_name(frame.type));
  if (!problem.empty()) reject(wire::ErrorCode::Malformed, problem);
}

}  // namespace hvterm
