#include "agent/guest_connection.h"

#include <cstring>
#include <utility>

#include "common/log.h"
#include "platform/sockets.h"
#include "protocol/destination_text.h"

namespace hvterm {

struct GuestConnection::Lookup {
  uv_getaddrinfo_t request{};
  GuestConnection* owner;
};

GuestConnection::GuestConnection(uv_loop_t* loop, const wire::Destination& destination, uint64_t timeout_ms,
                                 std::function<void()> connected, std::function<void(const wire::Exit&)> ended)
    : loop_(loop),
      destination_(destination),
      name_(wire::describe(destination)),
      on_connected_(std::move(connected)),
      on_ended_(std::move(ended)),
      timeout_ms_(timeout_ms) {
  timeout_.start(loop_, timeout_ms_, 0, [this] {
    end(wire::ConnectionError::TimedOut,
        "no connection to " + name_ + " in the guest within " + std::to_string(timeout_ms_ / 1000) + " s");
  });
  if (destination_.kind == wire::Destination::Kind::Tcp) {
    resolve();
    return;
  }
  if ((destination_.kind == wire::Destination::Kind::NamedPipe) != platform::kPipesAreNamedPipes) {
    end_soon(wire::ConnectionError::Other,
             platform::kPipesAreNamedPipes ? "this agent runs on Windows, which has named pipes, not Unix socket paths"
                                           : "named pipes are Windows; this agent connects to Unix sockets");
    return;
  }
  auto* pipe = new uv_pipe_t;
  uv_pipe_init(loop_, pipe, 0);
  stream_ = reinterpret_cast<uv_stream_t*>(pipe);
  connect_request_.data = this;
  uv_pipe_connect(&connect_request_, pipe, destination_.host.c_str(),
                  [](uv_connect_t* req, int status) { static_cast<GuestConnection*>(req->data)->on_connect(status); });
}

GuestConnection::GuestConnection(uv_loop_t* loop, uv_stream_t* accepted, std::string name,
                                 std::function<void(const wire::Exit&)> ended)
    : loop_(loop), name_(std::move(name)), on_ended_(std::move(ended)), timeout_ms_(0), stream_(accepted) {
  destination_.kind = accepted->type == UV_TCP ? wire::Destination::Kind::Tcp
                                               : (platform::kPipesAreNamedPipes ? wire::Destination::Kind::NamedPipe
                                                                                : wire::Destination::Kind::Unix);
  if (accepted->type == UV_TCP) uv_tcp_nodelay(reinterpret_cast<uv_tcp_t*>(accepted), 1);
  connected_ = true;
}

GuestConnection::~GuestConnection() {
  if (lookup_ != nullptr) lookup_->owner = nullptr;
  if (stream_ != nullptr) platform::close_stream(stream_);  // close() was not called: let libuv free it
}

void GuestConnection::resolve() {
  std::string host = destination_.host.empty() ? "localhost" : destination_.host;
  if (wire::names_localhost(host)) {
    // The guest itself, without asking a resolver: a minimal guest may have no /etc/hosts, and the
    // guests hvterm is for often have nothing but the loopback interface. IPv4 first, as most
    // services listen there or on both.
    sockaddr_in v4{};
    sockaddr_in6 v6{};
    uv_ip4_addr("127.0.0.1", destination_.port, &v4);
    uv_ip6_addr("::1", destination_.port, &v6);
    std::memcpy(&candidates_.emplace_back(), &v4, sizeof v4);
    std::memcpy(&candidates_.emplace_back(), &v6, sizeof v6);
    try_next_address();
    return;
  }
  lookup_ = new Lookup{{}, this};
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;  // no AI_ADDRCONFIG: with only a loopback interface it hides every address
  std::string port = std::to_string(destination_.port);
  int rc = uv_getaddrinfo(
      loop_, &lookup_->request,
      [](uv_getaddrinfo_t* req, int status, addrinfo* result) {
        auto* lookup = reinterpret_cast<Lookup*>(req);  // request is the first member
        GuestConnection* owner = lookup->owner;
        delete lookup;
        if (owner == nullptr) {  // cancelled: we are gone
          if (result != nullptr) uv_freeaddrinfo(result);
          return;
        }
        owner->lookup_ = nullptr;
        owner->on_resolved(status, result);
      },
      host.c_str(), port.c_str(), &hints);
  if (rc != 0) {
    delete lookup_;
    lookup_ = nullptr;
    end_soon(classify(rc), "cannot resolve " + host + " in the guest: " + uv_strerror(rc));
  }
}

void GuestConnection::on_resolved(int status, addrinfo* result) {
  if (ended_) {
    if (result != nullptr) uv_freeaddrinfo(result);
    return;
  }
  if (status != 0)
    return fail(status, "cannot resolve " + destination_.host + " in the guest");  // never localhost: see resolve()
  for (const addrinfo* a = result; a != nullptr; a = a->ai_next) {
    if (a->ai_addrlen > sizeof(sockaddr_storage)) continue;
    std::memcpy(&candidates_.emplace_back(), a->ai_addr, a->ai_addrlen);
  }
  uv_freeaddrinfo(result);
  try_next_address();
}

// Each address the name has, in the resolver's order, until one answers (as ssh and curl do).
void GuestConnection::try_next_address() {
  if (stream_ != nullptr) {  // the attempt before failed: its handle cannot be used again
    platform::close_stream(stream_);
    stream_ = nullptr;
  }
  if (next_candidate_ >= candidates_.size())
    return fail(first_error_ != 0 ? first_error_ : UV_EADDRNOTAVAIL, "cannot connect to " + name_ + " in the guest");
  const auto* address = reinterpret_cast<const sockaddr*>(&candidates_[next_candidate_++]);
  auto* tcp = new uv_tcp_t;
  uv_tcp_init(loop_, tcp);
  stream_ = reinterpret_cast<uv_stream_t*>(tcp);
  connect_request_.data = this;
  int rc = uv_tcp_connect(&connect_request_, tcp, address, [](uv_connect_t* req, int status) {
    static_cast<GuestConnection*>(req->data)->on_connect(status);
  });
  if (rc != 0) {
    if (first_error_ == 0) first_error_ = rc;
    try_next_address();
  }
}

void GuestConnection::on_connect(int status) {
  if (status == UV_ECANCELED || ended_) return;  // closed meanwhile: nothing to do
  if (status == UV_ECONNRESET && destination_.kind == wire::Destination::Kind::Tcp) {
    // Connected, and reset before this loop heard of it: a refusal says ECONNREFUSED, so the peer
    // accepted, may have written (a banner, an error) and reset at once. What it wrote is still to
    // be read; the reset is reported after it, as it would have been had we connected sooner.
    reset_before_connected_ = true;
    status = 0;
  }
  if (status != 0) {
    if (first_error_ == 0) first_error_ = status;
    if (destination_.kind == wire::Destination::Kind::Tcp) return try_next_address();
    return fail(status, "cannot connect to " + name_ + " in the guest");
  }
  if (destination_.kind == wire::Destination::Kind::Tcp) {
    // Small writes (keystrokes through an ssh inside) go out at once; the stream batches bulk itself.
    uv_tcp_nodelay(reinterpret_cast<uv_tcp_t*>(stream_), 1);
  }
  timeout_.close();
  connected_ = true;
  log::debug("connected to " + name_);
  if (on_connected_) on_connected_();
  if (shutdown_wanted_ && !ended_) close_input();
}

uv_stream_t* GuestConnection::input() { return connected_ && !write_closed_ && !ended_ ? stream_ : nullptr; }

uv_stream_t* GuestConnection::output() { return stream_; }

void GuestConnection::close_input() {
  if (write_closed_ || ended_) return;
  if (!connected_) {
    shutdown_wanted_ = true;  // the client's EOF came before the connection: pass it on once it is up
    return;
  }
  write_closed_ = true;
  shutdown_request_.data = this;
  int rc = uv_shutdown(&shutdown_request_, stream_, [](uv_shutdown_t* req, int status) {
    if (status == UV_ECANCELED) return;  // closed meanwhile
    auto* self = static_cast<GuestConnection*>(req->data);
    if (status != 0) return self->write_failed(status);
    self->write_done_ = true;
    self->maybe_end_cleanly();
  });
  if (rc != 0) write_failed(rc);
}

void GuestConnection::read_ended(int status) {
  if (ended_) return;
  if (status == UV_EOF && reset_before_connected_) status = UV_ECONNRESET;
  if (status != UV_EOF) return fail(status, "the connection to " + name_ + " in the guest broke");
  read_done_ = true;
  maybe_end_cleanly();
}

void GuestConnection::write_failed(int status) {
  if (ended_) return;
  // A connected socket stops being one only when the peer resets it: a shutdown after the reset
  // says ENOTCONN, where a write would have said ECONNRESET. Both are the same end.
  if (status == UV_ENOTCONN || (status == UV_EPIPE && reset_before_connected_)) status = UV_ECONNRESET;
  write_closed_ = true;
  fail(status, "the connection to " + name_ + " in the guest broke");
}

void GuestConnection::maybe_end_cleanly() {
  if (ended_ || !read_done_ || !write_done_) return;
  finish(wire::Exit{wire::ExitKind::Exited, 0, ""}, "the connection to " + name_ + " ended");
}

int GuestConnection::signal(int signal) {
  if (ended_) return UV_ESRCH;
  finish(wire::Exit{wire::ExitKind::Signaled, signal, ""},
         "the connection to " + name_ + " was closed by signal " + std::to_string(signal));
  return 0;
}

void GuestConnection::hang_up() {
  end(wire::ConnectionError::Other, "the agent closed the connection to " + name_ + " (its session was ended)");
}

wire::ConnectionError GuestConnection::classify(int uv_error) {
  switch (uv_error) {
    case UV_ECONNREFUSED:
    case UV_ENOENT:  // no socket at that path: nothing listens
      return wire::ConnectionError::Refused;
    case UV_ECONNRESET:
    case UV_EPIPE:
    case UV_ECONNABORTED: return wire::ConnectionError::Reset;
    case UV_ENETUNREACH:
    case UV_EHOSTUNREACH:
    case UV_ENETDOWN:
    case UV_EADDRNOTAVAIL: return wire::ConnectionError::Unreachable;
    case UV_ETIMEDOUT: return wire::ConnectionError::TimedOut;
    case UV_EAI_NONAME:
    case UV_EAI_AGAIN:
    case UV_EAI_FAIL:
    case UV_EAI_NODATA:
    case UV_EAI_ADDRFAMILY: return wire::ConnectionError::UnknownHost;
    default: return wire::ConnectionError::Other;
  }
}

void GuestConnection::fail(int uv_error, const std::string& doing) {
  end(classify(uv_error), doing + ": " + uv_strerror(uv_error));
}

void GuestConnection::end(wire::ConnectionError error, const std::string& message) {
  if (ended_) return;
  finish(wire::Exit{wire::ExitKind::ConnectionFailed, static_cast<int>(error), message}, message);
}

// Every end goes this way, once: the session hears it, then the socket goes.
void GuestConnection::finish(const wire::Exit& end, const std::string& log_record) {
  ended_ = true;
  timeout_.close();
  log::debug(log_record);
  on_ended_(end);
  release_socket();
}

// Once the end is known the guest's side hears it at once, whether or not a client is there to
// collect the session: the socket goes (the session stopped reading it when it heard of the end).
void GuestConnection::release_socket() {
  if (lookup_ != nullptr) {  // its callback comes later, with UV_ECANCELED, and finds no owner
    lookup_->owner = nullptr;
    uv_cancel(reinterpret_cast<uv_req_t*>(&lookup_->request));
    lookup_ = nullptr;
  }
  if (stream_ == nullptr) return;
  platform::close_stream(stream_);
  stream_ = nullptr;
}

void GuestConnection::end_soon(wire::ConnectionError error, std::string message) {
  timeout_.start(loop_, 0, 0, [this, error, message = std::move(message)] { end(error, message); });
}

void GuestConnection::close(std::function<void()> on_closed) {
  timeout_.close();
  if (lookup_ != nullptr) release_socket();
  if (stream_ == nullptr) return on_closed();
  platform::close_stream(std::exchange(stream_, nullptr), std::move(on_closed));
}

}  // namespace hvterm
