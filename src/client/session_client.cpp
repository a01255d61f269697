#include "client/session_client.h"

#include <csignal>
#include <cstdlib>

#include "common/log.h"
#include "common/printable.h"
#include "common/units.h"
#include "platform/process.h"
#include "platform/sockets.h"
#include "platform/system.h"
#include "platform/terminal.h"
#include "protocol/validate.h"
#include "transport/wire_platform.h"

namespace hvterm {
namespace {

Liveness::Limits liveness_limits(const ClientOptions& o) {
  Liveness::Limits l;
  l.keepalive_ms = o.keepalive_ms;
  l.notice_ms = o.notice_ms;
  l.dead_ms = o.dead_ms;
  l.answer_ms = o.connect.timeout_ms;
  l.collect_ms = 3000;  // then COLLECT without an OK is sent again, on a new connection
  return l;
}

Reconnection::Limits reconnection_limits(const ClientOptions& o) {
  Reconnection::Limits l;
  l.give_up_ms = o.reconnect_timeout_ms;
  // How long an agent's Unix socket may stay dead (gone, or refusing) before its sessions count as
  // ended with it. Not at once: the socket may be a relay to a VM's agent, restarting.
  l.agent_gone_ms = 10000;
  l.collect_ms = 5000;     // reconnecting only to collect an exit status: the user has everything else
  l.first_delay_ms = 100;  // a cut relay or a resumed VM is usually back at once
  l.max_delay_ms = 5000;   // and a VM being restored is not polled harder than this
  return l;
}

Binding::Options binding_options(const ClientOptions& o) {
  Binding::Options b;
  b.attach = o.attach;
  b.attach_id = o.attach_id;
  b.mode = o.open.mode;
  b.resume_copy = o.open.mode == wire::SessionMode::Copy && (o.open.copy.flags & wire::CopySpec::kResume) != 0;
  b.open_id = o.open.id;
  // Ours to choose once the agent takes ids (kCapOpenId); all zero, the agent chooses, and a lost
  // answer then loses the session.
  if (!o.attach && o.open.id == wire::SessionId{} && !platform::random_bytes(b.fresh_id.data(), b.fresh_id.size()))
    b.fresh_id = wire::SessionId{};
  b.reconnect = o.reconnect;
  b.named = !o.open.name.empty();
  b.take = o.take;
  b.read_only = o.read_only;
  b.shared = o.shared;
  return b;
}

// How long a detach waits for the terminal to take the piece of output it was writing: a terminal
// that takes nothing for this long is stuck, and the user asked to leave.
constexpr uint64_t kDetachWaitMs = 2000;

int index_of(wire::Stream s) { return s == wire::Stream::Stdout ? 0 : 1; }
wire::Stream stream_of(int index) { return index == 0 ? wire::Stream::Stdout : wire::Stream::Stderr; }

}  // namespace

SessionClient::SessionClient(uv_loop_t* loop, ClientOptions options)
    : loop_(loop),
      options_(std::move(options)),
      escapes_(options_.escape),
      input_(wire::Stream::Stdin, options_.input_buffer),
      liveness_(liveness_limits(options_)),
      reconnection_(reconnection_limits(options_)),
      binding_(binding_options(options_)) {}

SessionClient::~SessionClient() { *alive_ = false; }

int SessionClient::run() {
  platform::remember_stdio_flags();
  if (platform::is_terminal(0)) terminal_ = platform::open_terminal(0);
  if (terminal_) size_ = to_wire(terminal_->size());
  options_.open.size = size_;
  for (int i = 0; i < 2; ++i) {
    owned_writers_[i] = std::make_unique<LocalWriter>(loop_, i + 1);
    writers_[i] = owned_writers_[i].get();
  }
  open_copy(transcript_, options_.transcript_fd, options_.transcript_path);
  open_copy(recording_, options_.recording_fd, options_.recording_path);
  if (recording_.writer) {
    recording_started_ns_ = uv_hrtime();
    asciicast::Header header;
    header.width = size_.cols > 0 ? size_.cols : 80;
    header.height = size_.rows > 0 ? size_.rows : 24;
    header.timestamp = static_cast<int64_t>(platform::unix_time_ms() / 1000);
    if (const char* term = std::getenv("TERM")) header.term = term;
    if (const char* shell = std::getenv("SHELL")) header.shell = shell;
    recorded_size_ = size_;
    record(asciicast::header_line(header));
  }
  stdin_ = std::make_unique<LocalReader>(loop_, 0);
  signals_.start(loop_, platform::kForwardedSignals, [this](int signum) { on_local_signal(signum); });
  // -v records go where hvterm's own messages go: in order with the remote stderr, and with a
  // carriage return while the terminal is raw.
  log::set_sink([this](const std::string& record) { write_local(1, Slice::copy_of(record + (raw_ ? "\r\n" : "\n"))); });
  start_bridging();
  std::string error;
  if (!companion_.start) {
    connect();
  } else if (!companion_.start(error, [this, alive = alive_] {
               if (*alive && binding_.idle()) connect();
             })) {
    say(error);
    finish(255);
  }
  uv_run(loop_, UV_RUN_DEFAULT);
  log::set_sink(nullptr);
  if (terminal_) terminal_->restore();
  platform::restore_stdio_flags();
  return local_io_failed_ ? 255 : exit_code_;
}

void SessionClient::start(ForwardedEnds ends, std::function<void(int)> finished) {
  stdio_ = false;
  prefix_ = std::move(ends.prefix);
  finished_ = std::move(finished);
  owned_writers_[0] = std::make_unique<LocalWriter>(loop_, ends.connection);
  writers_[0] = owned_writers_[0].get();
  writers_[1] = ends.messages;
  say_ = std::move(ends.say);
  stdin_ = std::make_unique<LocalReader>(loop_, std::move(ends.connection));
  start_bridging();
  connect();
}

void SessionClient::start_bridging() {
  stdin_->start([this](Slice bytes) { on_stdin(std::move(bytes)); }, [this](int error) { on_stdin_end(error); });
  uint64_t period = std::clamp<uint64_t>(options_.keepalive_ms / 2, 50, 1000);
  tick_.start(loop_, period, period, [this] { on_tick(); });
}

// ---- connection lifecycle ----------------------------------------------------------------------------

void SessionClient::connect() {
  binding_.connecting();
  liveness_.enter(Liveness::Stage::None, uv_now(loop_));
  reconnection_.attempting();
  ConnectOptions connect_options = options_.connect;
  if (!binding_.may_start_agent()) connect_options.start_local_agent = false;
  connect_target(loop_, options_.target, connect_options,
                 [this, alive = alive_](uv_stream_t* stream, const ConnectFailure& failure) {
                   if (!*alive || binding_.done()) {
                     if (stream != nullptr) platform::close_stream(stream);
                     return;
                   }
                   if (stream != nullptr) return on_connected(stream);
                   if (binding_.connect_failed() == Binding::AfterLoss::AttemptFailed) return reconnect_failed(failure);
                   say(failure.message);
                   finish(255);
                 });
}

void SessionClient::on_connected(uv_stream_t* stream) {
  conn_ = FramedConnection::create(stream, this);
  conn_->trace_frames(options_.connect.trace_frames);
  conn_->start();
  hello_sent_ns_ = uv_hrtime();
  wire::Hello hello;
  hello.capabilities = wire::kCapResume | wire::kCapOpenId | wire::kCapCollectOk | wire::kCapNames | wire::kCapViewers;
  hello.software = std::string("hvterm ") + HVTERM_VERSION;
  hello.token = options_.token;
  conn_->send(wire::encode(hello));
  binding_.connected();
  liveness_.enter(Liveness::Stage::Answer, uv_now(loop_));  // a new connection starts with a clean slate
}

void SessionClient::on_disconnect(const std::string& reason) {
  conn_ = nullptr;         // it closed itself
  if (detaching_) return;  // the detach goes on; the agent detaches the session itself
  connection_lost(reason.empty() ? "the agent closed the connection" : reason);
}

void SessionClient::connection_lost(const std::string& reason) {
  if (!binding_.done()) log::info("connection lost: " + reason);
  if (conn_ != nullptr) {
    conn_->close();
    conn_ = nullptr;
  }
  liveness_.enter(Liveness::Stage::None, uv_now(loop_));
  switch (binding_.lost(reconnection_.in_outage())) {
    case Binding::AfterLoss::Nothing: return;
    case Binding::AfterLoss::CutEarly:
      if (reconnection_.early_cut()) {
        log::info("cut before the agent answered; connecting again");
        return schedule_reconnect();
      }
      say(reason);
      return finish(255);
    case Binding::AfterLoss::End: say(reason); return finish(255);
    case Binding::AfterLoss::EndInDoubt:
      say("connection lost before the agent answered (" + reason + "); if it started the command, it is session " +
          short_id() + ": hvterm attach " + options_.target.text + " " + short_id());
      return finish(255);
    case Binding::AfterLoss::EndLeaving:
      say("connection lost (" + reason + "); unless the agent has exited, session " + short_id() +
          " is still running: hvterm attach " + options_.target.text + " " + short_id());
      return finish(255);
    case Binding::AfterLoss::Reconnect:
      // With the exit status in hand, a reconnect only lets the agent know it may forget the
      // session (COLLECT); schedule_reconnect gives that a short deadline.
      reconnection_.lost(uv_now(loop_));
      if (!binding_.has_exit()) notice("connection lost (" + reason + "); reconnecting...");
      return schedule_reconnect();
    case Binding::AfterLoss::AttemptFailed: return reconnect_failed({reason});
  }
}

void SessionClient::reconnect_failed(const ConnectFailure& failure) {
  log::debug("reconnect failed: " + failure.message);
  auto next = reconnection_.failed(uv_now(loop_), failure.nothing_listens, binding_.has_exit());
  if (next.verdict == Reconnection::Verdict::AgentGone) {
    say("gave up reconnecting: " + failure.message + " for " + format_duration(reconnection_.limits().agent_gone_ms) +
        ", so session " + short_id() + " has ended with its agent");
    return finish(255);
  }
  if (next.say_unreachable)
    notice("agent not reachable (" + failure.message + "); retrying for " + format_duration(next.retrying_for_ms) +
           "...");
  follow(next);
}

void SessionClient::schedule_reconnect() { follow(reconnection_.schedule(uv_now(loop_), binding_.has_exit())); }

void SessionClient::follow(const Reconnection::Next& next) {
  switch (next.verdict) {
    case Reconnection::Verdict::Done:  // the session stays listed as exited in the agent until it lingers out
      return finish(exit_code_);
    case Reconnection::Verdict::GiveUp:
    case Reconnection::Verdict::AgentGone:
      say("gave up reconnecting after " + format_duration(options_.reconnect_timeout_ms) + "; session " + short_id() +
          " may still be running in the agent: hvterm attach " + options_.target.text + " " + short_id());
      return finish(255);
    case Reconnection::Verdict::Retry: break;
  }
  log::info("reconnecting in " + std::to_string(next.delay_ms) + " ms (attempt " + std::to_string(next.attempt) + ")");
  reconnect_timer_.start(loop_, next.delay_ms, 0, [this] {
    if (binding_.waiting()) connect();
  });
}

// ---- frames from the agent -----------------------------------------------------------------------------

void SessionClient::on_frame(wire::Frame& frame) {
  if (detaching_) return;  // we are leaving: what the agent says now is for the next client
  if (liveness_.heard(uv_now(loop_))) notice("the agent is responding again");
  auto malformed = [this, &frame] {
    connection_lost(std::string("protocol error: malformed ") + wire::frame_type_name(frame.type));
  };
  switch (binding_.route(frame.type)) {
    case Binding::Route::Ignore: return;
    case Binding::Route::Malformed: return malformed();
    case Binding::Route::Error: {
      wire::ErrorMsg error;
      if (!wire::decode(frame.payload.view(), error)) return malformed();
      return on_error_frame(error);
    }
    case Binding::Route::Hello: {
      wire::Hello hello;
      if (!wire::decode(frame.payload.view(), hello)) return malformed();
      return on_hello(hello);
    }
    case Binding::Route::Session: {
      wire::SessionInfo info;
      if (!wire::decode(frame.payload.view(), info)) return malformed();
      return on_session(info);
    }
    case Binding::Route::Exit: {
      wire::Exit exit;
      if (!wire::decode(frame.payload.view(), exit)) return malformed();
      return on_exit_frame(exit);
    }
    case Binding::Route::Data: {
      wire::Stream stream;
      uint64_t offset;
      Slice bytes;
      if (!wire::decode_data(frame.payload, stream, offset, bytes) || stream == wire::Stream::Stdin) return malformed();
      return on_output(stream, offset, std::move(bytes));
    }
    case Binding::Route::Eof: {
      wire::Stream stream;
      uint64_t offset;
      if (!wire::decode_stream_offset(frame.payload.view(), stream, offset) || stream == wire::Stream::Stdin)
        return malformed();
      return on_output_eof(stream, offset);
    }
    case Binding::Route::Ack: {
      wire::Stream stream;
      uint64_t position;
      if (!wire::decode_stream_offset(frame.payload.view(), stream, position) || stream != wire::Stream::Stdin ||
          !input_.ack(position))
        return malformed();
      if (!input_.full()) stdin_->resume();
      return;
    }
    case Binding::Route::SessionSize: {
      wire::WinSize size;
      if (!wire::decode_window_size(frame.payload.view(), size)) return malformed();
      return on_session_size(size);
    }
    case Binding::Route::Collected:  // the agent has forgotten the session
      log::info("the agent has forgotten the finished session");
      conn_->close();
      conn_ = nullptr;
      return finish(exit_code_);
  }
}

void SessionClient::on_hello(const wire::Hello& hello) {
  if (auto problem = wire::answered_version_problem(hello.version); !problem.empty()) {
    say(problem);  // no reconnect can change it
    return finish(255);
  }
  auto ask = binding_.hello_answered(hello.capabilities);
  log::info("handshake done in " + format_elapsed(uv_hrtime() - hello_sent_ns_) + ": " + printable(hello.software) +
            ", protocol " + std::to_string(hello.version));
  switch (ask.kind) {
    case Binding::Ask::Kind::Attach: {
      wire::Attach attach;
      attach.id = ask.id;
      attach.resume = ask.resume;
      attach.take = ask.take;
      attach.read_only = ask.read_only;
      if (ask.resume) {
        attach.received[1] = output_[0].position();
        attach.received[2] = output_[1].position();
      }
      attach.size = size_;
      if (attach.resume)
        log::info("resuming session " + short_id() + " from stdout @" + std::to_string(attach.received[1]) +
                  ", stderr @" + std::to_string(attach.received[2]));
      else
        log::info(attach.id == wire::SessionId{}
                      ? std::string("attaching to the most recent detached session")
                      : "attaching to session " + wire::session_id_hex(attach.id).substr(0, 8));
      return conn_->send(wire::encode(attach));
    }
    case Binding::Ask::Kind::TooOldToConnect:
      say("this agent (" + printable(hello.software) +
          ") is too old to open connections in the guest; update hvtermd there");
      return finish(255);
    case Binding::Ask::Kind::TooOldToCopy:
      say("this agent (" + printable(hello.software) + ") is too old to copy files; update hvtermd there");
      return finish(255);
    case Binding::Ask::Kind::TooOldToShare:
      say("this agent (" + printable(hello.software) + ") cannot show a session to two clients; " +
          (options_.read_only ? "update hvtermd there to watch one"
                              : "update hvtermd there, or take the session over with --take"));
      return finish(255);
    case Binding::Ask::Kind::TooOldToResume:
      say("this agent (" + printable(hello.software) +
          ") is too old to resume partial files; update hvtermd there, or leave out --resume");
      return finish(255);
    case Binding::Ask::Kind::TooOldToListen:
      say("this agent (" + printable(hello.software) + ") is too old to listen in the guest; update hvtermd there");
      return finish(255);
    case Binding::Ask::Kind::TooOldToName:
      say("this agent (" + printable(hello.software) +
          ") is too old to name sessions; update hvtermd there, or leave out --name");
      return finish(255);
    case Binding::Ask::Kind::NoId:
      say("cannot generate a session id");  // a connection must be resumable: the agent requires one
      return finish(255);
    case Binding::Ask::Kind::Open: {
      options_.open.id = ask.id;
      bool connection = wire::carries_socket(options_.open.mode);
      log::info(std::string("opening a session (") + wire::session_mode_name(options_.open.mode) + "): " +
                (connection                   ? wire::describe(options_.open.destination)
                 : options_.open.argv.empty() ? std::string("the login shell")
                                              : join_words(options_.open.argv)));
      return conn_->send(wire::encode(options_.open));
    }
  }
}

void SessionClient::on_session(const wire::SessionInfo& info) {
  auto answer = binding_.session_answered(info.id, info.role);
  bool resumed = answer == Binding::Answer::Resumed || answer == Binding::Answer::Mismatch;
  if (answer == Binding::Answer::Rejoined) {
    rejoined(info);
  } else if (resumed) {
    if (answer == Binding::Answer::Mismatch || !input_.rewind(info.received[0])) {
      say("the agent's copy of session " + short_id() + " does not match ours; giving up");
      return finish(255);
    }
    if (info.received[1] != output_[0].position() || info.received[2] != output_[1].position()) {
      say("the agent cannot resume session " + short_id() + " from where we left off; giving up");
      return finish(255);
    }
    if (!binding_.has_exit()) notice("reconnected to session " + short_id());
  } else {
    if (answer == Binding::Answer::NotOurs) {
      say("the agent answered with session " + wire::session_id_hex(info.id).substr(0, 8) + ", not ours (" +
          short_id() + "); giving up");
      return finish(255);
    }
    if (answer == Binding::Answer::Found && !binding_.has_exit()) notice("reconnected to session " + short_id());
    mode_ = info.mode;
    input_.start_at(info.received[0]);
    output_[0].reset_to(info.received[1]);
    output_[1].reset_to(info.received[2]);
    output_[0].acks_start_at(info.received[1]);
    output_[1].acks_start_at(info.received[2]);
    if (mode_ == wire::SessionMode::Pty && terminal_) {
      std::string error;
      if (!terminal_->make_raw(error)) {
        say(error);
        return finish(255);
      }
      raw_ = true;
      follow_modes_ = stdio_ && platform::is_terminal(1);
    }
    if (options_.attach && stdio_)
      notice("attached to session " + short_id() +
             (info.role == wire::AttachRole::Viewer           ? " beside its other client (~. leaves)"
              : info.role == wire::AttachRole::ReadOnlyViewer ? ", read-only (~. leaves)"
                                                              : ""));
    if (options_.signal_once_bound != 0) pending_signals_.push_back(options_.signal_once_bound);
  }
  log::info(std::string(resumed ? "resumed" : "in") + " session " + short_id() + " (pid " + std::to_string(info.pid) +
            "); the agent holds our stdin up to @" + std::to_string(info.received[0]));
  binding_.bound();
  liveness_.enter(Liveness::Stage::Bound, uv_now(loop_));
  reconnection_.bound();
  // The agent's position may acknowledge input we held back for: read on.
  if (!input_.full()) stdin_->resume();
  for (uint8_t s : pending_signals_) conn_->send(wire::encode_signal(s));
  pending_signals_.clear();
  if ((resumed || answer == Binding::Answer::Rejoined) && mode_ == wire::SessionMode::Pty) send_window_size();
  pump_input();
}

void SessionClient::on_output(wire::Stream stream, uint64_t offset, Slice bytes) {
  if (detaching_) return;  // not shown, so not acknowledged: the next attach shows it
  int index = index_of(stream);
  std::string problem;
  auto fresh = output_[index].fresh_part(offset, std::move(bytes), problem);
  if (!fresh) return connection_lost("protocol error: " + std::string(index == 0 ? "stdout " : "stderr ") + problem);
  if (fresh->empty()) return;
  bytes = std::move(*fresh);
  output_[index].received(bytes.size());
  write_copy(transcript_, bytes);  // shares the bytes, no copy
  if (recording()) record(cast_.event(recording_seconds(), bytes.view()));
  if (output_broken_[index]) {  // nobody reads it any more
    output_[index].consumed(bytes.size());
    return maybe_ack(index, false);
  }
  if (index == 0 && follow_modes_) {
    // The terminal's modes are followed in what it was given, part by part as it takes it.
    Slice shown = bytes;
    size_t taken = 0;
    return write_local(index, std::move(bytes),
                       [this, shown, taken, epoch = streams_epoch_](size_t n, int error) mutable {
                         if (error == 0) modes_.feed(shown.view().substr(taken, n));
                         taken += n;
                         on_output_written(0, n, error, epoch);
                       });
  }
  write_local(index, std::move(bytes), [this, index, epoch = streams_epoch_](size_t n, int error) {
    on_output_written(index, n, error, epoch);
  });
}

// The connection of a viewer was cut: the agent kept nothing for it, and it joined again. Its
// streams start over, with the screen as it is now: what the terminal did not take of the old ones
// is dropped, the program's modes are turned off (the screen brings back those still on), and the
// keystrokes not acknowledged are lost with the connection (the screen shows what arrived).
void SessionClient::rejoined(const wire::SessionInfo& info) {
  ++streams_epoch_;
  writers_[0]->discard_unwritten();
  restore_terminal_modes();
  for (int i = 0; i < 2; ++i) {
    output_[i] = InboundStream();
    output_[i].reset_to(info.received[i + 1]);
    output_[i].acks_start_at(info.received[i + 1]);
    output_eof_written_[i] = false;
  }
  input_.restart_at(info.received[0]);
  if (!binding_.has_exit())
    notice("joined session " + short_id() + " again" +
           (info.role == wire::AttachRole::Client ? " as its client (its other client has left)" : ""));
}

void SessionClient::on_session_size(const wire::WinSize& size) {
  session_size_ = size;
  if (size_.rows == 0 || size_.cols == 0 || mode_ != wire::SessionMode::Pty) return;
  bool smaller = size.rows != size_.rows || size.cols != size_.cols;
  if (smaller)
    notice("the session is " + std::to_string(size.cols) + "x" + std::to_string(size.rows) +
           ": the smallest of the terminals that show it");
  else if (said_smaller_)
    notice("the session has your terminal's size again");
  said_smaller_ = smaller;
}

void SessionClient::on_output_written(int index, size_t bytes, int error, uint64_t epoch) {
  if (epoch != streams_epoch_) return check_finished();  // bytes of the streams before a rejoin
  if (error != 0 && raw_) {
    // Our terminal has gone (hung up: EIO), as SIGHUP would also tell us: the session stays, and
    // what the terminal did not take is not acknowledged, so the next attach shows it.
    if (output_broken_[index]) return;
    output_broken_[index] = true;
    return leave_detached(std::string("cannot write to the terminal (") + uv_strerror(error) + ")");
  }
  output_[index].consumed(bytes);
  if (error != 0 && !output_broken_[index]) {
    // The output can no longer be delivered. As in a local pipeline, the program is sent SIGPIPE and
    // what it prints to this stream from now on is discarded. A reader that went away (`| head`)
    // is no error; anything else (a full disk, an I/O error) is, and hvterm then exits 255.
    output_broken_[index] = true;
    send_signal(wire::sig::kPipe);
    if (error != UV_EPIPE) {
      local_io_failed_ = true;
      say(std::string("cannot write to ") + (index == 0 ? "stdout" : "stderr") + ": " + uv_strerror(error));
    }
  }
  maybe_ack(index, false);
  check_finished();
}

void SessionClient::open_copy(OutputCopy& copy, int fd, const std::string& path) {
  if (fd < 0) return;
  copy.writer = std::make_unique<LocalWriter>(loop_, fd);
  copy.path = path;
}

void SessionClient::write_copy(OutputCopy& copy, Slice bytes) {
  if (!copy.writer || copy.failed) return;
  copy.writer->write(std::move(bytes), [this, &copy](size_t, int error) { on_copy_written(copy, error); });
}

void SessionClient::on_copy_written(OutputCopy& copy, int error) {
  if (error == 0 || copy.failed) return;
  copy.failed = true;  // said once; the rest of the output is not offered to it
  say(std::string("cannot write the ") + copy.what + " " + copy.path + ": " + uv_strerror(error) +
      "; it lacks the output from here on");
}

void SessionClient::record(std::string line) {
  if (!line.empty()) write_copy(recording_, Slice::copy_of(line));
}

double SessionClient::recording_seconds() const {
  return static_cast<double>(uv_hrtime() - recording_started_ns_) / 1e9;
}

void SessionClient::record_size() {
  if (!recording() || (size_.cols == recorded_size_.cols && size_.rows == recorded_size_.rows)) return;
  recorded_size_ = size_;
  record(asciicast::resize_line(recording_seconds(), size_.cols, size_.rows));
}

void SessionClient::on_output_eof(wire::Stream stream, uint64_t offset) {
  int index = index_of(stream);
  if (!output_[index].eof_at(offset)) return connection_lost("protocol error: EOF arrived before all output");
  maybe_ack(index, false);  // everything before it may be written already: the EOF is then consumed now
  check_finished();
}

// Not every byte pending in a writer need be ours (hvterm cp's progress line shares stderr), so no
// write of ours may be left to call us again: the writer does, once it is drained. A detach waits
// on the stdout writer itself.
void SessionClient::look_again_when_drained(int index) {
  if (detaching_) return;
  writers_[index]->when_drained([this, index, alive = alive_] {
    if (!*alive) return;
    maybe_ack(index, false);
    check_finished();
  });
}

void SessionClient::maybe_ack(int index, bool force) {
  if (conn_ == nullptr || !binding_.is_bound()) return;
  if (output_[index].eof() && writers_[index]->pending() != 0 && !output_eof_written_[index])
    look_again_when_drained(index);
  if (output_[index].eof() && writers_[index]->pending() == 0 && !output_eof_written_[index]) {
    output_eof_written_[index] = true;
    output_[index].consumed_eof();
    if (mode_ == wire::SessionMode::Connection && index == 0) {
      // The guest's side finished sending: pass its half-close on, as nc does, by closing stdout
      // (the reader sees EOF while our stdin may still be sending). /dev/null takes the number.
      log::debug("closing stdout: the guest side finished sending");
      writers_[index]->close_when_drained();
      if (stdio_) platform::end_stdio(1);
    }
  }
  auto due = output_[index].ack_due(force || output_eof_written_[index]);
  if (due == InboundStream::AckDue::No) return;
  if (due == InboundStream::AckDue::Later) {
    if (!ack_timer_.active())
      ack_timer_.start(loop_, kDelayedAckMs, 0, [this] {
        maybe_ack(0, true);
        maybe_ack(1, true);
      });
    return;
  }
  conn_->send(wire::encode_ack(stream_of(index), output_[index].ack_position()));
  output_[index].ack_sent();
}

void SessionClient::on_error_frame(const wire::ErrorMsg& error) {
  switch (binding_.error(error.code)) {
    case Binding::OnError::AfterExit:
      log::debug("after the exit status, the agent said: " + error.message);
      return finish(exit_code_);
    case Binding::OnError::TakenOver: say("detached: another client attached to session " + short_id()); break;
    case Binding::OnError::NeverStarted:
      say("the connection was lost before the agent answered, and it has no session " + short_id() +
          ": it did not start the command (it never got the request, refused it or could not run it), or it "
          "has restarted since");
      break;
    case Binding::OnError::Gone: say("session " + short_id() + " no longer exists in the agent"); break;
    case Binding::OnError::Refused: say(printable(error.message)); break;
    case Binding::OnError::Failed: say("the agent reported an error: " + printable(error.message)); break;
  }
  finish(255);
}

void SessionClient::on_exit_frame(const wire::Exit& exit) {
  switch (exit.kind) {
    case wire::ExitKind::Exited: log::info("the program exited with status " + std::to_string(exit.code)); break;
    case wire::ExitKind::Signaled: log::info("the program was killed by signal " + std::to_string(exit.code)); break;
    case wire::ExitKind::NotFound: log::info("the program was not found"); break;
    case wire::ExitKind::CannotExecute: log::info("the program could not be executed"); break;
    case wire::ExitKind::ConnectionFailed: log::info("the connection in the guest failed"); break;
  }
  auto exited = binding_.exited(exit);
  exit_code_ = exited.code;
  if (exit.kind == wire::ExitKind::ConnectionFailed || exit.kind == wire::ExitKind::NotFound ||
      exit.kind == wire::ExitKind::CannotExecute)
    say(printable(exit.message));
  if (exited.end_now) return finish(exit_code_);
  check_finished();
}

void SessionClient::check_finished() {
  if (!binding_.collect_due()) return;
  for (int i = 0; i < 2; ++i) {
    if (writers_[i]->pending() == 0) continue;
    look_again_when_drained(i);
    return;
  }
  // Between connections, wait for the reconnect: the agent must hear COLLECT to forget the session
  // (schedule_reconnect bounds that wait).
  if (conn_ == nullptr) return;
  for (int i = 0; i < 2; ++i) maybe_ack(i, true);
  // The exit status reached us after all output: the agent may forget the session.
  conn_->send(wire::encode_empty(wire::FrameType::Collect));
  if (binding_.collect_sent()) {
    // No answer: connection_lost reconnects, resumes and collects again.
    liveness_.enter(Liveness::Stage::Collect, uv_now(loop_));
    return;
  }
  conn_->close_after_flush();
  conn_ = nullptr;
  finish(exit_code_);
}

// ---- local input ---------------------------------------------------------------------------------------

void SessionClient::on_stdin(Slice bytes) {
  if (raw_ && escapes_.escape() != 0) {
    for (auto& event : escapes_.feed(bytes.view())) {
      if (event.kind == EscapeParser::Event::Kind::Data) {
        if (!options_.read_only) input_.append(Slice::copy_of(event.data));
      } else {
        on_escape(event.command);
        if (binding_.done() || detaching_) return;  // what was typed after ~. goes nowhere
      }
    }
  } else if (!options_.read_only) {  // a read-only viewer's keys go nowhere (but its escapes work)
    input_.append(std::move(bytes));
  }
  if (input_.full()) stdin_->pause();
  pump_input();
}

void SessionClient::on_stdin_end(int error) {
  // A terminal's ^D is a byte like any other; EOF of piped stdin closes the remote stdin (pipes
  // sessions) so `tar c . | hvterm exec vm -- tar x` ends.
  if (error != 0) {
    // The input was cut short. Like ssh, the remote program still sees its end (it must not wait
    // for more forever), but hvterm says so and exits 255: the run did not get all of its input.
    local_io_failed_ = true;
    say(std::string("cannot read stdin: ") + uv_strerror(error) + "; the remote program's input ends here");
  }
  input_.finish();
  pump_input();
}

void SessionClient::pump_input() {
  if (conn_ == nullptr || !binding_.is_bound()) return;
  input_.pump(*conn_, mode_ != wire::SessionMode::Pty);
}

void SessionClient::on_escape(EscapeParser::Command command) {
  switch (command) {
    case EscapeParser::Command::Detach:
      return detach([this] {
        exit_code_ = 0;
        notice("detached from session " + short_id() + "; resume with: hvterm attach " + options_.target.text + " " +
               short_id());
        finish(0);
      });
    case EscapeParser::Command::Help: write_local(0, Slice::copy_of(escape_help_text(escapes_.escape()))); return;
    case EscapeParser::Command::Status: {
      std::string state = binding_.is_bound()
                              ? "connected"
                              : "reconnecting (attempt " + std::to_string(reconnection_.attempts()) + ")";
      std::string text = "\r\n[hvterm: session " + wire::session_id_hex(binding_.id()) + " on " + options_.target.text +
                         ", " + state + "]\r\n";
      write_local(0, Slice::copy_of(text));
      return;
    }
    case EscapeParser::Command::Suspend:
      for (auto* writer : writers_) writer->flush();  // output of this turn belongs before the shell prompt
      if (terminal_) terminal_->suspend();
      if (terminal_) size_ = to_wire(terminal_->size());
      record_size();
      send_window_size();
      return;
  }
}

// The next client to attach must neither miss nor repeat what we printed, and the user sees
// nothing of the session after the detach but what the terminal was taking just then: output not
// yet written is dropped (not acknowledged, so the next attach shows it), the piece being written
// is let finish, everything written is acknowledged, and then the terminal's modes are restored
// and `then` says why we left.
void SessionClient::detach(std::function<void()> then) {
  if (binding_.done() || detaching_) return;
  if (conn_ == nullptr || !binding_.is_bound()) {
    restore_terminal_modes();
    return then();
  }
  detaching_ = true;
  pump_input();  // what was typed before the detach still goes
  stdin_->pause();
  writers_[0]->discard_unwritten();
  auto leave = [this, then = std::move(then)] {
    detach_wait_.close();
    if (conn_ != nullptr && binding_.is_bound()) {
      maybe_ack(0, true);
      maybe_ack(1, true);
      conn_->send(wire::encode_empty(wire::FrameType::Detach));
      conn_->close_after_flush();
      conn_ = nullptr;
    }
    restore_terminal_modes();
    then();
  };
  // A terminal that does not take that piece in time (the user's terminal emulator stopped) is not
  // waited for: the piece is dropped too, and the next attach shows it again.
  detach_wait_.start(loop_, kDetachWaitMs, 0, [this] {
    log::info("the terminal did not take the last output in time; the next attach shows it again");
    terminal_stuck_ = true;
    writers_[0]->close();
  });
  writers_[0]->when_drained(std::move(leave));
}

void SessionClient::leave_detached(const std::string& why) {
  detach([this, why] {
    say(why + "; session " + short_id() + " keeps running: hvterm attach " + options_.target.text + " " + short_id());
    finish(255);
  });
}

void SessionClient::restore_terminal_modes() {
  if (!follow_modes_) return;
  std::string restore = modes_.restore();
  if (!restore.empty()) write_local(0, Slice::copy_of(restore));
}

void SessionClient::send_signal(uint8_t wire_signal) {
  if (conn_ != nullptr && binding_.is_bound())
    conn_->send(wire::encode_signal(wire_signal));
  else
    pending_signals_.push_back(wire_signal);
}

void SessionClient::send_window_size() {
  if (conn_ != nullptr && binding_.is_bound() && mode_ == wire::SessionMode::Pty)
    conn_->send(wire::encode_window_size(size_));
}

void SessionClient::on_local_signal(int signum) {
  if (signum == SIGWINCH) {
    if (terminal_) size_ = to_wire(terminal_->size());
    record_size();
    return send_window_size();
  }
  if (raw_ && (signum == SIGTERM || signum == SIGHUP)) {
    // Our terminal is going away or we are told to stop: leave the session running, detached.
    return leave_detached(signum == SIGHUP ? "hang-up" : "terminated");
  }
  uint8_t wire_signal = signum == SIGINT    ? wire::sig::kInt
                        : signum == SIGTERM ? wire::sig::kTerm
                        : signum == SIGHUP  ? wire::sig::kHup
                                            : wire::sig::kQuit;  // the only other one we watch
  if (!binding_.may_run()) {
    // Nothing runs remotely yet: behave like the signal's default action. (Once our OPEN is out,
    // the session may run: the signal waits for it, as during a reconnect.)
    exit_code_ = 128 + signum;
    return finish(exit_code_);
  }
  send_signal(wire_signal);
}

void SessionClient::on_tick() {
  uint64_t now = uv_now(loop_);
  auto actions = liveness_.tick(now);
  switch (actions.drop) {
    case Liveness::Drop::Unanswered: return connection_lost("timed out waiting for the agent to answer");
    case Liveness::Drop::CollectUnanswered: return connection_lost("no answer to COLLECT");
    case Liveness::Drop::Silent:
      return connection_lost("the agent has not answered for " + std::to_string(liveness_.silent_ms(now) / 1000) +
                             " s");
    case Liveness::Drop::No: break;
  }
  if (actions.say_not_responding)
    notice("guest not responding - paused? (waiting; " + std::string(1, escapes_.escape() ? escapes_.escape() : '~') +
           ". detaches)");
  if (actions.ping && conn_ != nullptr) conn_->send(wire::encode_ping(now));
}

// ---- output to the user and shutdown ----------------------------------------------------------------------

void SessionClient::notice(const std::string& text) {
  if (options_.quiet) return;
  say(text);
}

void SessionClient::say(const std::string& text) {
  if (say_) return say_(prefix_ + text);
  std::string line = "hvterm: " + prefix_ + text + (raw_ ? "\r\n" : "\n");
  if (raw_) line = "\r\n" + line;
  write_local(1, Slice::copy_of(line));
}

void SessionClient::write_local(int index, Slice bytes, LocalWriter::Done done) {
  // stdout and stderr are often the same terminal: what the other one batched this turn was said first.
  writers_[1 - index]->flush();
  if (!done) done = [this](size_t, int) { check_finished(); };  // the exit waits for every byte we print
  writers_[index]->write(std::move(bytes), std::move(done));
}

void SessionClient::finish(int code) {
  if (!binding_.end()) return;
  exit_code_ = code;
  if (auto stop = std::move(companion_.stop)) {  // forwards end with the session they came with
    companion_.stop = nullptr;
    stop();
  }
  if (recording()) record(cast_.finish(recording_seconds()));
  restore_terminal_modes();                       // a program that died or was cut off with its modes on
  if (stdio_) log::set_sink(nullptr);             // stderr is closing: what is left to say goes to it directly
  for (auto* writer : writers_) writer->flush();  // last words go out while the terminal is still raw
  if (conn_ != nullptr) {
    conn_->close_after_flush();
    conn_ = nullptr;
  }
  if (terminal_) terminal_->restore();
  raw_ = false;
  stdin_->close();
  // Closed timers and signal handlers never fire, and free themselves: nothing to wait for.
  tick_.close();
  reconnect_timer_.close();
  ack_timer_.close();
  signals_.close();
  closes_pending_ = 1;  // released below, once everything is on its way
  if (terminal_stuck_) {
    // The terminal took nothing for kDetachWaitMs: our last words get as long again, then we go
    // (SIGTERM to an hvterm whose terminal is stopped with ^S must not leave it waiting for ever).
    exit_wait_.start(loop_, kDetachWaitMs, 0, [this] {
      for (auto& writer : owned_writers_)
        if (writer && writer->pending() != 0) writer->close();
    });
  }
  // stdout/stderr (or the forwarded connection) stay open until their queued writes are done;
  // then the loop runs dry, or our owner hears we are done.
  for (auto& writer : owned_writers_) {
    if (!writer) continue;
    ++closes_pending_;
    writer->close_when_drained([this] { closed_one(); });
  }
  closed_one();
}

void SessionClient::closed_one() {
  if (--closes_pending_ != 0) return;
  exit_wait_.close();
  if (!finished_) return;
  auto finished = std::move(finished_);
  finished_ = nullptr;
  finished(local_io_failed_ ? 255 : exit_code_);
}

std::string SessionClient::short_id() const { return wire::session_id_hex(binding_.id()).substr(0, 8); }

}  // namespace hvterm
