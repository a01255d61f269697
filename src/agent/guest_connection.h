#pragma once
// GuestConnection: what a connection session (hvterm nc, forward) carries instead of a program: a
// TCP connection, Unix socket or Windows named pipe the agent opens inside the guest. To the session
// it looks like a child whose stdin and stdout are the one socket and which has no stderr; its
// "exit" is the connection's end: Exited 0 once both directions ended cleanly (each half-close is
// passed on separately), ConnectionFailed with a one-line reason otherwise.
#include <uv.h>

#include <memory>
#include <string>
#include <vector>

#include "common/timer.h"
#include "platform/process.h"
#include "protocol/wire.h"

namespace hvterm {

class GuestConnection final : public platform::Child {
 public:
  // Starts connecting at once; `connected` runs when the socket is up, `ended` once with the end.
  GuestConnection(uv_loop_t* loop, const wire::Destination& destination, uint64_t timeout_ms,
                  std::function<void()> connected, std::function<void(const wire::Exit&)> ended);
  // A connection a GuestListener accepted: up already; `name` says who it is from, for messages.
  GuestConnection(uv_loop_t* loop, uv_stream_t* accepted, std::string name,
                  std::function<void(const wire::Exit&)> ended);
  ~GuestConnection() override;

  bool connected() const { return connected_; }
  // How the session's use of the socket went: its read ended (UV_EOF or an error), a write failed.
  void read_ended(int status);
  void write_failed(int status);

  uv_stream_t* input() override;
  uv_stream_t* output() override;
  uv_stream_t* error_output() override { return nullptr; }
  void close_input() override;  // the client's EOF: shut down our sending side
  uint32_t pid() const override { return 0; }
  void resize(const platform::TerminalSize&) override {}
  // A connection has no process to signal: a signal (the client's Ctrl-C, SIGPIPE, hvterm kill)
  // closes it, and the session ends as a program killed by that signal would.
  int signal(int signal) override;
  void hang_up() override;
  bool exited() const override { return ended_; }
  void close(std::function<void()> on_closed) override;

  // The one-line reason for a libuv error on a connection, by class (for EXIT's code).
  static wire::ConnectionError classify(int uv_error);

 private:
  struct Lookup;  // a name resolution in flight; outlives us if cancelled
  void resolve();
  void on_resolved(int status, addrinfo* result);
  void try_next_address();
  void on_connect(int status);
  void fail(int uv_error, const std::string& doing);
  void end(wire::ConnectionError error, const std::string& message);
  void finish(const wire::Exit& end, const std::string& log_record);
  // From the constructor: the session hears of it on the next turn of the loop, once it holds us.
  void end_soon(wire::ConnectionError error, std::string message);
  void maybe_end_cleanly();
  void release_socket();

  uv_loop_t* loop_;
  wire::Destination destination_;
  std::string name_;  // for messages: "localhost:22"
  std::function<void()> on_connected_;
  std::function<void(const wire::Exit&)> on_ended_;
  Timer timeout_;
  uint64_t timeout_ms_;
  Lookup* lookup_ = nullptr;
  std::vector<sockaddr_storage> candidates_;  // the addresses to try, in order
  size_t next_candidate_ = 0;
  int first_error_ = 0;            // what the first address said: the one most services listen on
  uv_stream_t* stream_ = nullptr;  // a uv_tcp_t or uv_pipe_t of ours
  uv_connect_t connect_request_{};
  uv_shutdown_t shutdown_request_{};
  bool connected_ = false, write_closed_ = false, read_done_ = false, write_done_ = false;
  bool shutdown_wanted_ = false;  // the client's EOF came before the connection was up
  bool ended_ = false;
  bool reset_before_connected_ = false;  // the connect's own answer was the peer's reset
};

}  // namespace hvterm
