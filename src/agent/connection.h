#pragma once
// One client connection to the agent: the handshake, then either a one-shot request
// (LIST, KILL, PING) or a binding to one session whose frames it relays.
#include <string>

#include "common/timer.h"
#include "transport/framed_connection.h"

namespace hvterm {

class Agent;
class Session;

class AgentConnection final : public FramedConnection::Handler {
 public:
  AgentConnection(Agent& agent, uv_stream_t* stream, std::string peer, std::string transport);
  ~AgentConnection() override;
  void start();

  FramedConnection& framed() { return *framed_; }
  // Another connection attached to our session: tell our client and close.
  void taken_over();
  // The session's terminal has this size now (several terminals show it: the smallest); a client
  // that can hear it is told.
  void tell_size(const wire::WinSize& size);
  // Forget the session without touching it (it is going away).
  // The session was closed under us (hvterm kill --close, its linger, shutdown): the client is told,
  // and this connection ends (it is deleted before this returns).
  void session_gone(const std::string& message);
  void close();

  void on_frame(wire::Frame& frame) override;
  void on_disconnect(const std::string& reason) override;

 private:
  enum class State { AwaitHello, AwaitRequest, Bound, Refusing, Done };
  void on_hello(wire::Frame& frame);
  void on_request(wire::Frame& frame);
  void on_session_frame(wire::Frame& frame);
  void bind(Session* session, const wire::Attach& attach);
  void on_kill(const wire::Kill& kill);
  void reject(wire::ErrorCode code, const std::string& message);
  void finish();
  bool shares() const;  // the client can be one of several showing a session
  // A peer that sends requests but does not read the answers must not make us buffer without end.
  bool backlog_ok();

  Agent& agent_;
  FramedConnection* framed_;
  std::string peer_;
  std::string transport_;  // platform::Peer::transport: the sessions it opens tell their programs
  State state_ = State::AwaitHello;
  Session* session_ = nullptr;
  uint32_t client_capabilities_ = 0;
  bool detached_on_purpose_ = false;  // the client said DETACH: nobody will resume where it was
  Timer delay_;                       // slows down token guessing; bounds the handshake
};

}  // namespace hvterm
