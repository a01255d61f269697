#pragma once
// Forwarder: the local side of `hvterm forward -L`. Listens on local TCP addresses and carries
// each connection it accepts to its destination in the guest as a connection session of its own
// (a SessionClient on the resumable stream): a cut, a VM pause or a restore does not break it.
#include <uv.h>

#include <functional>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "client/forward_spec.h"
#include "client/local_io.h"
#include "client/session_client.h"
#include "common/timer.h"

namespace hvterm {

class Forwarder {
 public:
  // `session`: how each connection's session connects and resumes (target, timeouts); `messages`
  // gets hvterm's lines about single connections (stderr).
  Forwarder(uv_loop_t* loop, ClientOptions session, std::vector<LocalForward> forwards, LocalWriter* messages);
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // Listens on every address; false with a one-line `error` when one cannot be listened on.
  bool listen(std::string& error);
  // "127.0.0.1:8080 to localhost:80 in the guest", one per forward, with the ports actually bound.
  std::vector<std::string> describe() const;
  // Stops accepting. Connections under way end as a program sent `signum` would; `done` runs once
  // the last of them has ended (at once when none is open).
  void stop(int signum, std::function<void()> done);
  size_t open_connections() const { return clients_.size(); }

 private:
  struct Listener {
    Forwarder* owner = nullptr;
    LocalForward forward;
    uv_tcp_t* handle = nullptr;
    std::string address;  // as bound
    uint64_t accepted = 0;
  };
  bool listen_on(Listener& listener, std::string& error);
  void on_connection(Listener& listener, int status);
  void on_finished(SessionClient* client);
  void close_listeners();

  uv_loop_t* loop_;
  ClientOptions session_;
  LocalWriter* messages_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::list<std::unique_ptr<SessionClient>> clients_;
  // Ended sessions are destroyed on the next turn of the loop, not inside their own callback.
  std::vector<std::unique_ptr<SessionClient>> ended_;
  Timer reaper_;
  std::function<void()> on_stopped_;
  bool stopping_ = false;
};

}  // namespace hvterm
