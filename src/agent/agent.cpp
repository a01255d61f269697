#include "agent/agent.h"

#include <algorithm>

#include "agent/connection.h"
#include "agent/session.h"
#include "common/buffer.h"
#include "common/log.h"
#include "platform/process.h"
#include "platform/sockets.h"
#include "platform/system.h"
#include "protocol/codec.h"
#include "transport/framed_connection.h"

namespace hvterm {

Agent::Agent(uv_loop_t* loop, AgentOptions options) : loop_(loop), options_(std::move(options)) {}

namespace {
constexpr uint64_t kSettleAfterMs = 1000;
}  // namespace

Agent::~Agent() = default;

bool Agent::start(std::string& error) {
  auto accept = [this](uv_stream_t* stream, const platform::Peer& peer) { on_accept(stream, peer); };
  for (int fd : options_.inherited_fds) {
    auto listener = platform::listen_inherited(loop_, fd, accept, error);
    if (!listener) return false;
    log::info("serving inherited socket " + std::to_string(fd));
    listeners_.push_back(std::move(listener));
  }
  for (const auto& address : options_.listen) {
    auto listener = platform::listen(loop_, address, accept, error);
    if (!listener) return false;
    log::info("listening on " + describe(address));
    listeners_.push_back(std::move(listener));
  }
  return true;
}

bool Agent::peer_allowed(const platform::Peer& peer) const {
  switch (peer.kind) {
    case platform::Peer::Kind::LocalUser: return peer.uid == options_.owner_uid || peer.uid == 0;
    case platform::Peer::Kind::Vsock:
      return options_.allow_any_cid || std::find(options_.allowed_cids.begin(), options_.allowed_cids.end(),
                                                 peer.cid) != options_.allowed_cids.end();
    case platform::Peer::Kind::AdmittedByOs: return true;
    case platform::Peer::Kind::Unknown: return false;  // whoever it is, nothing says they may
  }
  return false;
}

namespace {
std::string refusal_reason(const platform::Peer& peer) {
  switch (peer.kind) {
    case platform::Peer::Kind::Vsock:
      return "CID " + std::to_string(peer.cid) + " is not allowed by the agent (--allow-cid)";
    case platform::Peer::Kind::Unknown:
      return "the agent cannot tell who is connecting (" + peer.description + "), so it refuses";
    case platform::Peer::Kind::LocalUser:
    case platform::Peer::Kind::AdmittedByOs: break;
  }
  return "this user may not use the agent";
}
}  // namespace

size_t default_max_connections(size_t descriptor_limit) {
  constexpr size_t kOwnDescriptors = 32, kCap = 1024;
  if (descriptor_limit == 0) return kCap;
  if (descriptor_limit <= kOwnDescriptors + 2) return 1;
  return std::min(kCap, (descriptor_limit - kOwnDescriptors) / 2);
}

void Agent::refuse_over_limit(uv_stream_t* stream) {
  std::string limit = std::to_string(options_.max_connections);
  if (refused_over_limit_++ == 0)
    log::warn("connection limit reached (--max-connections " + limit + "): refusing new connections until some end");
  FramedConnection::create(stream, nullptr)
      ->fail(wire::ErrorCode::Limit, "the agent serves at most " + limit + " connections at once (--max-connections)");
}

void Agent::on_accept(uv_stream_t* stream, const platform::Peer& peer) {
  if (shutting_down_ || !peer_allowed(peer)) {
    log::warn("refused connection from " + peer.description + (shutting_down_ ? " (shutting down)" : " (not allowed)"));
    // Tell the client why before closing, so it can say more than "connection reset".
    std::string why = shutting_down_ ? "the agent is shutting down" : refusal_reason(peer);
    FramedConnection::create(stream, nullptr)
        ->fail(shutting_down_ ? wire::ErrorCode::Internal : wire::ErrorCode::Unauthorized, why);
    return;
  }
  if (connections_.size() >= options_.max_connections) return refuse_over_limit(stream);
  log::debug("connection from " + peer.description);
  auto* connection = new AgentConnection(*this, stream, peer.description, peer.transport);
  connections_.push_back(connection);
  connection->start();
}

void Agent::connection_closed(AgentConnection* connection) {
  connections_.erase(std::remove(connections_.begin(), connections_.end(), connection), connections_.end());
  delete connection;
  if (refused_over_limit_ > 0 && connections_.size() < options_.max_connections) {
    log::info("below the connection limit again; " + std::to_string(refused_over_limit_) +
              " connection(s) were refused meanwhile");
    refused_over_limit_ = 0;
  }
}

Session* Agent::open_session(const wire::Open& request, const std::string& client_transport,
                             platform::ExitStatus& failure, std::string& error) {
  if (shutting_down_) {
    error = "the agent is shutting down";
    return nullptr;
  }
  bool connection = wire::carries_socket(request.mode);
  if (connection && forwards_ >= options_.max_forwards) {
    error = "forwarded connection limit reached (" + std::to_string(options_.max_forwards) +
            "; see hvtermd --max-forwards)";
    return nullptr;
  }
  if (!connection && sessions_.size() - forwards_ >= options_.max_sessions) {
    error = "session limit reached (" + std::to_string(options_.max_sessions) + "; see hvtermd --max-sessions)";
    return nullptr;
  }
  wire::SessionId id = request.id;  // the client's choice, if it made one (unique: checked by the caller)
  if (id == wire::SessionId{} && !platform::random_bytes(id.data(), id.size())) {
    error = "cannot generate a session id";
    return nullptr;
  }
  wire::Open program = request;
  if (!connection) {
    // Last, so that they win over the client's --env: they say where the program runs, as SSH_TTY
    // and TMUX do, and a program must be able to trust them.
    program.env.push_back("HVTERM_SESSION=" + wire::session_id_hex(id));
    program.env.push_back("HVTERM_CLIENT=" + (client_transport.empty() ? std::string("unknown") : client_transport));
  }
  auto session = std::make_unique<Session>(*this, id, program, options_.replay_buffer);
  if (!session->spawn(failure)) {
    log::info("could not start session: " + failure.message);
    // The session's handles were never started; it can go at once.
    return nullptr;
  }
  Session* raw = session.get();
  sessions_.emplace(id, std::move(session));
  if (connection) ++forwards_;
  log::info("session " + wire::session_id_hex(id).substr(0, 8) + " started: " + raw->describe().command);
  return raw;
}

Session* Agent::adopt_connection(uv_stream_t* accepted, const std::string& from, std::string& error) {
  wire::SessionId id{};
  if (shutting_down_) {
    error = "the agent is shutting down";
  } else if (forwards_ >= options_.max_forwards) {
    error = "forwarded connection limit reached (" + std::to_string(options_.max_forwards) +
            "; see hvtermd --max-forwards)";
  } else if (!platform::random_bytes(id.data(), id.size())) {
    error = "cannot generate a session id";
  }
  if (!error.empty()) {
    platform::close_stream(accepted);
    return nullptr;
  }
  wire::Open request;
  request.mode = wire::SessionMode::Connection;
  request.id = id;
  auto session = std::make_unique<Session>(*this, id, request, options_.replay_buffer);
  session->adopt(accepted, from);
  Session* raw = session.get();
  sessions_.emplace(id, std::move(session));
  ++forwards_;
  log::info("session " + wire::session_id_hex(id).substr(0, 8) + " started: " + raw->describe().command);
  return raw;
}

Session* Agent::find_session(const wire::SessionId& id) {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : it->second.get();
}

Session* Agent::find_session_named(const std::string& name) {
  if (name.empty()) return nullptr;
  for (auto& [id, s] : sessions_)
    if (s->name() == name) return s.get();
  return nullptr;
}

Session* Agent::most_recent_detached() {
  Session* best = nullptr;
  for (auto& [id, s] : sessions_) {
    // `hvterm attach TARGET` means a terminal or a program, never a forwarded connection, a listener
    // or a copy.
    if (s->connection() != nullptr || !s->runs_program()) continue;
    if (best == nullptr || s->detached_since_ms() > best->detached_since_ms()) best = s.get();
  }
  return best;
}

std::vector<const Session*> Agent::sessions() const {
  std::vector<const Session*> out;
  for (const auto& [id, s] : sessions_) out.push_back(s.get());
  std::sort(out.begin(), out.end(),
            [](const Session* a, const Session* b) { return a->created_ms() < b->created_ms(); });
  return out;
}

void Agent::remove_session(const wire::SessionId& id) {
  // Called from libuv close callbacks of the session's own handles: destroy it on the next turn.
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  auto* doomed = it->second.release();
  sessions_.erase(it);
  if (doomed->carries_socket()) --forwards_;
  settle_memory_soon();
  auto* idle = new uv_idle_t;
  uv_idle_init(loop_, idle);
  idle->data = doomed;
  uv_idle_start(idle, [](uv_idle_t* h) {
    delete static_cast<Session*>(h->data);
    uv_idle_stop(h);
    uv_close(reinterpret_cast<uv_handle_t*>(h),
             [](uv_handle_t* handle) { delete reinterpret_cast<uv_idle_t*>(handle); });
  });
  log::debug("session " + wire::session_id_hex(id).substr(0, 8) + " removed");
  if (shutting_down_ && sessions_.empty()) log::info("all sessions ended");
}

void Agent::settle_memory_soon() {
  if (shutting_down_) return;
  settle_timer_.start(loop_, kSettleAfterMs, 0, [this] {  // restarted by every call: runs once things are quiet
    if (Block::released_bytes() == released_when_settled_) return;  // the pool took it all
    released_when_settled_ = Block::released_bytes();
    platform::return_free_memory();
  });
  settle_timer_.unref();  // never the reason the agent keeps running
}

bool Agent::token_ok(const std::string& presented) const {
  const std::string& expected = options_.token;
  if (expected.empty()) return true;
  // Constant time in the content: always walk the expected token, fold in the length difference.
  unsigned char diff = static_cast<unsigned char>(presented.size() != expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    unsigned char p = i < presented.size() ? static_cast<unsigned char>(presented[i]) : 0;
    diff |= static_cast<unsigned char>(p ^ static_cast<unsigned char>(expected[i]));
  }
  return diff == 0;
}

void Agent::shut_down() {
  if (shutting_down_) return;
  shutting_down_ = true;
  settle_timer_.close();
  for (auto& l : listeners_) l->close();
  listeners_.clear();
  std::vector<Session*> all;
  for (auto& [id, s] : sessions_) all.push_back(s.get());
  for (Session* s : all) s->terminate();
  std::vector<AgentConnection*> open = connections_;
  for (AgentConnection* c : open) c->close();
}

}  // namespace hvterm
