#include "client/outbound_connect.h"

#include <cstring>
#include <memory>
#include <vector>

#include "platform/sockets.h"
#include "protocol/destination_text.h"

namespace hvterm {
namespace {

// One attempt at a time; owns itself until `done` has run.
struct Attempt {
  Attempt(uv_loop_t* l, const wire::Destination& d, OutboundDone callback)
      : loop(l), destination(d), done(std::move(callback)), name(wire::describe(d)) {}
  uv_loop_t* loop;
  wire::Destination destination;
  OutboundDone done;
  std::string name;
  uv_getaddrinfo_t lookup{};
  uv_connect_t connect{};
  uv_stream_t* stream = nullptr;
  std::vector<sockaddr_storage> candidates;
  size_t next = 0;
  int first_error = 0;

  void finish(uv_stream_t* connected, const std::string& error) {
    auto callback = std::move(done);
    delete this;
    callback(connected, error);
  }

  void fail(int code, const std::string& doing) { finish(nullptr, doing + ": " + uv_strerror(code)); }

  void try_next() {
    if (stream != nullptr) {
      platform::close_stream(stream);
      stream = nullptr;
    }
    if (next >= candidates.size())
      return fail(first_error != 0 ? first_error : UV_EADDRNOTAVAIL, "cannot connect to " + name + " here");
    auto* tcp = new uv_tcp_t;
    uv_tcp_init(loop, tcp);
    stream = reinterpret_cast<uv_stream_t*>(tcp);
    connect.data = this;
    int rc = uv_tcp_connect(&connect, tcp, reinterpret_cast<const sockaddr*>(&candidates[next++]),
                            [](uv_connect_t* req, int status) {
                              static_cast<Attempt*>(req->data)->on_connect(status);
                            });
    if (rc != 0) {
      if (first_error == 0) first_error = rc;
      try_next();
    }
  }

  void on_connect(int status) {
    if (status != 0) {
      if (first_error == 0) first_error = status;
      if (destination.kind == wire::Destination::Kind::Tcp) return try_next();
      platform::close_stream(stream);
      stream = nullptr;
      return fail(status, "cannot connect to " + name + " here");
    }
    if (stream->type == UV_TCP) uv_tcp_nodelay(reinterpret_cast<uv_tcp_t*>(stream), 1);
    uv_stream_t* connected = stream;
    stream = nullptr;
    finish(connected, "");
  }

  void on_resolved(int status, addrinfo* result) {
    if (status != 0) return fail(status, "cannot resolve " + destination.host + " here");
    for (const addrinfo* a = result; a != nullptr; a = a->ai_next) {
      if (a->ai_addrlen > sizeof(sockaddr_storage)) continue;
      std::memcpy(&candidates.emplace_back(), a->ai_addr, a->ai_addrlen);
    }
    uv_freeaddrinfo(result);
    try_next();
  }
};

}  // namespace

void connect_outbound(uv_loop_t* loop, const wire::Destination& destination, OutboundDone done) {
  auto* attempt = new Attempt(loop, destination, std::move(done));
  if (destination.kind != wire::Destination::Kind::Tcp) {
    if ((destination.kind == wire::Destination::Kind::NamedPipe) != platform::kPipesAreNamedPipes)
      return attempt->finish(nullptr, platform::kPipesAreNamedPipes ? "this machine has named pipes, not Unix sockets"
                                                                    : "named pipes are Windows; this machine has none");
    auto* pipe = new uv_pipe_t;
    uv_pipe_init(loop, pipe, 0);
    attempt->stream = reinterpret_cast<uv_stream_t*>(pipe);
    attempt->connect.data = attempt;
    uv_pipe_connect(&attempt->connect, pipe, destination.host.c_str(),
                    [](uv_connect_t* req, int status) { static_cast<Attempt*>(req->data)->on_connect(status); });
    return;
  }
  std::string host = destination.host.empty() ? "localhost" : destination.host;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  std::string port = std::to_string(destination.port);
  attempt->lookup.data = attempt;
  int rc = uv_getaddrinfo(
      loop, &attempt->lookup,
      [](uv_getaddrinfo_t* req, int status, addrinfo* result) {
        static_cast<Attempt*>(req->data)->on_resolved(status, result);
      },
      host.c_str(), port.c_str(), &hints);
  if (rc != 0) attempt->fail(rc, "cannot resolve " + host + " here");
}

}  // namespace hvterm
