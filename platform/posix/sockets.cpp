// Unix-domain sockets for the agent and client, plus the dispatch to vsock / Hyper-V.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/log.h"
#include "common/overloaded.h"
#include "platform/posix/internal.h"
#include "platform/sockets.h"

namespace hvterm::platform {
namespace detail {

std::string errno_text(int err) { return std::strerror(err); }

uv_stream_t* wrap_socket(uv_loop_t* loop, int fd, std::string& error) {
  auto* tcp = new uv_tcp_t;
  int rc = uv_tcp_init(loop, tcp);
  if (rc == 0) rc = uv_tcp_open(tcp, fd);
  if (rc != 0) {
    error = uv_strerror(rc);
    ::close(fd);
    uv_close(reinterpret_cast<uv_handle_t*>(tcp), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
    return nullptr;
  }
  return reinterpret_cast<uv_stream_t*>(tcp);
}

}  // namespace detail

namespace {

bool unix_path_fits(const std::string& path, std::string& error) {
  if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    error = "socket path is too long (" + std::to_string(path.size()) + " bytes, the limit is " +
            std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) + "): " + path;
    return false;
  }
  return true;
}

struct UnixConnect {
  uv_pipe_t* pipe = new uv_pipe_t;
  uv_connect_t request{};
  uv_timer_t timer{};
  ConnectCallback done;
  std::string path;
  bool finished = false;
  int pending = 2;  // connect callback + timer close

  void release() {
    if (--pending == 0) delete this;
  }
};

void connect_unix(uv_loop_t* loop, const UnixAddress& address, uint64_t timeout_ms, ConnectCallback done) {
  ConnectError failure;
  if (!unix_path_fits(address.path, failure.message)) {
    failure.code = UV_ENAMETOOLONG;
    done(nullptr, failure);
    return;
  }
  auto* op = new UnixConnect;
  op->done = std::move(done);
  op->path = address.path;
  uv_pipe_init(loop, op->pipe, 0);
  op->request.data = op;
  op->timer.data = op;
  uv_timer_init(loop, &op->timer);
  uv_pipe_connect(&op->request, op->pipe, address.path.c_str(), [](uv_connect_t* req, int status) {
    auto* op = static_cast<UnixConnect*>(req->data);
    uv_close(reinterpret_cast<uv_handle_t*>(&op->timer),
             [](uv_handle_t* h) { static_cast<UnixConnect*>(h->data)->release(); });
    if (!op->finished) {
      op->finished = true;
      if (status == 0) {
        op->done(reinterpret_cast<uv_stream_t*>(op->pipe), {});
      } else {
        ConnectError error{status, status == UV_ENOENT || status == UV_ECONNREFUSED
                                       ? "no agent is listening on " + op->path
                                       : "cannot connect to " + op->path + ": " + uv_strerror(status)};
        close_stream(reinterpret_cast<uv_stream_t*>(op->pipe));
        op->done(nullptr, error);
      }
    } else {
      close_stream(reinterpret_cast<uv_stream_t*>(op->pipe));
    }
    op->release();
  });
  uv_timer_start(
      &op->timer,
      [](uv_timer_t* t) {
        auto* op = static_cast<UnixConnect*>(t->data);
        if (op->finished) return;
        op->finished = true;
        op->done(nullptr, {UV_ETIMEDOUT, "timed out connecting to " + op->path});
      },
      timeout_ms, 0);
}

class UnixListener final : public Listener {
 public:
  UnixListener(AcceptCallback on_accept, int lock_fd, std::string path)
      : on_accept_(std::move(on_accept)), lock_fd_(lock_fd), path_(std::move(path)) {}
  ~UnixListener() override { close(); }

  bool start(uv_loop_t* loop, std::string& error) {
    uv_pipe_init(loop, pipe_, 0);
    pipe_->data = this;
    // Created 0600 by the umask, not chmod()ed afterwards: chmod follows a link that someone who
    // can write to the directory might have put in the socket's place meanwhile.
    // Bound under a side name and renamed into place once listening, so the socket path appears
    // only when it accepts connections: whoever waits for the path (a script, a unit, a test) can
    // connect at once instead of meeting ECONNREFUSED. The lock we hold makes the side name ours.
    std::string side = path_ + "~";
    std::string side_error;
    if (!unix_path_fits(side, side_error)) side = path_;  // no room for a side name: bind in place
    if (side != path_) unlink(side.c_str());
    mode_t old_mask = umask(0177);
    int rc = uv_pipe_bind(pipe_, side.c_str());
    umask(old_mask);
    if (rc == 0)
      // The kernel's own cap on the queue (SOMAXCONN): a burst of clients waits there for the loop
      // instead of failing at once with EAGAIN.
      rc = uv_listen(reinterpret_cast<uv_stream_t*>(pipe_), SOMAXCONN, [](uv_stream_t* server, int status) {
        static_cast<UnixListener*>(server->data)->on_connection(status);
      });
    // rename() replaces a stale socket, or a link planted meanwhile, without following it.
    if (rc == 0 && side != path_ && std::rename(side.c_str(), path_.c_str()) != 0) rc = -errno;
    if (rc != 0) {
      if (side != path_) unlink(side.c_str());
      error = "cannot listen on " + path_ + ": " + uv_strerror(rc);
      return false;
    }
    return true;
  }

  void close() override {
    if (pipe_ == nullptr) return;
    unlink(path_.c_str());
    close_stream(reinterpret_cast<uv_stream_t*>(pipe_));
    pipe_ = nullptr;
    if (lock_fd_ >= 0) ::close(lock_fd_);
    lock_fd_ = -1;
  }

 private:
  void on_connection(int status) {
    if (status != 0) {
      // Out of descriptors (libuv then turns the waiting clients away): said once per spell.
      if (!accept_failing_) log::warn("cannot accept connections on " + path_ + ": " + uv_strerror(status));
      accept_failing_ = true;
      return;
    }
    accept_failing_ = false;
    auto* client = new uv_pipe_t;
    uv_pipe_init(pipe_->loop, client, 0);
    if (uv_accept(reinterpret_cast<uv_stream_t*>(pipe_), reinterpret_cast<uv_stream_t*>(client)) != 0) {
      close_stream(reinterpret_cast<uv_stream_t*>(client));
      return;
    }
    Peer peer;
    peer.transport = "unix";
    uv_os_fd_t fd;
    struct ucred cred {};
    socklen_t len = sizeof(cred);
    if (uv_fileno(reinterpret_cast<uv_handle_t*>(client), &fd) == 0 &&
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
      peer.kind = Peer::Kind::LocalUser;
      peer.uid = cred.uid;
      peer.description = "uid " + std::to_string(cred.uid) + " pid " + std::to_string(cred.pid);
    } else {
      peer.description = "a Unix socket peer without credentials";
    }
    on_accept_(reinterpret_cast<uv_stream_t*>(client), peer);
  }

  uv_pipe_t* pipe_ = new uv_pipe_t;
  AcceptCallback on_accept_;
  bool accept_failing_ = false;
  int lock_fd_;
  std::string path_;
};

std::unique_ptr<Listener> listen_unix(uv_loop_t* loop, const UnixAddress& address, AcceptCallback on_accept,
                                      std::string& error) {
  if (!unix_path_fits(address.path, error)) return nullptr;
  // The lock file makes "is another agent serving this path?" race-free: whoever holds the lock
  // owns the socket path and may replace a stale socket file left by a crashed agent.
  std::string lock_path = address.path + ".lock";
  int lock_fd = detail::open_owned_file(lock_path, "lock file", O_RDWR, error);
  if (lock_fd < 0) return nullptr;
  if (flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(lock_fd);
    error = "another hvtermd is already listening on " + address.path;
    return nullptr;
  }
  struct stat st {};
  if (lstat(address.path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      ::close(lock_fd);
      error = "refusing to replace " + address.path + ": it exists and is not a socket";
      return nullptr;
    }
    unlink(address.path.c_str());
  }
  auto listener = std::make_unique<UnixListener>(std::move(on_accept), lock_fd, address.path);
  if (!listener->start(loop, error)) return nullptr;
  return listener;
}

}  // namespace

void connect(uv_loop_t* loop, const Address& address, uint64_t timeout_ms, ConnectCallback done) {
  std::visit(overloaded{
                 [&](const UnixAddress& a) { connect_unix(loop, a, timeout_ms, std::move(done)); },
                 [&](const VsockAddress& a) { detail::connect_vsock(loop, a, timeout_ms, std::move(done)); },
                 [&](const HyperVAddress&) {
                   done(nullptr, {UV_EAFNOSUPPORT, "Hyper-V sockets (hv: targets) exist only on Windows hosts; "
                                                   "from Linux use vsock:CID or hybrid:PATH:PORT"});
                 },
                 [&](const HybridAddress&) {  // the transport layer speaks the VMM's handshake
                   done(nullptr, {UV_EAFNOSUPPORT, "hybrid vsock is reached through connect_target"});
                 },
             },
             address);
}

std::unique_ptr<Listener> listen(uv_loop_t* loop, const Address& address, AcceptCallback on_accept,
                                 std::string& error) {
  auto cannot = [&] {
    error = "this platform cannot listen on " + describe(address);
    return std::unique_ptr<Listener>();
  };
  return std::visit(overloaded{
                        [&](const UnixAddress& a) { return listen_unix(loop, a, std::move(on_accept), error); },
                        [&](const VsockAddress& a) {
                          return detail::listen_vsock(loop, a, std::move(on_accept), error);
                        },
                        [&](const HyperVAddress&) { return cannot(); },
                        [&](const HybridAddress&) { return cannot(); },
                    },
                    address);
}

std::vector<int> inherited_listeners() {
  std::vector<int> fds;
  const char* pid = std::getenv("LISTEN_PID");
  const char* count = std::getenv("LISTEN_FDS");
  if (pid == nullptr || count == nullptr || std::strtol(pid, nullptr, 10) != getpid()) return fds;
  long n = std::strtol(count, nullptr, 10);
  for (long i = 0; i < n && i < 64; ++i) {
    int fd = 3 + static_cast<int>(i);  // SD_LISTEN_FDS_START
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    fds.push_back(fd);
  }
  unsetenv("LISTEN_PID");
  unsetenv("LISTEN_FDS");
  unsetenv("LISTEN_FDNAMES");
  return fds;
}

bool stream_pair(uv_loop_t* loop, uv_stream_t* ends[2], std::string& error) {
  uv_os_sock_t fds[2];
  if (int rc = uv_socketpair(SOCK_STREAM, 0, fds, 0, 0); rc != 0) {
    error = std::string("cannot make a socket pair: ") + uv_strerror(rc);
    return false;
  }
  for (int i = 0; i < 2; ++i) {
    auto* pipe = new uv_pipe_t;
    uv_pipe_init(loop, pipe, 0);
    uv_pipe_open(pipe, fds[i]);
    ends[i] = reinterpret_cast<uv_stream_t*>(pipe);
  }
  return true;
}

}  // namespace hvterm::platform
