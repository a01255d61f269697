#pragma once
// A session lives in the agent, not in a connection: a child process (on a PTY or on pipes),
// the replay buffers of its output, the position of its input, and at most one attached client
// (plus, for a terminal session whose screen the agent keeps, any number of viewers:
// agent/session_viewer.h). Connections come and go (detach, reset, resume); the session carries on
// and delivers each byte exactly once to whichever client is attached.
#include <uv.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/session_lifecycle.h"
#include "agent/session_screen.h"
#include "agent/session_viewer.h"
#include "common/timer.h"
#include "platform/process.h"
#include "protocol/wire.h"
#include "session/inbound_stream.h"
#include "session/outbound_stream.h"

namespace hvterm {

class Agent;
class AgentConnection;
class GuestConnection;

class Session {
 public:
  Session(Agent& agent, const wire::SessionId& id, const wire::Open& request, size_t replay_capacity);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Start the child; on failure `failure` says why (not found / cannot execute).
  bool spawn(platform::ExitStatus& failure);
  // Instead of spawn: carry a connection a listening session accepted (`from` names its peer and
  // the listener). Nobody is attached yet; if nobody attaches soon, the connection is closed.
  void adopt(uv_stream_t* accepted, const std::string& from);

  // Bind a connection. `resume` carries what the client already holds of each output stream;
  // otherwise replay starts at what the previous client acknowledged. `shares`: the client can be
  // a viewer (it announced kCapViewers), and joins as one unless it takes the session or nobody
  // shows it. Returns the reply to send (SESSION).
  // nullopt: the positions are impossible, or `refusal` says why the client cannot be bound.
  std::optional<wire::SessionInfo> attach(AgentConnection* connection, const wire::Attach& request, bool shares,
                                          std::string& refusal);
  // The connection is gone (DETACH, reset, takeover); the session keeps running. `on_purpose`:
  // the client said DETACH, so nobody will resume from where it was.
  void detach(AgentConnection* connection, bool on_purpose = false);
  AgentConnection* connection() const { return connection_; }
  const wire::WinSize& size() const { return size_; }

  // Frames from an attached client or viewer. False means a protocol violation (`problem` says which).
  bool on_input(AgentConnection* from, uint64_t offset, Slice bytes, std::string& problem);
  bool on_input_eof(AgentConnection* from, uint64_t offset);
  bool on_ack(AgentConnection* from, wire::Stream stream, uint64_t position);
  void resize(AgentConnection* from, const wire::WinSize& size);
  bool may_signal(const AgentConnection* from) const;  // not a read-only viewer
  int signal(uint8_t wire_signal);                     // the terminal's foreground job (pipes: the process group)
  int signal_process(uint8_t wire_signal);             // the session's own process, the pid `hvterm ls` shows
  // `from` has the exit status: the session may go, unless `from` is a viewer and the session's
  // client may still come back for it.
  void collect(AgentConnection* from);

  wire::ListEntry describe() const;
  const wire::SessionId& id() const { return id_; }
  const std::string& name() const { return request_.name; }
  bool carries_socket() const { return wire::carries_socket(request_.mode); }
  bool runs_program() const { return wire::runs_program(request_.mode); }
  wire::SessionState state() const { return lifecycle_.state(); }
  uint64_t detached_since_ms() const { return lifecycle_.detached_since_ms(); }
  uint64_t created_ms() const { return created_ms_; }
  // Hang up (SIGHUP the job, SIGKILL if it lingers), then remove the session once reaped.
  void terminate();
  // Send output/EOF/EXIT that is due to the attached connection.
  void pump();

 private:
  struct OutputPipe {
    Session* session;
    int index;  // 0 stdout, 1 stderr
  };
  void start_reading();
  void stop_reading();
  void resume_reading_if_room();
  void on_output(int index, ssize_t nread, const uv_buf_t* buf);
  void finish_output(int index);
  uv_stream_t* output_pipe(int index);     // the child's stdout (0) or stderr (1)
  void on_exit(const wire::Exit& status);  // the program's exit, or the connection's end
  void on_guest_connected();
  void on_accepted(uv_stream_t* connection, const std::string& peer);  // a listening session's
  void release_held_input();
  void maybe_send_input_ack(bool force);
  // `owner`: whose stdin stream the bytes are from: 0 the client's, else a viewer's serial.
  void write_input(Slice bytes, uint64_t owner = 0);
  void on_input_written(uint64_t owner, size_t bytes);
  void close_input_if_done();
  bool output_full() const;
  void touch();
  void follow(const SessionLifecycle::Step& step);  // do what the lifecycle decided
  void on_lifecycle_timer();
  void drop_client();
  void remove();
  bool shows_screen() const { return screen_ != nullptr; }
  void release_output();  // nobody will resume: the screen takes what the replay buffer holds
  wire::SessionInfo join(AgentConnection* connection, const wire::Attach& request);  // as a viewer
  Viewer* viewer_of(const AgentConnection* connection) const;
  void leave(Viewer* viewer);
  void let_viewers_go(bool taken_over);
  // The PTY takes the smallest size of the terminals that show it, as tmux does; those that can
  // hear it are told.
  // True when the size changed (and everyone was told but `newcomer`, which has no SESSION yet).
  bool fit_size(const AgentConnection* newcomer = nullptr);
  wire::WinSize smallest_size(bool with_client) const;  // 0x0: no terminal of known size

  Agent& agent_;
  wire::SessionId id_;
  wire::Open request_;
  std::unique_ptr<platform::Child> child_;
  GuestConnection* guest_ = nullptr;  // child_, when the session carries a connection
  std::string description_;           // what `hvterm ls` shows as its command
  std::vector<Slice> held_input_;     // a connection's input that came before it was up
  AgentConnection* connection_ = nullptr;

  OutboundStream output_[2];
  InboundStream input_;
  OutputPipe pipes_[2];
  bool output_open_[2] = {false, false};
  bool output_widened_[2] = {false, false};  // a full pipe was given kWideOutputPipe
  bool reading_ = false;
  // An idle session holds none: a burst's 256 KiB (pages touched) would stay with every session
  // that ever had one. The pool hands it to the next read without a system call, and slices in the
  // replay buffer keep it alive as long as they need it.
  ReadBlock read_block_;
  size_t input_writes_pending_ = 0;
  uint64_t input_window_base_ = 0;  // the furthest stdin position announced to this connection
  bool input_closed_ = false;

  // PTY sessions (where the build has an emulator): what the terminal shows. `released_`: the
  // client detached on purpose, so output goes to the screen as it is read, and nobody waits for it.
  std::unique_ptr<SessionScreen> screen_;
  bool released_ = false;
  std::vector<std::unique_ptr<Viewer>> viewers_;
  uint64_t last_viewer_serial_ = 0;
  wire::WinSize client_size_;  // the attached client's terminal (0x0: it has none)

  std::optional<wire::Exit> exit_;
  bool exit_sent_ = false;
  SessionLifecycle lifecycle_;
  wire::WinSize size_;
  uint32_t pid_ = 0;
  uint64_t created_ms_ = 0, last_activity_ms_ = 0;
  Timer drain_timer_;      // PTY: how long to wait for trailing output after exit (exists while it may come)
  Timer lifecycle_timer_;  // the wait lifecycle_ asked for: linger, unclaimed or kill grace
  Timer ack_timer_;        // a delayed acknowledgement of input is pending
};

}  // namespace hvterm
