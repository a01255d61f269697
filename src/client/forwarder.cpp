#include "client/forwarder.h"

#include "common/log.h"
#include "platform/sockets.h"

namespace hvterm {

Forwarder::Forwarder(uv_loop_t* loop, ClientOptions session, std::vector<LocalForward> forwards, LocalWriter* messages)
    : loop_(loop), session_(std::move(session)), messages_(messages) {
  session_.escape = 0;  // a byte pipe: nothing in it is for hvterm
  session_.open.mode = wire::SessionMode::Connection;
  for (auto& forward : forwards) {
    auto listener = std::make_unique<Listener>();
    listener->owner = this;
    listener->forward = std::move(forward);
    listeners_.push_back(std::move(listener));
  }
}

Forwarder::~Forwarder() { close_listeners(); }

bool Forwarder::listen(std::string& error) {
  for (auto& listener : listeners_)
    if (!listen_on(*listener, error)) return false;
  return true;
}

bool Forwarder::listen_on(Listener& listener, std::string& error) {
  const LocalForward& forward = listener.forward;
  sockaddr_storage address{};
  bool v6 = forward.bind.find(':') != std::string::npos;
  int rc = v6 ? uv_ip6_addr(forward.bind.c_str(), forward.port, reinterpret_cast<sockaddr_in6*>(&address))
              : uv_ip4_addr(forward.bind.c_str(), forward.port, reinterpret_cast<sockaddr_in*>(&address));
  auto* handle = new uv_tcp_t;
  uv_tcp_init(loop_, handle);
  handle->data = &listener;
  listener.handle = handle;
  if (rc == 0) rc = uv_tcp_bind(handle, reinterpret_cast<const sockaddr*>(&address), v6 ? UV_TCP_IPV6ONLY : 0);
  if (rc == 0)
    rc = uv_listen(reinterpret_cast<uv_stream_t*>(handle), 128, [](uv_stream_t* server, int status) {
      auto* l = static_cast<Listener*>(server->data);
      l->owner->on_connection(*l, status);
    });
  if (rc != 0) {
    error = "cannot listen on " + describe_listen_address(forward.bind, forward.port) + " (-L " + forward.text +
            "): " + uv_strerror(rc);
    return false;
  }
  sockaddr_storage bound{};
  int length = sizeof bound;
  uv_tcp_getsockname(handle, reinterpret_cast<sockaddr*>(&bound), &length);
  uint16_t port = ntohs(v6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                           : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  listener.address = describe_listen_address(forward.bind, port);
  return true;
}

std::vector<std::string> Forwarder::describe() const {
  std::vector<std::string> lines;
  for (const auto& listener : listeners_)
    lines.push_back(listener->address + " to " + wire::describe(listener->forward.destination) + " in the guest");
  return lines;
}

void Forwarder::on_connection(Listener& listener, int status) {
  if (status != 0) {  // out of descriptors, for one: say so, and go on listening
    log::warn("cannot accept a connection on " + listener.address + ": " + uv_strerror(status));
    return;
  }
  auto* connection = new uv_tcp_t;
  uv_tcp_init(loop_, connection);
  int rc = uv_accept(reinterpret_cast<uv_stream_t*>(listener.handle), reinterpret_cast<uv_stream_t*>(connection));
  auto stream = share_stream(reinterpret_cast<uv_stream_t*>(connection));
  if (rc != 0 || stopping_) return;  // the shared stream closes it
  uv_tcp_nodelay(connection, 1);  // keystrokes through an ssh inside go out at once
  ++listener.accepted;
  std::string peer;
  sockaddr_storage address{};
  int length = sizeof address;
  char host[64] = "";
  if (uv_tcp_getpeername(connection, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    uv_ip_name(reinterpret_cast<sockaddr*>(&address), host, sizeof host);
    uint16_t port = ntohs(address.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&address)->sin6_port
                                                        : reinterpret_cast<sockaddr_in*>(&address)->sin_port);
    peer = " from " + describe_listen_address(host, port);
  }
  log::info("connection " + std::to_string(listener.accepted) + " on " + listener.address + peer);
  ClientOptions options = session_;
  options.open.destination = listener.forward.destination;
  auto& client = clients_.emplace_back(std::make_unique<SessionClient>(loop_, std::move(options)));
  SessionClient* raw = client.get();
  ForwardedEnds ends{std::move(stream), messages_,
                     listener.address + " connection " + std::to_string(listener.accepted) + peer + ": "};
  raw->start(std::move(ends), [this, raw](int) { on_finished(raw); });
}

void Forwarder::on_finished(SessionClient* client) {
  for (auto it = clients_.begin(); it != clients_.end(); ++it) {
    if (it->get() != client) continue;
    ended_.push_back(std::move(*it));
    clients_.erase(it);
    break;
  }
  reaper_.start(loop_, 0, 0, [this] {
    ended_.clear();
    if (stopping_ && clients_.empty() && on_stopped_) {
      auto stopped = std::move(on_stopped_);
      on_stopped_ = nullptr;
      reaper_.close();
      stopped();
    }
  });
}

void Forwarder::stop(int signum, std::function<void()> done) {
  if (!stopping_) {
    stopping_ = true;
    close_listeners();
  }
  on_stopped_ = std::move(done);
  if (clients_.empty()) {
    reaper_.close();
    ended_.clear();
    auto stopped = std::move(on_stopped_);
    on_stopped_ = nullptr;
    if (stopped) stopped();
    return;
  }
  // A copy: a client may end (and be moved out) from within interrupt().
  std::vector<SessionClient*> open;
  for (auto& client : clients_) open.push_back(client.get());
  for (auto* client : open) client->interrupt(signum);
}

void Forwarder::close_listeners() {
  for (auto& listener : listeners_) {
    if (listener->handle == nullptr) continue;
    listener->handle->data = nullptr;
    platform::close_stream(reinterpret_cast<uv_stream_t*>(listener->handle));
    listener->handle = nullptr;
  }
}

}  // namespace hvterm
