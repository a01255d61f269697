#include "agent/session.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "agent/agent.h"
#include "agent/connection.h"
#include "agent/file_copy.h"
#include "agent/guest_connection.h"
#include "agent/guest_listener.h"
#include "common/log.h"
#include "common/printable.h"
#include "platform/process.h"
#include "platform/sockets.h"
#include "platform/system.h"
#include "protocol/codec.h"
#include "transport/io_sizes.h"
#include "transport/wire_platform.h"

namespace hvterm {
namespace {

constexpr uint64_t kPtyDrainMs = 200;  // trailing PTY output after the child exits

SessionLifecycle::Limits lifecycle_limits(uint64_t linger_ms) {
  SessionLifecycle::Limits limits;
  limits.linger_ms = linger_ms;
  return limits;
}

std::string command_line(const wire::Open& request) {
  if (request.mode == wire::SessionMode::Connection) return "connection to " + wire::describe(request.destination);
  if (request.mode == wire::SessionMode::Listen) return "listening on " + wire::describe(request.destination);
  if (request.mode == wire::SessionMode::Copy)
    return std::string(request.copy.direction == wire::CopySpec::Direction::IntoGuest ? "copy into " : "copy out of ") +
           join_words(request.copy.paths);
  return request.argv.empty() ? "(login shell)" : join_words(request.argv);
}

}  // namespace

Session::Session(Agent& agent, const wire::SessionId& id, const wire::Open& request, size_t replay_capacity)
    : agent_(agent),
      id_(id),
      request_(request),
      output_{OutboundStream(wire::Stream::Stdout, replay_capacity),
              OutboundStream(wire::Stream::Stderr, replay_capacity)},
      pipes_{{this, 0}, {this, 1}},
      lifecycle_(lifecycle_limits(agent.options().linger_ms)),
      size_(request.size) {
  created_ms_ = last_activity_ms_ = platform::unix_time_ms();
  description_ = command_line(request_);
}

Session::~Session() = default;

bool Session::spawn(platform::ExitStatus& failure) {
  if (request_.mode == wire::SessionMode::Connection) {
    // Always "started": a connection that cannot be made ends the session with its reason, as EXIT.
    auto guest = std::make_unique<GuestConnection>(
        agent_.loop(), request_.destination, agent_.options().forward_connect_timeout_ms,
        [this] { on_guest_connected(); }, [this](const wire::Exit& end) { on_exit(end); });
    guest_ = guest.get();
    child_ = std::move(guest);
    output_open_[0] = true;
    output_[1].finish();  // a connection has no stderr
    return true;
  }
  if (request_.mode == wire::SessionMode::Listen) {
    child_ = std::make_unique<GuestListener>(
        agent_.loop(), request_.destination,
        [this](uv_stream_t* connection, const std::string& peer) { on_accepted(connection, peer); },
        [this](const wire::Exit& end) { on_exit(end); });
    output_[1].finish();  // stdout is ours to write (on_accepted); there is no stderr
    if (static_cast<GuestListener*>(child_.get())->listening())
      output_[0].append(Slice::copy_of(std::string(wire::SessionId{}.size(), '\0')));  // "listening"
    return true;
  }
  if (request_.mode == wire::SessionMode::Copy) {
    auto copy = std::make_unique<FileCopy>(agent_.loop(), request_.copy,
                                           [this](const wire::Exit& end) { on_exit(end); });
    std::string error;
    if (!copy->start(error)) {
      failure = platform::ExitStatus{platform::ExitKind::CannotExecute, 126, "cannot start the copy: " + error};
      return false;
    }
    child_ = std::move(copy);
    output_open_[0] = output_open_[1] = true;
    child_->output()->data = &pipes_[0];
    child_->error_output()->data = &pipes_[1];
    start_reading();
    return true;
  }
  platform::SpawnRequest spawn;
  spawn.argv = request_.argv;
  spawn.env = request_.env;
  spawn.cwd = request_.cwd;
  spawn.user = request_.user;
  spawn.pty = request_.mode == wire::SessionMode::Pty;
  spawn.size = to_platform(request_.size);
  spawn.term = request_.term;
  child_ = platform::spawn(
      agent_.loop(), spawn, [this](const platform::ExitStatus& s) { on_exit(to_wire(s)); }, failure);
  if (!child_) return false;
  if (spawn.pty) {
    screen_ = make_session_screen(request_.size, agent_.options().scrollback_lines);
    if (screen_)
      output_[0].observe_release([this](uint64_t offset, std::string_view bytes) { screen_->feed(offset, bytes); });
  }
  pid_ = child_->pid();
  output_open_[0] = true;
  output_open_[1] = !spawn.pty;
  if (spawn.pty) output_[1].finish();
  child_->output()->data = &pipes_[0];
  if (child_->error_output() != nullptr) child_->error_output()->data = &pipes_[1];
  start_reading();
  return true;
}

void Session::adopt(uv_stream_t* accepted, const std::string& from) {
  description_ = "connection from " + from;
  auto guest = std::make_unique<GuestConnection>(agent_.loop(), accepted, "the connection from " + from,
                                                 [this](const wire::Exit& end) { on_exit(end); });
  guest_ = guest.get();
  child_ = std::move(guest);
  output_open_[0] = true;
  output_[1].finish();
  on_guest_connected();
  follow(lifecycle_.adopted());
}

// The listener's stdout is the ids of the sessions made of what it accepted, in order; the
// client attaches to each. The first record, all zero, said that it listens.
void Session::on_accepted(uv_stream_t* connection, const std::string& peer) {
  std::string error;
  auto* listener = static_cast<GuestListener*>(child_.get());
  Session* accepted = agent_.adopt_connection(connection, peer + " on " + listener->address(), error);
  if (accepted == nullptr) {
    log::warn("closed a connection from " + peer + " on " + listener->address() + ": " + error);
    return;
  }
  const wire::SessionId& id = accepted->id();
  output_[0].append(Slice::copy_of(std::string_view(reinterpret_cast<const char*>(id.data()), id.size())));
  touch();
  pump();
}

void Session::on_guest_connected() {
  child_->output()->data = &pipes_[0];
  start_reading();
  release_held_input();
}

// What the client sent while the connection was being made: into it once it is up, in order, or
// consumed by definition once it has ended (write_input decides which).
void Session::release_held_input() {
  for (auto& bytes : std::exchange(held_input_, {})) write_input(std::move(bytes));
  close_input_if_done();
}

// ---- output: child -> replay buffer -> connection ---------------------------------------------------

bool Session::output_full() const {
  // A viewer that does not keep up holds the program back, as the client does.
  return output_[0].unacked() + output_[1].unacked() >= output_[0].capacity() ||
         std::any_of(viewers_.begin(), viewers_.end(), [](const auto& v) { return v->full(); });
}

void Session::start_reading() {
  if (reading_ || !child_ || (guest_ != nullptr && !guest_->connected())) return;
  reading_ = true;
  auto alloc = [](uv_handle_t* handle, size_t, uv_buf_t* buf) {
    ReadBlock& block = static_cast<OutputPipe*>(handle->data)->session->read_block_;
    // Reads fill one block one after another (a pipe gives 64 KiB at a time): the replay buffer
    // holds slices of it, so a window of output takes few blocks instead of one per read.
    block.rewind_if_sole();
    if (!block.empty() && block.room() < platform::kDefaultPipeSize) block.release();  // full enough: start a new one
    block.ensure(kReadBlockSize);
    *buf = uv_buf_init(block.next(), static_cast<unsigned>(block.room()));
  };
  auto read = [](uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
    auto* pipe = static_cast<OutputPipe*>(stream->data);
    pipe->session->on_output(pipe->index, nread, buf);
  };
  for (int i = 0; i < 2; ++i) {
    if (!output_open_[i]) continue;
    uv_stream_t* s = output_pipe(i);
    uv_read_start(s, alloc, read);
  }
  if (exit_) drain_timer_.again();
}

uv_stream_t* Session::output_pipe(int index) { return index == 0 ? child_->output() : child_->error_output(); }

void Session::resume_reading_if_room() {
  if (!reading_ && !output_full() && (output_open_[0] || output_open_[1])) start_reading();
}

void Session::stop_reading() {
  if (!reading_) return;
  reading_ = false;
  for (int i = 0; i < 2; ++i) {
    if (!output_open_[i]) continue;
    uv_read_stop(output_pipe(i));
  }
  // While the client holds us back, trailing PTY output is not "done": pause the drain clock.
  drain_timer_.stop();
}

void Session::on_output(int index, ssize_t nread, const uv_buf_t*) {
  if (nread == 0) {  // libuv asked for a buffer and found nothing to read: an idle session keeps none
    read_block_.release();
    return;
  }
  if (nread == UV_EOF && request_.mode == wire::SessionMode::Pty && !platform::kPtyEndsAtEof) {
    // Not the end yet (platform/process.h): read on until the kernel says EIO, or the tail of the output
    // the program wrote just before it exited is lost.
    reading_ = false;
    resume_reading_if_room();
    return;
  }
  if (nread < 0) {  // EOF, or EIO from a PTY whose other side is gone
    finish_output(index);
    if (guest_ != nullptr) guest_->read_ended(static_cast<int>(nread));
    return;
  }
  size_t n = static_cast<size_t>(nread);
  if (n >= platform::kDefaultPipeSize && !output_widened_[index] && request_.mode == wire::SessionMode::Pipes) {
    output_widened_[index] = true;
    platform::widen_pipe(output_pipe(index), kWideChildPipe);
  }
  Slice bytes;
  if (n < kCompactBelow) {
    bytes = read_block_.copy(n);
    read_block_.release();
  } else {
    bytes = read_block_.take(n);  // the next read goes on right behind
  }
  if (index == 0)
    for (auto& viewer : viewers_) viewer->show(bytes);  // shares the bytes, no copy
  output_[index].append(std::move(bytes));
  if (released_) {
    output_[index].discard_unacked();
    // Nobody waits for these bytes: they go into the screen now, and nothing of them stays
    // behind in a session that may be idle from here on.
    if (screen_) screen_->settle();
  }
  touch();
  drain_timer_.again();
  if (output_full()) stop_reading();
  pump();
}

void Session::finish_output(int index) {
  if (!output_open_[index]) return;
  if (uv_stream_t* stream = output_pipe(index); stream != nullptr) uv_read_stop(stream);
  output_open_[index] = false;
  output_[index].finish();
  if (index == 0)
    for (auto& viewer : viewers_) viewer->finish();
  if (index == 0 && request_.mode == wire::SessionMode::Pty) drain_timer_.close();
  pump();
}

void Session::on_exit(const wire::Exit& status) {
  exit_ = status;
  log::debug("session " + wire::session_id_hex(id_).substr(0, 8) + " exited");
  if (guest_ != nullptr) {
    // The connection is over: nothing more comes out of it, and what the client sends goes nowhere.
    finish_output(0);
    release_held_input();
  }
  if (request_.mode == wire::SessionMode::Listen && !output_[0].finished()) output_[0].finish();
  if (request_.mode == wire::SessionMode::Pty && output_open_[0]) {
    // Normally the PTY reports EIO right after its last byte; a background job still holding the
    // terminal would keep it open forever, so trailing output gets a short idle window.
    drain_timer_.start(agent_.loop(), kPtyDrainMs, kPtyDrainMs, [this] { finish_output(0); });
    if (!reading_) drain_timer_.stop();
  }
  pump();
  follow(lifecycle_.exited());
}

void Session::pump() {
  for (auto& viewer : viewers_) viewer->pump(exit_);
  if (connection_ == nullptr) return;
  FramedConnection& conn = connection_->framed();
  for (auto& output : output_) output.pump(conn);
  // The exit status goes out only behind every byte of output and both EOFs.
  if (exit_ && !exit_sent_ && output_[0].all_sent() && output_[1].all_sent()) {
    conn.send(wire::encode(*exit_));
    exit_sent_ = true;
  }
}

bool Session::on_ack(AgentConnection* from, wire::Stream stream, uint64_t position) {
  if (Viewer* viewer = viewer_of(from); viewer != nullptr) {
    if (!viewer->on_ack(stream, position)) return false;
    resume_reading_if_room();
    return true;
  }
  if (stream == wire::Stream::Stdin) return false;
  int index = stream == wire::Stream::Stdout ? 0 : 1;
  if (!output_[index].ack(position)) return false;
  if (output_[0].unacked() == 0 && output_[1].unacked() == 0) {
    // Everything read has been delivered: a block only this session still refers to goes back
    // to the pool rather than staying with a session that may now be idle for hours.
    read_block_.release_if_sole();
    if (screen_) screen_->settle();
    agent_.settle_memory_soon();
  }
  resume_reading_if_room();
  return true;
}

// ---- input: connection -> child --------------------------------------------------------------------

bool Session::on_input(AgentConnection* from, uint64_t offset, Slice bytes, std::string& problem) {
  if (Viewer* viewer = viewer_of(from); viewer != nullptr) {
    auto fresh = viewer->accept_input(offset, std::move(bytes), problem);
    if (!fresh) return false;
    if (!fresh->empty()) {
      touch();
      write_input(std::move(*fresh), viewer->serial());
    }
    return true;
  }
  if (input_.eof()) {
    problem = "DATA after the end of stdin";
    return false;
  }
  auto fresh = input_.accept_stdin(offset, std::move(bytes), input_window_base_, problem);
  if (!fresh) return false;
  if (fresh->empty()) return true;
  touch();
  write_input(std::move(*fresh));
  return true;
}

void Session::write_input(Slice bytes, uint64_t owner) {
  size_t n = bytes.size();
  if (guest_ != nullptr && !guest_->connected() && !exit_) {  // still connecting: hold it (bounded by the window)
    held_input_.push_back(std::move(bytes));
    return;
  }
  uv_stream_t* in = child_ && !input_closed_ ? child_->input() : nullptr;
  if (in == nullptr || exit_) {  // nobody to read it: consumed by definition
    on_input_written(owner, n);
    return;
  }
  // Nothing queued: most input (keystrokes) goes straight into the child without a request. Not
  // into a guest connection: on Windows (under Wine, tests/windows/cli_test.cpp) bytes handed to
  // uv_try_write on a TCP socket were lost when a shutdown followed, so a connection's input always
  // goes through uv_write, which also reports its errors.
  if (input_writes_pending_ == 0 && guest_ == nullptr) {
    uv_buf_t now = uv_buf_init(bytes.mutable_data(), static_cast<unsigned>(n));
    int written = uv_try_write(in, &now, 1);
    if (written > 0) {
      bytes.remove_prefix(static_cast<size_t>(written));
      on_input_written(owner, static_cast<size_t>(written));
      if (bytes.empty() || input_closed_) return;
      n = bytes.size();
    }
  }
  struct InputWrite {
    uv_write_t request;
    Session* session;
    uint64_t owner;
    Slice bytes;
  };
  auto* w = new InputWrite{{}, this, owner, std::move(bytes)};
  w->request.data = w;
  uv_buf_t buf = uv_buf_init(w->bytes.mutable_data(), static_cast<unsigned>(w->bytes.size()));
  ++input_writes_pending_;
  int rc = uv_write(&w->request, in, &buf, 1, [](uv_write_t* req, int status) {
    auto* w = static_cast<InputWrite*>(req->data);
    // A child that closed its stdin (EPIPE) has consumed the input as far as anyone can tell.
    Session* session = w->session;
    size_t written = w->bytes.size();
    uint64_t owner = w->owner;
    delete w;
    if (session->lifecycle_.removing()) return;
    --session->input_writes_pending_;
    session->on_input_written(owner, written);
    if (status < 0 && status != UV_ECANCELED && session->guest_ != nullptr) session->guest_->write_failed(status);
  });
  if (rc != 0) {
    --input_writes_pending_;
    delete w;
    on_input_written(owner, n);
    if (guest_ != nullptr) guest_->write_failed(rc);
  }
}

void Session::on_input_written(uint64_t owner, size_t bytes) {
  if (owner != 0) {  // a viewer's keystrokes; it may have gone since
    for (auto& viewer : viewers_)
      if (viewer->serial() == owner) viewer->input_consumed(bytes);
    close_input_if_done();
    return;
  }
  input_.consumed(bytes);
  close_input_if_done();
  maybe_send_input_ack(input_.eof() && input_closed_);
}

bool Session::on_input_eof(AgentConnection* from, uint64_t offset) {
  if (viewer_of(from) != nullptr) return false;  // a terminal's stdin has no end: ^D is a byte
  // A repeated EOF (a client taking over a session whose stdin already ended) changes nothing.
  if (input_.eof()) return offset >= input_.received_bytes();
  if (!input_.eof_at(offset)) return false;
  close_input_if_done();
  maybe_send_input_ack(true);
  return true;
}

void Session::close_input_if_done() {
  if (!input_.eof() || input_writes_pending_ != 0 || !held_input_.empty() || input_closed_) return;
  input_closed_ = true;
  if (child_ && request_.mode != wire::SessionMode::Pty) child_->close_input();
  input_.consumed_eof();
}

void Session::maybe_send_input_ack(bool force) {
  if (connection_ == nullptr) return;
  auto due = input_.ack_due(force);
  if (due == InboundStream::AckDue::No) return;
  if (due == InboundStream::AckDue::Later) {
    if (!ack_timer_.active()) ack_timer_.start(agent_.loop(), kDelayedAckMs, 0, [this] { maybe_send_input_ack(true); });
    return;
  }
  ack_timer_.stop();
  uint64_t position = input_.ack_position();
  connection_->framed().send(wire::encode_ack(wire::Stream::Stdin, position));
  input_.ack_sent();
  input_window_base_ = std::max(input_window_base_, position);
}

// ---- attach / detach ---------------------------------------------------------------------------------

std::optional<wire::SessionInfo> Session::attach(AgentConnection* connection, const wire::Attach& request, bool shares,
                                                 std::string& refusal) {
  // A viewer joins a session that someone shows; a read-only one, any (it never becomes the client).
  bool shown = connection_ != nullptr && connection_ != connection;
  if (shares && !request.resume && !request.take && (request.read_only || shown)) {
    if (shows_screen()) return join(connection, request);
    refusal = std::string(request_.mode != wire::SessionMode::Pty
                              ? "this session's output is exact bytes for one client"
                              : "this agent keeps no screen to show a second client") +
              (request.read_only ? ", so it cannot be watched" : "; --take takes it over");
    return std::nullopt;
  }
  if (request.take) let_viewers_go(true);
  if (request.size.rows > 0 && request.size.cols > 0) client_size_ = request.size;
  wire::WinSize size = smallest_size(true);
  const wire::WinSize size_before = size_;
  // Not for the client that opened the session (bound the same way), before anything was printed.
  bool repaint = shows_screen() && !request.resume && output_[0].end() > 0;
  if (repaint) {
    // What the previous client acknowledged it saw; the rest it never showed is in the screen.
    if (!released_) screen_->seen();
    output_[0].discard_unacked();
    if (size.rows > 0 && size.cols > 0 && !exit_) {
      size_ = size;
      screen_->resize(output_[0].end(), size_);
    }
    output_[0].append_before_eof(Slice::copy_of(screen_->repaint(output_[0].end())));
  }
  released_ = false;
  for (int i = 0; i < 2; ++i) {
    uint64_t from = request.resume ? request.received[i + 1] : output_[i].acked();
    if (!output_[i].rewind(from)) return std::nullopt;
  }
  follow(lifecycle_.attached(connection_ != nullptr && connection_ != connection));
  connection_ = connection;
  exit_sent_ = false;
  touch();
  wire::SessionInfo info;
  info.id = id_;
  info.mode = request_.mode;
  info.pid = pid_;
  info.received[0] = input_.position();
  info.received[1] = output_[0].position();
  info.received[2] = output_[1].position();
  input_.acks_start_at(0);                       // the new connection has heard nothing yet
  input_window_base_ = input_.received_bytes();  // SESSION tells it where its input resumes
  resume_reading_if_room();                      // the client's positions may acknowledge output we stopped for
  if (size.rows > 0 && size.cols > 0 && child_ && request_.mode == wire::SessionMode::Pty && !exit_) {
    if (screen_ && size != size_) screen_->resize(output_[0].end(), size);
    size_ = size;
    // Repaint full-screen programs for the newcomer: a size round trip makes them redraw.
    if (!request.resume)
      child_->nudge_redraw(to_platform(size_));
    else
      child_->resize(to_platform(size_));
  }
  if (size_ != size_before)
    for (auto& viewer : viewers_) viewer->connection()->tell_size(size_);
  return info;
}

// The screen as the client last acknowledged it, then what it has not acknowledged yet: the
// viewer's stream is where the client's is, and both go on with what the program prints.
wire::SessionInfo Session::join(AgentConnection* connection, const wire::Attach& request) {
  auto viewer = std::make_unique<Viewer>(connection, request.read_only, request.size, output_[0].capacity(),
                                         ++last_viewer_serial_);
  Viewer* joined = viewer.get();
  viewers_.push_back(std::move(viewer));
  fit_size(connection);  // first: when the client has acknowledged everything, the screen is drawn at the new size
  joined->show(Slice::copy_of(screen_->view()));
  output_[0].for_each_unacked([joined](const Slice& bytes) { joined->show(bytes); });
  if (output_[0].finished()) joined->finish();
  touch();
  log::info("session " + wire::session_id_hex(id_).substr(0, 8) + ": a " +
            (request.read_only ? "read-only viewer" : "viewer") + " joined (" +
            std::to_string(viewers_.size() + (connection_ != nullptr ? 1 : 0)) + " attached)");
  wire::SessionInfo info;
  info.id = id_;
  info.mode = request_.mode;
  info.pid = pid_;
  info.role = request.read_only ? wire::AttachRole::ReadOnlyViewer : wire::AttachRole::Viewer;
  return info;  // positions 0: the viewer's streams start here
}

Viewer* Session::viewer_of(const AgentConnection* connection) const {
  for (const auto& viewer : viewers_)
    if (viewer->connection() == connection) return viewer.get();
  return nullptr;
}

void Session::leave(Viewer* viewer) {
  std::erase_if(viewers_, [viewer](const auto& v) { return v.get() == viewer; });
  fit_size();
  resume_reading_if_room();
  if (viewers_.empty() && connection_ == nullptr) follow(lifecycle_.unwatched());  // the linger starts now
}

// Taken over (hvterm attach --take), or the session is going: each viewer's client is told why.
void Session::let_viewers_go(bool taken_over) {
  for (auto& viewer : std::exchange(viewers_, {})) {
    if (taken_over)
      viewer->connection()->taken_over();
    else
      viewer->connection()->session_gone("session terminated by the agent");
  }
}

wire::WinSize Session::smallest_size(bool with_client) const {
  wire::WinSize smallest;
  int terminals = 0;
  auto consider = [&](const wire::WinSize& size) {
    if (size.rows == 0 || size.cols == 0) return;  // a terminal of unknown size does not count
    if (terminals++ == 0) {
      smallest = size;  // one terminal: its pixel size too
      return;
    }
    smallest.rows = std::min(smallest.rows, size.rows);
    smallest.cols = std::min(smallest.cols, size.cols);
    smallest.xpixel = smallest.ypixel = 0;  // of several terminals, none is the one
  };
  if (with_client) consider(client_size_);
  for (const auto& viewer : viewers_) consider(viewer->size());
  return smallest;
}

bool Session::fit_size(const AgentConnection* newcomer) {
  wire::WinSize size = smallest_size(connection_ != nullptr);
  if (size.rows == 0 || size.cols == 0 || size == size_) return false;
  size_ = size;
  if (child_ && !exit_) child_->resize(to_platform(size));
  if (screen_) screen_->resize(output_[0].end(), size);      // what is read from now on has the new size
  if (request_.mode != wire::SessionMode::Pty) return true;  // a size means nothing to the client then
  if (connection_ != nullptr) connection_->tell_size(size);
  for (auto& viewer : viewers_)
    if (viewer->connection() != newcomer) viewer->connection()->tell_size(size);
  return true;
}

void Session::detach(AgentConnection* connection, bool on_purpose) {
  if (Viewer* viewer = viewer_of(connection); viewer != nullptr) return leave(viewer);
  if (connection_ != connection) return;
  connection_ = nullptr;
  if (on_purpose && shows_screen()) release_output();
  fit_size();  // the viewers' terminals may be larger
  follow(lifecycle_.detached(platform::unix_time_ms(), !viewers_.empty()));
}

// The client acknowledged what it showed before it said DETACH: that is what it has seen. The
// program now goes on whatever it prints, and the next client gets the screen.
void Session::release_output() {
  screen_->seen();
  released_ = true;
  output_[0].discard_unacked();
  resume_reading_if_room();
}

void Session::resize(AgentConnection* from, const wire::WinSize& size) {
  if (size.rows == 0 || size.cols == 0) return;
  if (Viewer* viewer = viewer_of(from); viewer != nullptr)
    viewer->set_size(size);
  else
    client_size_ = size;
  // Whoever resized learns the session's size either way: another terminal may keep it smaller.
  if (!fit_size() && request_.mode == wire::SessionMode::Pty) from->tell_size(size_);
}

bool Session::may_signal(const AgentConnection* from) const {
  const Viewer* viewer = viewer_of(from);
  return viewer == nullptr || !viewer->read_only();
}

int Session::signal(uint8_t wire_signal) {
  if (!child_ || exit_) return UV_ESRCH;
  return child_->signal(to_platform_signal(wire_signal));
}

int Session::signal_process(uint8_t wire_signal) {
  if (!child_ || exit_) return UV_ESRCH;
  return child_->signal_process(to_platform_signal(wire_signal));
}

void Session::collect(AgentConnection* from) {
  if (Viewer* viewer = viewer_of(from); viewer != nullptr) {
    leave(viewer);
    // The exit status is the viewer's; it is the session's too unless its client may resume.
    if (connection_ != nullptr || !released_) return;
  } else {
    detach(from);
  }
  follow(lifecycle_.collected());
}

void Session::terminate() { follow(lifecycle_.terminate()); }

void Session::follow(const SessionLifecycle::Step& step) {
  if (step.disarm) lifecycle_timer_.close();
  if (step.arm != SessionLifecycle::Wait::None)
    lifecycle_timer_.start(agent_.loop(), step.arm_ms, 0, [this] { on_lifecycle_timer(); });
  if (step.take_over && connection_ != nullptr) std::exchange(connection_, nullptr)->taken_over();
  if (step.drop_client) drop_client();
  if (child_ && step.hang_up) child_->hang_up();
  if (child_ && step.kill) child_->signal(platform::sig::kKill);
  if (step.end_output) {
    finish_output(0);
    finish_output(1);
  }
  if (step.remove) remove();
}

void Session::on_lifecycle_timer() {
  std::string name = "session " + wire::session_id_hex(id_).substr(0, 8);
  switch (lifecycle_.waiting_for()) {
    case SessionLifecycle::Wait::Linger: log::info(name + " lingered past its limit; hanging up"); break;
    case SessionLifecycle::Wait::Unclaimed:
      log::info(name + ": no client claimed " + description_ + " within " +
                std::to_string(lifecycle_.limits().unclaimed_ms / 1000) + " s; closing it");
      break;
    case SessionLifecycle::Wait::KillGrace:
    case SessionLifecycle::Wait::None: break;
  }
  follow(lifecycle_.expired());
}

void Session::drop_client() {
  let_viewers_go(false);
  if (connection_ == nullptr) return;
  // Before the call: the connection goes, and with it any detach it would report.
  std::exchange(connection_, nullptr)->session_gone("session terminated by the agent");
}

void Session::remove() {
  let_viewers_go(false);
  ack_timer_.close();
  drain_timer_.close();
  lifecycle_timer_.close();
  if (child_) {
    child_->hang_up();  // background jobs left on the terminal get the hang-up a terminal gives
    child_->close([this] { agent_.remove_session(id_); });
  } else {
    agent_.remove_session(id_);
  }
}

void Session::touch() { last_activity_ms_ = platform::unix_time_ms(); }

wire::ListEntry Session::describe() const {
  wire::ListEntry e;
  e.id = id_;
  e.state = state();
  e.mode = request_.mode;
  e.pid = pid_;
  e.size = size_;
  e.created_unix_ms = created_ms_;
  uint64_t now = platform::unix_time_ms();
  e.idle_ms = now > last_activity_ms_ ? now - last_activity_ms_ : 0;
  if (exit_) e.exit_code = exit_->kind == wire::ExitKind::Signaled ? 128 + exit_->code : exit_->code;
  e.command = description_;
  e.name = request_.name;
  e.clients = static_cast<int>(viewers_.size()) + (connection_ != nullptr ? 1 : 0);
  return e;
}

}  // namespace hvterm
