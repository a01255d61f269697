#pragma once
// Forwarder: this machine's side of `hvterm forward` (and of shell/exec -L/-R).
//   -L: listens on local TCP addresses and carries each connection it accepts to its destination in
//       the guest, as a connection session of its own.
//   -R: has the agent listen in the guest (a listening session); each connection the agent accepts
//       there is a session the agent names on the listener's stdout, which we attach to and bridge to
//       a connection we make here.
// Every connection is a SessionClient on the resumable stream: a cut, a VM pause or a restore does
// not break it.
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
  struct Events {
    // A forward is up: "127.0.0.1:8080 to localhost:80 in the guest"; `picked`: the system chose the port.
    std::function<void(const std::string&, bool picked)> ready;
    std::function<void()> failed;                 // a -R listener ended by itself (it said why)
    std::function<void(const std::string&)> say;  // a line about one connection (default: "hvterm: " on messages)
    std::function<void()> all_ready;              // every forward is up, or said why not (-R answers later)
  };
  // `session`: how each session connects and resumes (target, timeouts); `messages` gets hvterm's
  // lines about single connections (stderr).
  Forwarder(uv_loop_t* loop, ClientOptions session, std::vector<LocalForward> local, std::vector<RemoteForward> remote,
            LocalWriter* messages, Events events);
  ~Forwarder();
  Forwarder(const Forwarder&) = delete;
  Forwarder& operator=(const Forwarder&) = delete;

  // Listens on every local address and asks the agent to listen on every remote one; false with a
  // one-line `error` when a local one cannot be listened on. `ready` follows for each.
  bool start(std::string& error);
  // Stops accepting here and in the guest. Connections under way end as a program sent `signum`
  // would; `done` runs once the last of them has ended (at once when none is open).
  void stop(int signum, std::function<void()> done);
  size_t open_connections() const;

 private:
  struct Listener {
    Forwarder* owner = nullptr;
    LocalForward forward;
    uv_tcp_t* handle = nullptr;
    std::string address;  // as bound
    uint64_t accepted = 0;
  };
  struct Remote {
    Forwarder* owner = nullptr;
    RemoteForward forward;
    SessionClient* session = nullptr;  // the listening session, while it lasts
    uv_stream_t* ids = nullptr;        // our end of the pair its stdout goes into
    std::string partial;               // of the next session id
    uint64_t accepted = 0;
    bool answered = false;  // listening, or ended
  };
  bool listen_on(Listener& listener, std::string& error);
  bool start_remote(Remote& remote, std::string& error);
  void on_connection(Listener& listener, int status);
  void on_ids(Remote& remote, ssize_t nread, const uv_buf_t* buf);
  void on_remote_connection(Remote& remote, const wire::SessionId& id);
  void say(const std::string& line);
  void bridge(ClientOptions options, SharedStream stream, std::string prefix);
  void on_finished(SessionClient* client);
  void maybe_stopped();
  void close_listeners();

  uv_loop_t* loop_;
  ClientOptions session_;
  LocalWriter* messages_;
  Events events_;
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::unique_ptr<Remote>> remotes_;
  std::list<std::unique_ptr<SessionClient>> clients_;
  size_t connecting_ = 0;      // -R connections being made here
  size_t remotes_waited_ = 0;  // -R listeners that have not said whether they listen
  void one_ready();
  // Ended sessions are destroyed on the next turn of the loop, not inside their own callback.
  std::vector<std::unique_ptr<SessionClient>> ended_;
  Timer reaper_;
  std::function<void()> on_stopped_;
  int stop_signal_ = 0;
  bool stopping_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace hvterm
