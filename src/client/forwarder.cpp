#include "client/forwarder.h"

#include <algorithm>

#include "client/outbound_connect.h"
#include "common/log.h"
#include "platform/sockets.h"
#include "protocol/destination_text.h"
#include "transport/socket_address.h"

namespace hvterm {
Forwarder::Forwarder(uv_loop_t* loop, ClientOptions session, std::vector<LocalForward> local,
                     std::vector<RemoteForward> remote, LocalWriter* messages, Events events)
    : loop_(loop), session_(std::move(session)), messages_(messages), events_(std::move(events)) {
  session_.escape = 0;  // a byte pipe: nothing in it is for hvterm
  session_.attach = false;
  session_.open = wire::Open{};  // what shell/exec -L/-R came with is for their program, not for us
  session_.transcript_fd = session_.recording_fd = -1;
  for (auto& forward : local) {
    auto listener = std::make_unique<Listener>();
    listener->owner = this;
    listener->forward = std::move(forward);
    listeners_.push_back(std::move(listener));
  }
  for (auto& forward : remote) {
    auto r = std::make_unique<Remote>();
    r->owner = this;
    r->forward = std::move(forward);
    remotes_.push_back(std::move(r));
  }
}

Forwarder::~Forwarder() {
  *alive_ = false;
  close_listeners();
}

size_t Forwarder::open_connections() const {
  size_t listening = 0;
  for (const auto& r : remotes_) listening += r->session != nullptr ? 1 : 0;
  return clients_.size() - listening + connecting_;
}

bool Forwarder::start(std::string& error) {
  for (auto& listener : listeners_)
    if (!listen_on(*listener, error)) return false;
  for (auto& remote : remotes_)
    if (!start_remote(*remote, error)) return false;
  for (auto& listener : listeners_)
    if (events_.ready)
      events_.ready(listener->address + " to " + wire::describe(listener->forward.destination) + " in the guest",
                    listener->forward.port == 0);
  remotes_waited_ = remotes_.size() + 1;
  one_ready();  // the -L ones
  return true;
}

void Forwarder::one_ready() {
  if (remotes_waited_ == 0 || --remotes_waited_ != 0) return;
  if (events_.all_ready) events_.all_ready();
}

// ---- -L ------------------------------------------------------------------------------------------------

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
  listener.address = describe_listen_address(forward.bind, tcp_destination_of(bound).port);
  return true;
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
  uv_tcp_nodelay(connection, 1);     // keystrokes through an ssh inside go out at once
  ++listener.accepted;
  std::string peer;
  sockaddr_storage address{};
  int length = sizeof address;
  if (uv_tcp_getpeername(connection, reinterpret_cast<sockaddr*>(&address), &length) == 0)
    peer = " from " + wire::describe(tcp_destination_of(address));
  log::info("connection " + std::to_string(listener.accepted) + " on " + listener.address + peer);
  ClientOptions options = session_;
  options.open.mode = wire::SessionMode::Connection;
  options.open.destination = listener.forward.destination;
  bridge(std::move(options), std::move(stream),
         listener.address + " connection " + std::to_string(listener.accepted) + peer + ": ");
}

void Forwarder::say(const std::string& line) {
  if (events_.say) return events_.say(line);
  messages_->write(Slice::copy_of("hvterm: " + line + "\n"), [](size_t, int) {});
}

void Forwarder::bridge(ClientOptions options, SharedStream stream, std::string prefix) {
  auto& client = clients_.emplace_back(std::make_unique<SessionClient>(loop_, std::move(options)));
  SessionClient* raw = client.get();
  raw->start(ForwardedEnds{std::move(stream), messages_, std::move(prefix), events_.say},
             [this, raw](int) { on_finished(raw); });
}

// ---- -R ------------------------------------------------------------------------------------------------

bool Forwarder::start_remote(Remote& remote, std::string& error) {
  uv_stream_t* ends[2];
  if (!platform::stream_pair(loop_, ends, error)) return false;
  remote.ids = ends[1];
  remote.ids->data = &remote;
  uv_read_start(
      remote.ids,
      [](uv_handle_t*, size_t, uv_buf_t* buf) {
        static char block[4096];  // records are copied out at once
        *buf = uv_buf_init(block, sizeof block);
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
        auto* r = static_cast<Remote*>(s->data);
        r->owner->on_ids(*r, nread, buf);
      });
  ClientOptions options = session_;
  options.open.mode = wire::SessionMode::Listen;
  options.open.destination = remote.forward.listen;
  auto& client = clients_.emplace_back(std::make_unique<SessionClient>(loop_, std::move(options)));
  remote.session = client.get();
  remote.session->start(ForwardedEnds{share_stream(ends[0]), messages_, "-R " + remote.forward.text + ": ",
                                      events_.say},
                        [this, raw = remote.session](int) { on_finished(raw); });
  return true;
}

// The listening session's stdout: session ids, kAcceptedIdSize bytes each; all zero first, once the
// agent listens.
void Forwarder::on_ids(Remote& remote, ssize_t nread, const uv_buf_t* buf) {
  if (nread < 0) {  // the listening session ended and closed its side
    platform::close_stream(remote.ids);
    remote.ids = nullptr;
    return;
  }
  remote.partial.append(buf->base, static_cast<size_t>(nread));
  wire::SessionId id;
  while (remote.partial.size() >= id.size()) {
    std::copy_n(remote.partial.begin(), id.size(), id.begin());
    remote.partial.erase(0, id.size());
    if (id == wire::SessionId{}) {
      if (!remote.answered) {
        remote.answered = true;
        one_ready();
      }
      if (events_.ready)
        events_.ready(wire::describe(remote.forward.listen) + " in the guest to " +
                          wire::describe(remote.forward.destination) + " here",
                      false);
      continue;
    }
    on_remote_connection(remote, id);
  }
}

void Forwarder::on_remote_connection(Remote& remote, const wire::SessionId& id) {
  uint64_t number = ++remote.accepted;
  std::string prefix = wire::describe(remote.forward.listen) + " in the guest, connection " + std::to_string(number) +
                       ": ";
  ClientOptions options = session_;
  options.attach = true;
  options.attach_id = id;
  log::info("connection " + std::to_string(number) + " on " + wire::describe(remote.forward.listen) +
            " in the guest: session " + wire::session_id_hex(id).substr(0, 8));
  ++connecting_;
  connect_outbound(loop_, remote.forward.destination,
                   [this, alive = alive_, options, prefix](uv_stream_t* stream, const std::string& error) mutable {
                     if (!*alive) {
                       if (stream != nullptr) platform::close_stream(stream);
                       return;
                     }
                     --connecting_;
                     if (stream != nullptr && !stopping_)
                       return bridge(std::move(options), share_stream(stream), prefix);
                     if (stream != nullptr) platform::close_stream(stream);
                     if (!error.empty())
                       messages_->write(Slice::copy_of("hvterm: " + prefix + error +
                                                       "; closing the guest's connection\n"),
                                        [](size_t, int) {});
                     // Attach to it all the same, only to close it at once: the guest's program hears at once
                     // that there is nobody here, and the agent forgets the session.
                     uv_stream_t* ends[2];
                     std::string why;
                     if (!platform::stream_pair(loop_, ends, why)) return maybe_stopped();
                     platform::close_stream(ends[1]);
                     options.signal_once_bound = wire::sig::kTerm;
                     options.quiet = true;
                     bridge(std::move(options), share_stream(ends[0]), prefix);
                   });
}

// ---- the end ---------------------------------------------------------------------------------------------

void Forwarder::on_finished(SessionClient* client) {
  for (auto it = clients_.begin(); it != clients_.end(); ++it) {
    if (it->get() != client) continue;
    ended_.push_back(std::move(*it));
    clients_.erase(it);
    break;
  }
  bool listener_failed = false;
  for (auto& remote : remotes_) {
    if (remote->session != client) continue;
    remote->session = nullptr;
    listener_failed = !stopping_;
    if (!remote->answered) {
      remote->answered = true;
      one_ready();
    }
  }
  reaper_.start(loop_, 0, 0, [this] {
    ended_.clear();
    maybe_stopped();
  });
  if (listener_failed && events_.failed) events_.failed();
}

void Forwarder::maybe_stopped() {
  if (!stopping_ || !clients_.empty() || connecting_ != 0 || !on_stopped_) return;
  auto stopped = std::move(on_stopped_);
  on_stopped_ = nullptr;
  for (auto& remote : remotes_) {
    if (remote->ids == nullptr) continue;
    platform::close_stream(remote->ids);
    remote->ids = nullptr;
  }
  stopped();
}

void Forwarder::stop(int signum, std::function<void()> done) {
  if (!stopping_) {
    stopping_ = true;
    stop_signal_ = signum;
    close_listeners();
  }
  on_stopped_ = std::move(done);
  // A copy: a client may end (and be moved out) from within interrupt().
  std::vector<SessionClient*> open;
  for (auto& client : clients_) open.push_back(client.get());
  for (auto* client : open) client->interrupt(signum);
  maybe_stopped();
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
