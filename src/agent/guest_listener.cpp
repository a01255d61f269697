#include "agent/guest_listener.h"

#include <utility>

#include "common/log.h"
#include "platform/sockets.h"
#include "protocol/destination_text.h"
#include "transport/socket_address.h"

namespace hvterm {
namespace {

// The address of a connection's peer, for messages and `hvterm ls`: "127.0.0.1:51234".
std::string peer_of(uv_stream_t* stream) {
  if (stream->type != UV_TCP) return "a local process";
  sockaddr_storage address{};
  int length = sizeof address;
  if (uv_tcp_getpeername(reinterpret_cast<uv_tcp_t*>(stream), reinterpret_cast<sockaddr*>(&address), &length) != 0)
    return "an unknown peer";
  return wire::describe(tcp_destination_of(address));
}

}  // namespace

GuestListener::GuestListener(uv_loop_t* loop, const wire::Destination& where, Accepted accepted,
                             std::function<void(const wire::Exit&)> ended)
    : loop_(loop),
      where_(where),
      name_(wire::describe(where)),
      accepted_(std::move(accepted)),
      on_ended_(std::move(ended)) {
  std::string error;
  if (listen(error)) {
    log::info("listening on " + name_ + " for a client");
    return;
  }
  if (listener_ != nullptr) platform::close_stream(listener_);
  listener_ = nullptr;
  // The session hears of it on the next turn, once it holds us.
  fail_soon_.start(loop_, 0, 0, [this, error] {
    finish(wire::Exit{wire::ExitKind::ConnectionFailed, static_cast<int>(wire::ConnectionError::Other), error});
  });
}

GuestListener::~GuestListener() {
  if (listener_ != nullptr) platform::close_stream(listener_);
}

bool GuestListener::listen(std::string& error) {
  int rc = 0;
  if (where_.kind == wire::Destination::Kind::Tcp) {
    std::string host = where_.host;
    if (host.empty() || wire::names_localhost(host)) host = "127.0.0.1";
    if (host == "*") host = "0.0.0.0";
    sockaddr_storage address{};
    bool v6 = host.find(':') != std::string::npos;
    rc = v6 ? uv_ip6_addr(host.c_str(), where_.port, reinterpret_cast<sockaddr_in6*>(&address))
            : uv_ip4_addr(host.c_str(), where_.port, reinterpret_cast<sockaddr_in*>(&address));
    if (rc != 0) {
      error = "cannot listen on " + name_ + " in the guest: give an IP address, localhost or *, not a name";
      return false;
    }
    auto* tcp = new uv_tcp_t;
    uv_tcp_init(loop_, tcp);
    listener_ = reinterpret_cast<uv_stream_t*>(tcp);
    rc = uv_tcp_bind(tcp, reinterpret_cast<const sockaddr*>(&address), v6 ? UV_TCP_IPV6ONLY : 0);
  } else {
    if ((where_.kind == wire::Destination::Kind::NamedPipe) != platform::kPipesAreNamedPipes) {
      error = platform::kPipesAreNamedPipes ? "this agent runs on Windows, which has named pipes, not Unix socket paths"
                                            : "named pipes are Windows; this agent listens on Unix sockets";
      return false;
    }
    auto* pipe = new uv_pipe_t;
    uv_pipe_init(loop_, pipe, 0);
    listener_ = reinterpret_cast<uv_stream_t*>(pipe);
    rc = uv_pipe_bind(pipe, where_.host.c_str());
  }
  listener_->data = this;
  if (rc == 0)
    rc = uv_listen(listener_, 128,
                   [](uv_stream_t* s, int status) { static_cast<GuestListener*>(s->data)->on_connection(status); });
  if (rc != 0) {
    error = "cannot listen on " + name_ + " in the guest: " + uv_strerror(rc);
    return false;
  }
  return true;
}

void GuestListener::on_connection(int status) {
  if (ended_) return;
  if (status != 0) {  // out of descriptors, for one: say so, and go on listening
    log::warn("cannot accept a connection on " + name_ + ": " + uv_strerror(status));
    return;
  }
  uv_stream_t* connection;
  if (listener_->type == UV_TCP) {
    auto* tcp = new uv_tcp_t;
    uv_tcp_init(loop_, tcp);
    connection = reinterpret_cast<uv_stream_t*>(tcp);
  } else {
    auto* pipe = new uv_pipe_t;
    uv_pipe_init(loop_, pipe, 0);
    connection = reinterpret_cast<uv_stream_t*>(pipe);
  }
  if (int rc = uv_accept(listener_, connection); rc != 0) {
    log::warn("cannot accept a connection on " + name_ + ": " + uv_strerror(rc));
    platform::close_stream(connection);
    return;
  }
  accepted_(connection, peer_of(connection));
}

int GuestListener::signal(int signal) {
  if (ended_) return UV_ESRCH;
  finish(wire::Exit{wire::ExitKind::Signaled, signal, ""});
  return 0;
}

void GuestListener::hang_up() {
  if (ended_) return;
  finish(wire::Exit{wire::ExitKind::ConnectionFailed, static_cast<int>(wire::ConnectionError::Other),
                    "the agent stopped listening on " + name_ + " (its session was ended)"});
}

void GuestListener::finish(const wire::Exit& end) {
  ended_ = true;
  fail_soon_.close();
  if (listener_ != nullptr) {  // connections already accepted are sessions of their own and go on
    platform::close_stream(listener_);
    listener_ = nullptr;
    log::info("stopped listening on " + name_);
  }
  on_ended_(end);
}

void GuestListener::close(std::function<void()> on_closed) {
  fail_soon_.close();
  if (listener_ == nullptr) return on_closed();
  platform::close_stream(std::exchange(listener_, nullptr), std::move(on_closed));
}

}  // namespace hvterm
