#pragma once
// The agent: listeners, connections and sessions on one libuv loop.
#include <uv.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/forward_policy.h"
#include "common/address.h"
#include "common/timer.h"
#include "platform/process.h"
#include "platform/sockets.h"
#include "protocol/wire.h"

namespace hvterm {

class Session;
class AgentConnection;

struct AgentOptions {
  std::vector<Address> listen;
  std::vector<int> inherited_fds;  // systemd socket activation
  std::vector<uint32_t> allowed_cids = {kVsockCidHost};
  bool allow_any_cid = false;
  std::string token;          // empty: no token required
  size_t max_sessions = 256;  // sessions that run a program
  ForwardPolicy forward;      // which connections sessions may open in the guest
  size_t max_forwards = 256;  // sessions that carry such a connection, or listen for them
  uint64_t forward_connect_timeout_ms = 10000;
  size_t max_connections = 1024;  // see default_max_connections()
  uint64_t linger_ms = 24ull * 3600 * 1000;
  size_t replay_buffer = 1024 * 1024;
  size_t scrollback_lines = 10000;  // kept per PTY session for the next client (agent/session_screen.h)
  uint32_t owner_uid = 0;           // Unix peers must be this uid or root
};

// How many connections the agent serves at once unless told (--max-connections), given the limit on
// open descriptors (0: none). A connection holds one descriptor and the sessions it starts hold
// more (a PTY or three pipes, and the process): connections get half of what the agent's own few
// leave, so that at the limit a client hears "limit reached" rather than "connection reset".
size_t default_max_connections(size_t descriptor_limit);

class Agent {
 public:
  Agent(uv_loop_t* loop, AgentOptions options);
  ~Agent();
  bool start(std::string& error);
  // Stop listening, hang up every session, and let the loop end once they are gone.
  void shut_down();

  uv_loop_t* loop() const { return loop_; }
  const AgentOptions& options() const { return options_; }

  // Used by connections.
  // `client_transport` (platform::Peer::transport) is what the program finds in HVTERM_CLIENT.
  Session* open_session(const wire::Open& request, const std::string& client_transport, platform::ExitStatus& failure,
                        std::string& error);
  // A connection a listening session accepted becomes a session of its own, waiting for its
  // client to attach; nullptr with `error` (and the connection closed) when over the limit.
  Session* adopt_connection(uv_stream_t* accepted, const std::string& from, std::string& error);
  Session* find_session(const wire::SessionId& id);
  Session* find_session_named(const std::string& name);  // nullptr for "": unnamed sessions share no name
  Session* most_recent_detached();
  std::vector<const Session*> sessions() const;
  void remove_session(const wire::SessionId& id);
  void connection_closed(AgentConnection* connection);
  // Constant-time token check with a per-agent failure delay against guessing.
  bool token_ok(const std::string& presented) const;
  // A session's output is all acknowledged or a session is gone: once the agent has been quiet for
  // a moment, memory freed by the burst goes back to the system.
  void settle_memory_soon();

 private:
  void on_accept(uv_stream_t* stream, const platform::Peer& peer);
  void refuse_over_limit(uv_stream_t* stream);
  bool peer_allowed(const platform::Peer& peer) const;

  uv_loop_t* loop_;
  AgentOptions options_;
  std::vector<std::unique_ptr<platform::Listener>> listeners_;
  std::map<wire::SessionId, std::unique_ptr<Session>> sessions_;
  size_t forwards_ = 0;  // of sessions_, those that carry a connection or listen
  std::vector<AgentConnection*> connections_;
  size_t refused_over_limit_ = 0;  // since the connection limit was last reached (one record a burst)
  bool shutting_down_ = false;
  Timer settle_timer_;
  size_t released_when_settled_ = 0;  // Block::released_bytes() at the last settling
};

}  // namespace hvterm
