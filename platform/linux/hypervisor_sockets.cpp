// AF_VSOCK for Linux guests and KVM hosts. libuv cannot bind or connect vsock addresses, so the
// socket is created, bound and connected here and then handed to uv_tcp_open, which works on any
// stream socket (TESTING-NOTES: verified on libuv 1.44).
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "common/log.h"
#include "common/timer.h"
#include "platform/posix/internal.h"
#include "platform/sockets.h"

namespace hvterm::platform {
namespace detail {
namespace {

// HVTERM_NO_VSOCK=1 keeps a process away from vsock entirely: for machines whose vsock device
// belongs to someone else (build and CI hosts running the test suite).
bool vsock_forbidden() {
  const char* value = std::getenv("HVTERM_NO_VSOCK");
  return value != nullptr && *value != '\0' && *value != '0';
}

std::string cid_text(uint32_t cid) { return cid == kVsockCidAny ? "any" : std::to_string(cid); }

std::string connect_failure_text(int err, const VsockAddress& a) {
  std::string where = "vsock CID " + cid_text(a.cid) + " port " + std::to_string(a.port);
  switch (err) {
    case ENODEV:
    case EHOSTUNREACH:
    case ENETUNREACH: return "no VM with CID " + cid_text(a.cid) + " is reachable (" + std::strerror(err) + ")";
    case ECONNREFUSED:
    case ECONNRESET: return "nothing is listening on " + where + " (is hvtermd running in the guest?)";
    case ETIMEDOUT: return "timed out connecting to " + where;
    case EAFNOSUPPORT:
      return "vsock is not available on this machine (load vhost_vsock on a KVM host, or run inside a VM)";
    default: return "cannot connect to " + where + ": " + std::strerror(err);
  }
}

struct VsockConnect {
  uv_poll_t poll{};
  uv_timer_t timer{};
  int fd = -1;
  VsockAddress address;
  ConnectCallback done;
  int open_handles = 2;

  void finish(int err) {
    uv_poll_stop(&poll);
    uv_timer_stop(&timer);
    ConnectCallback callback = std::move(done);
    done = nullptr;
    int connected_fd = fd;
    fd = -1;
    auto on_close = [](uv_handle_t* h) {
      auto* op = static_cast<VsockConnect*>(h->data);
      if (--op->open_handles == 0) delete op;
    };
    // Close the poll handle before uv_tcp_open: libuv allows one watcher per fd.
    uv_close(reinterpret_cast<uv_handle_t*>(&poll), on_close);
    uv_close(reinterpret_cast<uv_handle_t*>(&timer), on_close);
    if (err != 0) {
      ::close(connected_fd);
      callback(nullptr, {uv_translate_sys_error(err), connect_failure_text(err, address)});
      return;
    }
    std::string error;
    uv_stream_t* stream = wrap_socket(poll.loop, connected_fd, error);
    if (stream == nullptr) {
      callback(nullptr, {UV_EINVAL, "cannot use vsock connection: " + error});
      return;
    }
    callback(stream, {});
  }
};

}  // namespace

void connect_vsock(uv_loop_t* loop, const VsockAddress& address, uint64_t timeout_ms, ConnectCallback done) {
  if (vsock_forbidden()) {
    done(nullptr, {UV_EPERM, "cannot connect to " + describe(Address{address}) +
                                 ": vsock is disabled in this environment (HVTERM_NO_VSOCK is set)"});
    return;
  }
  int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    int err = errno;
    done(nullptr, {uv_translate_sys_error(err), connect_failure_text(err == EINVAL ? EAFNOSUPPORT : err, address)});
    return;
  }
  // The kernel's own connect timeout (default 2 s) would cut ours short; ours governs.
  struct timeval tv {
    static_cast<time_t>(timeout_ms / 1000), static_cast<suseconds_t>((timeout_ms % 1000) * 1000)
  };
  setsockopt(fd, AF_VSOCK, SO_VM_SOCKETS_CONNECT_TIMEOUT, &tv, sizeof(tv));
  sockaddr_vm sa{};
  sa.svm_family = AF_VSOCK;
  sa.svm_cid = address.cid;
  sa.svm_port = address.port;
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa));
  if (rc != 0 && errno != EINPROGRESS) {
    int err = errno;
    ::close(fd);
    done(nullptr, {uv_translate_sys_error(err), connect_failure_text(err, address)});
    return;
  }
  auto* op = new VsockConnect;
  op->fd = fd;
  op->address = address;
  op->done = std::move(done);
  op->poll.data = op;
  op->timer.data = op;
  uv_poll_init(loop, &op->poll, fd);
  uv_timer_init(loop, &op->timer);
  uv_poll_start(&op->poll, UV_WRITABLE, [](uv_poll_t* p, int status, int) {
    auto* op = static_cast<VsockConnect*>(p->data);
    // The socket's own error says why a connect failed; libuv's status is only a generic EBADF.
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(op->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err == 0 && status < 0) err = -status;
    op->finish(err);
  });
  uv_timer_start(
      &op->timer, [](uv_timer_t* t) { static_cast<VsockConnect*>(t->data)->finish(ETIMEDOUT); }, timeout_ms, 0);
}

namespace {

Peer describe_peer(int fd, const sockaddr_storage& address) {
  Peer peer;
  if (address.ss_family == AF_VSOCK) {
    const auto& vm = reinterpret_cast<const sockaddr_vm&>(address);
    peer.kind = Peer::Kind::Vsock;
    peer.transport = "vsock";
    peer.cid = vm.svm_cid;
    peer.description = "cid " + std::to_string(vm.svm_cid) + " port " + std::to_string(vm.svm_port);
  } else if (address.ss_family == AF_UNIX) {
    peer.transport = "unix";
    struct ucred cred {};
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0) {
      peer.kind = Peer::Kind::LocalUser;
      peer.uid = cred.uid;
      peer.description = "uid " + std::to_string(cred.uid) + " pid " + std::to_string(cred.pid);
    }
  }
  if (peer.description.empty()) peer.description = "peer of family " + std::to_string(address.ss_family);
  return peer;
}

// Accepts on a listening socket that libuv cannot bind itself (vsock, or one inherited from systemd).
class SocketListener final : public Listener {
 public:
  SocketListener(AcceptCallback on_accept) : on_accept_(std::move(on_accept)) {}
  ~SocketListener() override { close(); }

  bool start(uv_loop_t* loop, int fd, std::string& error) {
    fd_ = fd;
    loop_ = loop;
    int rc = uv_poll_init(loop, poll_, fd);
    if (rc == 0) {
      poll_->data = this;
      rc = watch();
    } else {
      delete poll_;  // never initialised: nothing for libuv to close
      poll_ = nullptr;
    }
    if (rc != 0) error = std::string("cannot watch the listening socket: ") + uv_strerror(rc);
    return rc == 0;
  }

  void close() override {
    if (closed_) return;
    closed_ = true;
    if (poll_ != nullptr && loop_ != nullptr)
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
    else
      delete poll_;  // never initialised: nothing for libuv to close
    poll_ = nullptr;
    pause_.close();
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  // While the process is out of descriptors a waiting connection cannot be accepted, and the
  // listener stays readable: watching it again at once would spin. Pause until some may be free.
  static constexpr uint64_t kOutOfDescriptorsPauseMs = 100;

  int watch() {
    return uv_poll_start(poll_, UV_READABLE, [](uv_poll_t* p, int status, int) {
      if (status == 0) static_cast<SocketListener*>(p->data)->accept_all();
    });
  }

  void pause_accepting(int err) {
    if (!out_of_descriptors_)  // once per spell, not once per waiting connection
      log::warn(std::string("cannot accept connections: ") + std::strerror(err) + "; retrying every " +
                std::to_string(kOutOfDescriptorsPauseMs) + " ms");
    out_of_descriptors_ = true;
    uv_poll_stop(poll_);
    pause_.start(loop_, kOutOfDescriptorsPauseMs, 0, [this] {
      if (watch() == 0) accept_all();
    });
  }

  void accept_all() {
    for (;;) {
      sockaddr_storage peer_address{};
      socklen_t len = sizeof(peer_address);
      int fd = accept4(fd_, reinterpret_cast<sockaddr*>(&peer_address), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) return pause_accepting(errno);
        return;  // EAGAIN, or a connection that went away before we took it: the next readiness retries
      }
      out_of_descriptors_ = false;
      Peer peer = describe_peer(fd, peer_address);
      std::string error;
      uv_stream_t* stream = wrap_socket(poll_->loop, fd, error);
      if (stream == nullptr) continue;
      on_accept_(stream, peer);
    }
  }

  uv_poll_t* poll_ = new uv_poll_t{};
  Timer pause_;
  uv_loop_t* loop_ = nullptr;  // set by start(), which initialises poll_
  bool closed_ = false;
  AcceptCallback on_accept_;
  int fd_ = -1;
  bool out_of_descriptors_ = false;
};

}  // namespace

std::unique_ptr<Listener> listen_on_socket(uv_loop_t* loop, int fd, AcceptCallback on_accept, std::string& error) {
  auto listener = std::make_unique<SocketListener>(std::move(on_accept));
  if (!listener->start(loop, fd, error)) return nullptr;
  return listener;
}

std::unique_ptr<Listener> listen_vsock(uv_loop_t* loop, const VsockAddress& address, AcceptCallback on_accept,
                                       std::string& error) {
  std::string where = "vsock port " + std::to_string(address.port);
  if (vsock_forbidden()) {
    error = "cannot listen on " + where + ": vsock is disabled in this environment (HVTERM_NO_VSOCK is set)";
    return nullptr;
  }
  int fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    error = "cannot listen on " + where + ": vsock is not available on this machine (" + std::strerror(errno) + ")";
    return nullptr;
  }
  sockaddr_vm sa{};
  sa.svm_family = AF_VSOCK;
  sa.svm_cid = address.cid;
  sa.svm_port = address.port;
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0 || ::listen(fd, SOMAXCONN) != 0) {
    error = "cannot listen on " + where + ": " + std::strerror(errno);
    ::close(fd);
    return nullptr;
  }
  return listen_on_socket(loop, fd, std::move(on_accept), error);
}

}  // namespace detail

Address default_listen_address(uint32_t port) { return VsockAddress{kVsockCidAny, port}; }

bool hypervisor_sockets_available() {
  if (detail::vsock_forbidden()) return false;
  // Never probes with a socket: the presence of the kernel module is enough to decide.
  struct stat st {};
  return stat("/sys/module/vsock", &st) == 0 || stat("/dev/vsock", &st) == 0;
}

}  // namespace hvterm::platform
