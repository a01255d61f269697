// Named pipes, libuv's own "pipe" on Windows: \\.\pipe\NAME addresses, and the local agent.
// The local agent lives on a pipe rather than an AF_UNIX socket because pipes exist on every
// Windows (and under Wine), and their default DACL already gives write access only to the
// creating user, administrators and SYSTEM: the same circle POSIX admits with 0600 + SO_PEERCRED.
// Pipe names are global, though, so a client checks that a local agent's pipe is served by its own
// user before trusting it (someone else could have created the name first).
#include <algorithm>

#include "common/log.h"
#include "platform/sockets.h"
#include "platform/windows/internal.h"

namespace hvterm::platform::detail {
namespace {

constexpr const char* kPipePrefix = "\\\\.\\pipe\\";

bool starts_with(const std::string& text, const std::string& prefix) { return text.rfind(prefix, 0) == 0; }

struct PipeConnect {
  uv_pipe_t* pipe = new uv_pipe_t;
  uv_connect_t request{};
  uv_timer_t timer{};
  ConnectCallback done;
  std::string shown_as;
  bool verify_server = false;
  bool finished = false;
  int pending = 2;  // the connect callback and the timer's close callback

  void release() {
    if (--pending == 0) delete this;
  }

  void finish(uv_stream_t* stream, const ConnectError& error) {
    finished = true;
    done(stream, error);
  }

  void on_connected(int status) {
    uv_close(reinterpret_cast<uv_handle_t*>(&timer),
             [](uv_handle_t* h) { static_cast<PipeConnect*>(h->data)->release(); });
    auto* stream = reinterpret_cast<uv_stream_t*>(pipe);
    if (finished) {
      close_stream(stream);
    } else if (status != 0) {
      close_stream(stream);
      finish(nullptr, {status, status == UV_ENOENT ? "no agent is listening on " + shown_as
                                                   : "cannot connect to " + shown_as + ": " + uv_strerror(status)});
    } else if (std::string who; verify_server && !server_trusted(who)) {
      close_stream(stream);
      finish(nullptr, {UV_EACCES, "refusing the agent on " + shown_as + ": it runs as " + who + ", not as you"});
    } else {
      finish(stream, {});
    }
    release();
  }

  bool server_trusted(std::string& who) {
    uv_os_fd_t handle;
    ULONG pid = 0;
    if (uv_fileno(reinterpret_cast<uv_handle_t*>(pipe), &handle) != 0 || !GetNamedPipeServerProcessId(handle, &pid)) {
      who = "an unknown user";
      return false;
    }
    return trusted_peer_process(pid, who);
  }
};

class NamedPipeListener final : public Listener {
 public:
  explicit NamedPipeListener(AcceptCallback on_accept) : on_accept_(std::move(on_accept)) {}
  ~NamedPipeListener() override { close(); }

  bool start(uv_loop_t* loop, const std::string& name, std::string& error) {
    uv_pipe_init(loop, pipe_, 0);
    pipe_->data = this;
    // libuv creates the first instance with FILE_FLAG_FIRST_PIPE_INSTANCE, so an existing server
    // (or a squatter) makes the bind fail on Windows; Wine ignores that flag. A named mutex makes
    // a second agent on the same pipe fail everywhere, as the lock file does for Unix sockets.
    std::string lock_name = "Local\\hvterm-listener-" + name.substr(std::string(kPipePrefix).size());
    std::replace(lock_name.begin() + 6, lock_name.end(), '\\', '/');  // one backslash only, after "Local"
    lock_ = CreateMutexW(nullptr, FALSE, widen(lock_name).c_str());
    int rc = lock_ == nullptr || GetLastError() == ERROR_ALREADY_EXISTS ? UV_EADDRINUSE
                                                                        : uv_pipe_bind(pipe_, name.c_str());
    if (rc == 0)
      rc = uv_listen(reinterpret_cast<uv_stream_t*>(pipe_), 128, [](uv_stream_t* server, int status) {
        if (status == 0) static_cast<NamedPipeListener*>(server->data)->on_connection();
      });
    if (rc != 0) {
      error = rc == UV_EADDRINUSE ? "another program (another hvtermd?) is already listening on " + name
                                  : "cannot listen on " + name + ": " + uv_strerror(rc);
      return false;
    }
    return true;
  }

  void close() override {
    if (pipe_ == nullptr) return;
    close_stream(reinterpret_cast<uv_stream_t*>(pipe_));
    pipe_ = nullptr;
    if (lock_ != nullptr) CloseHandle(lock_);
    lock_ = nullptr;
  }

 private:
  void on_connection() {
    auto* client = new uv_pipe_t;
    uv_pipe_init(pipe_->loop, client, 0);
    auto* stream = reinterpret_cast<uv_stream_t*>(client);
    if (uv_accept(reinterpret_cast<uv_stream_t*>(pipe_), stream) != 0) {
      close_stream(stream);
      return;
    }
    Peer peer;
    peer.kind = Peer::Kind::AdmittedByOs;  // the pipe's security descriptor let it in
    peer.description = "pipe client";
    peer.transport = "pipe";
    uv_os_fd_t handle;
    ULONG pid = 0;
    if (uv_fileno(reinterpret_cast<uv_handle_t*>(client), &handle) == 0 && GetNamedPipeClientProcessId(handle, &pid))
      peer.description = "pipe client pid " + std::to_string(pid);
    on_accept_(stream, peer);
  }

  uv_pipe_t* pipe_ = new uv_pipe_t;
  HANDLE lock_ = nullptr;
  AcceptCallback on_accept_;
};

}  // namespace

std::optional<PipeName> named_pipe_for(const std::string& path) {
  std::string slashes = path;
  for (char& c : slashes)
    if (c == '/') c = '\\';
  if (starts_with(slashes, kPipePrefix)) return PipeName{slashes, false};
  std::string ignored;
  std::string dir = runtime_dir_path(ignored);
  if (dir.empty() || !starts_with(slashes, dir + "\\")) return std::nullopt;
  // The profile path in the name keeps the pipes of different users apart.
  std::string name = std::string(kPipePrefix) + "hvterm";
  for (char c : slashes) name.push_back(c == '\\' ? '/' : c);
  return PipeName{name, true};
}

void connect_named_pipe(uv_loop_t* loop, const std::string& pipe_name, const std::string& shown_as, bool verify_server,
                        uint64_t timeout_ms, ConnectCallback done) {
  auto* op = new PipeConnect;
  op->done = std::move(done);
  op->shown_as = shown_as;
  op->verify_server = verify_server;
  uv_pipe_init(loop, op->pipe, 0);
  op->request.data = op;
  op->timer.data = op;
  uv_timer_init(loop, &op->timer);
  uv_pipe_connect(&op->request, op->pipe, pipe_name.c_str(),
                  [](uv_connect_t* req, int status) { static_cast<PipeConnect*>(req->data)->on_connected(status); });
  uv_timer_start(
      &op->timer,
      [](uv_timer_t* t) {
        auto* op = static_cast<PipeConnect*>(t->data);
        if (!op->finished) op->finish(nullptr, {UV_ETIMEDOUT, "timed out connecting to " + op->shown_as});
      },
      timeout_ms, 0);
}

std::unique_ptr<Listener> listen_named_pipe(uv_loop_t* loop, const std::string& pipe_name, AcceptCallback on_accept,
                                            std::string& error) {
  auto listener = std::make_unique<NamedPipeListener>(std::move(on_accept));
  if (!listener->start(loop, pipe_name, error)) return nullptr;
  log::debug("agent pipe: " + pipe_name);
  return listener;
}

}  // namespace hvterm::platform::detail
