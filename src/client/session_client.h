#pragma once
// SessionClient: the user's side of one session. Bridges the local stdin/stdout/stderr (and
// terminal) to a session in the agent, and keeps doing so across connection losses: it
// reconnects with backoff and resumes from the exact byte offsets both sides acknowledged.
#include <uv.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "client/asciicast.h"
#include "client/binding.h"
#include "client/escape_parser.h"
#include "client/liveness.h"
#include "client/local_io.h"
#include "client/reconnection.h"
#include "common/signal_watch.h"
#include "common/timer.h"
#include "platform/terminal.h"
#include "protocol/codec.h"
#include "session/inbound_stream.h"
#include "session/outbound_stream.h"
#include "terminal/terminal_modes.h"
#include "transport/connector.h"
#include "transport/framed_connection.h"

namespace hvterm {

struct ClientOptions {
  Target target;
  ConnectOptions connect;
  std::string token;            // presented in HELLO when the agent requires one
  bool attach = false;          // ATTACH an existing session instead of OPEN
  wire::SessionId attach_id{};  // all zero: the most recently detached session
  bool take = false;            // attach --take: be the session's client; every other one is let go
  bool read_only = false;       // attach --read-only: show the session, send it nothing typed
  bool shared = false;          // the session had a client when it was looked up
  wire::Open open;
  // Sent as soon as the session is bound (hvterm forward -R, when this side's connection could not
  // be made: the guest's connection is closed rather than left waiting).
  uint8_t signal_once_bound = 0;
  char escape = '~';  // 0: escapes off
  bool reconnect = true;
  bool quiet = false;
  uint64_t keepalive_ms = 5000;  // ping when the agent has been silent this long
  uint64_t notice_ms = 15000;    // then tell the user it is not responding
  uint64_t dead_ms = 60000;      // then drop the connection and reconnect
  uint64_t reconnect_timeout_ms = 600000;
  size_t input_buffer = 1024 * 1024;  // typed/piped input kept until the agent acknowledges it
  int transcript_fd = -1;             // --log: a copy of everything the session printed
  std::string transcript_path;        // its name, for a message when it cannot be written
  int recording_fd = -1;              // --record: the terminal session as asciicast v2
  std::string recording_path;
};

// A connection `hvterm forward` accepted, bridged instead of the process's stdio: the socket is
// the session's stdin and stdout, and hvterm's messages go to `messages`, after `prefix`.
struct ForwardedEnds {
  SharedStream connection;
  LocalWriter* messages = nullptr;
  std::string prefix;
  std::function<void(const std::string&)> say;  // if set, says our lines (after the prefix) instead
};

class SessionClient final : public FramedConnection::Handler {
 public:
  SessionClient(uv_loop_t* loop, ClientOptions options);
  ~SessionClient() override;
  // Bridges the process's stdio (and terminal): runs the loop until the session ends, detaches or
  // fails; returns the exit status.
  int run();
  // Bridges a forwarded connection on a loop someone else runs. `finished` runs once, with the
  // exit status, when the session is over and libuv holds nothing of ours: we may then be destroyed.
  void start(ForwardedEnds ends, std::function<void(int status)> finished);
  // The whole forward was told to stop (Ctrl-C): this connection ends as a program given the signal would.
  void interrupt(int signum) { on_local_signal(signum); }

  // What runs beside a run() session (shell/exec -L/-R): `start` once stdio is set up (false with a
  // one-line error ends the run with 255); the session opens once it calls `ready` (the program may
  // use the forwards from its first instruction on); `stop` when the session ends.
  struct Companion {
    std::function<bool(std::string& error, std::function<void()> ready)> start;
    std::function<void()> stop;
  };
  void set_companion(Companion companion) { companion_ = std::move(companion); }
  // For the companion: where our messages go, and a status line as we would say it (-q silences it).
  LocalWriter* messages() const { return writers_[1]; }
  void notice_line(const std::string& text) { notice(text); }
  void say_line(const std::string& text) { say(text); }

  void on_frame(wire::Frame& frame) override;
  void on_disconnect(const std::string& reason) override;

 private:
  void start_bridging();  // reading input, the timers, the first connect: what both ways of running share
  void connect();
  void on_connected(uv_stream_t* stream);
  void connection_lost(const std::string& reason);
  void schedule_reconnect();
  void follow(const Reconnection::Next& next);  // what Reconnection decided: wait and retry, or stop
  void reconnect_failed(const ConnectFailure& failure);
  void on_hello(const wire::Hello& hello);
  void on_session(const wire::SessionInfo& info);
  void on_output(wire::Stream stream, uint64_t offset, Slice bytes);
  void on_output_eof(wire::Stream stream, uint64_t offset);
  // `epoch`: streams_epoch_ when the bytes arrived; a write from before a rejoin counts for nothing.
  void on_output_written(int index, size_t bytes, int error, uint64_t epoch);
  void rejoined(const wire::SessionInfo& info);  // a viewer's streams start over
  void on_session_size(const wire::WinSize& size);
  // A file that gets a copy of what the session prints: --log (the bytes as they are) and --record.
  struct OutputCopy {
    explicit OutputCopy(const char* name) : what(name) {}
    const char* what;  // for the one warning when it cannot be written
    std::string path;
    std::unique_ptr<LocalWriter> writer;
    bool failed = false;
  };
  void open_copy(OutputCopy& copy, int fd, const std::string& path);
  void write_copy(OutputCopy& copy, Slice bytes);
  void on_copy_written(OutputCopy& copy, int error);
  bool recording() const { return recording_.writer && !recording_.failed; }
  void record(std::string line);  // a line of the asciicast recording
  double recording_seconds() const;
  void record_size();  // a resize event when the terminal's size changed
  void maybe_ack(int index, bool force);
  void look_again_when_drained(int index);
  void on_error_frame(const wire::ErrorMsg& error);
  void on_exit_frame(const wire::Exit& exit);

  void on_stdin(Slice bytes);
  void on_stdin_end(int error);
  void on_escape(EscapeParser::Command command);
  void pump_input();
  void detach(std::function<void()> then);      // leave the session running; `then` when done
  void leave_detached(const std::string& why);  // detach, say why and how to come back, exit 255
  void restore_terminal_modes();                // undo the modes the program left on in our terminal
  void send_signal(uint8_t wire_signal);
  void send_window_size();
  void on_local_signal(int signum);
  void on_tick();

  void notice(const std::string& text);  // a status line on stderr (suppressed by -q)
  void say(const std::string& text);     // always shown (errors)
  // Print on local stdout (0) or stderr (1), in order across both.
  void write_local(int index, Slice bytes, LocalWriter::Done done = nullptr);
  void check_finished();
  void finish(int code);
  void closed_one();  // a handle or writer of ours closed: the last one tells our owner
  std::string short_id() const;

  uv_loop_t* loop_;
  ClientOptions options_;
  FramedConnection* conn_ = nullptr;

  std::unique_ptr<LocalReader> stdin_;
  bool stdio_ = true;   // we bridge the process's own stdin/stdout/stderr (not a forwarded connection)
  std::string prefix_;  // before each message of ours, after "hvterm: "
  std::function<void(int)> finished_;
  std::function<void(const std::string&)> say_;
  Companion companion_;
  int closes_pending_ = 0;
  // Callbacks that may outlive us (a connect in flight) look here first.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
  std::unique_ptr<LocalWriter> owned_writers_[2];
  LocalWriter* writers_[2] = {nullptr, nullptr};  // stdout, stderr
  OutputCopy transcript_{"transcript"};
  OutputCopy recording_{"recording"};
  asciicast::OutputEncoder cast_;
  uint64_t recording_started_ns_ = 0;
  wire::WinSize recorded_size_;
  std::unique_ptr<platform::Terminal> terminal_;
  bool raw_ = false;
  EscapeParser escapes_;
  TerminalModes modes_;
  bool follow_modes_ = false;  // our stdout is the terminal the session's program draws on
  bool detaching_ = false;     // waiting for the terminal to take its last piece of output
  Timer detach_wait_;
  bool terminal_stuck_ = false;  // it took nothing of the session's last output when we detached
  Timer exit_wait_;              // how long the exit waits for such a terminal to take our last words

  wire::SessionMode mode_ = wire::SessionMode::Pipes;
  OutboundStream input_;
  InboundStream output_[2];
  bool output_eof_written_[2] = {false, false};
  bool output_broken_[2] = {false, false};
  bool local_io_failed_ = false;  // stdin, or stdout/stderr for a reason other than EPIPE, failed: exit 255
  std::vector<uint8_t> pending_signals_;
  wire::WinSize size_;
  uint64_t streams_epoch_ = 0;  // counts rejoins
  wire::WinSize session_size_;  // what the agent said the session's terminal is (kCapViewers)
  bool said_smaller_ = false;   // we told the user the session is smaller than their terminal

  Timer tick_;
  Timer reconnect_timer_;
  Timer ack_timer_;  // sends acknowledgements that did not fill a quarter window
  SignalWatch signals_;
  uint64_t hello_sent_ns_ = 0;  // for -v: how long the handshake took
  int exit_code_ = 255;
  Liveness liveness_;          // when to ping, say the agent is silent, give a connection up
  Reconnection reconnection_;  // when to connect again, and when to stop
  Binding binding_;            // what each answer and each loss means for the session we are bound to
};

}  // namespace hvterm
