// Sockets of families libuv cannot connect or accept itself (AF_HYPERV, AF_UNIX): Winsock does the
// connect on a worker thread and the accepts on a thread of their own; the connected sockets are then
// handed to uv_tcp_open, which adopts any stream socket. Plain connect()/accept() need no
// SO_UPDATE_*_CONTEXT (that is only for sockets connected by ConnectEx/AcceptEx).
#include <algorithm>
#include <climits>
#include <cstring>
#include <mutex>
#include <utility>

#include "platform/sockets.h"
#include "platform/windows/internal.h"

namespace hvterm::platform::detail {

void ensure_winsock() {
  static std::once_flag once;
  std::call_once(once, [] {
    WSADATA data;
    WSAStartup(MAKEWORD(2, 2), &data);
  });
}

uv_stream_t* wrap_socket(uv_loop_t* loop, SOCKET socket, std::string& error) {
  auto* tcp = new uv_tcp_t;
  uv_tcp_init(loop, tcp);
  int rc = uv_tcp_open(tcp, socket);
  if (rc != 0) closesocket(socket);  // not adopted: still ours to close
  // libuv marks a socket readable only when it can read the socket's own and peer address.
  else if (!uv_is_readable(reinterpret_cast<uv_stream_t*>(tcp)))
    rc = UV_ENOTCONN;
  if (rc != 0) {
    error = uv_strerror(rc);
    uv_close(reinterpret_cast<uv_handle_t*>(tcp), [](uv_handle_t* h) { delete reinterpret_cast<uv_tcp_t*>(h); });
    return nullptr;
  }
  return reinterpret_cast<uv_stream_t*>(tcp);
}

// ---- connect ---------------------------------------------------------------------------------------------
namespace {

struct SocketConnect {
  uv_work_t work{};
  SOCKET socket = INVALID_SOCKET;
  sockaddr_storage address{};
  int address_length = 0;
  uint64_t timeout_ms = 0;
  int error = 0;
  SocketErrorText describe_error;
  ConnectCallback done;
};

// Runs on a libuv worker thread. A non-blocking connect plus select() keeps our own timeout in
// charge whatever the family does (select, not WSAPoll: WSAPoll missed failed connects before 2004).
int connect_with_timeout(SOCKET socket, const sockaddr* address, int length, uint64_t timeout_ms) {
  u_long nonblocking = 1;
  if (ioctlsocket(socket, FIONBIO, &nonblocking) != 0) return WSAGetLastError();
  if (::connect(socket, address, length) == 0) return 0;
  int err = WSAGetLastError();
  if (err != WSAEWOULDBLOCK) return err;
  fd_set writable, failed;
  FD_ZERO(&writable);
  FD_ZERO(&failed);
  FD_SET(socket, &writable);
  FD_SET(socket, &failed);
  uint64_t seconds = std::min<uint64_t>(timeout_ms / 1000, INT_MAX);
  timeval tv{static_cast<long>(seconds), static_cast<long>((timeout_ms % 1000) * 1000)};
  int n = select(0, nullptr, &writable, &failed, &tv);
  if (n == 0) return WSAETIMEDOUT;
  if (n == SOCKET_ERROR) return WSAGetLastError();
  if (!FD_ISSET(socket, &failed)) return 0;
  int so_error = 0;
  int so_length = sizeof(so_error);
  getsockopt(socket, SOL_SOCKET, SO_ERROR, reinterpret_cast<char*>(&so_error), &so_length);
  return so_error != 0 ? so_error : WSAECONNREFUSED;
}

}  // namespace

void connect_socket(uv_loop_t* loop, SOCKET socket, const sockaddr* address, int address_length, uint64_t timeout_ms,
                    SocketErrorText describe_error, ConnectCallback done) {
  auto* op = new SocketConnect;
  op->socket = socket;
  std::memcpy(&op->address, address, std::min<size_t>(static_cast<size_t>(address_length), sizeof(op->address)));
  op->address_length = address_length;
  op->timeout_ms = timeout_ms;
  op->describe_error = std::move(describe_error);
  op->done = std::move(done);
  op->work.data = op;
  int rc = uv_queue_work(
      loop, &op->work,
      [](uv_work_t* w) {
        auto* op = static_cast<SocketConnect*>(w->data);
        op->error = connect_with_timeout(op->socket, reinterpret_cast<const sockaddr*>(&op->address),
                                         op->address_length, op->timeout_ms);
      },
      [](uv_work_t* w, int) {
        std::unique_ptr<SocketConnect> op(static_cast<SocketConnect*>(w->data));
        if (op->error != 0) {
          closesocket(op->socket);
          op->done(nullptr, {uv_translate_sys_error(op->error), op->describe_error(op->error)});
          return;
        }
        std::string error;
        uv_stream_t* stream = wrap_socket(w->loop, op->socket, error);
        if (stream == nullptr) return op->done(nullptr, {UV_EINVAL, "cannot use the connection: " + error});
        op->done(stream, {});
      });
  if (rc != 0) {
    closesocket(socket);
    ConnectCallback callback = std::move(op->done);
    delete op;
    callback(nullptr, {rc, std::string("cannot start connecting: ") + uv_strerror(rc)});
  }
}

// ---- accept ----------------------------------------------------------------------------------------------
namespace {

struct Accepted {
  SOCKET socket;
  sockaddr_storage address;
};

// The accept thread waits on two events: the listening socket's FD_ACCEPT and our stop event, so
// closing never depends on closesocket() interrupting a blocked accept().
class ThreadListener final : public Listener {
 public:
  ThreadListener(AcceptHooks hooks, AcceptCallback on_accept)
      : hooks_(std::move(hooks)), on_accept_(std::move(on_accept)) {}
  ~ThreadListener() override { close(); }

  bool start(uv_loop_t* loop, SOCKET listening, std::string& error) {
    listening_ = listening;
    accept_event_ = WSACreateEvent();
    stop_event_ = CreateEventW(nullptr, TRUE, FALSE, nullptr);
    if (accept_event_ == WSA_INVALID_EVENT || stop_event_ == nullptr ||
        WSAEventSelect(listening_, accept_event_, FD_ACCEPT) != 0) {
      error = "cannot watch the listening socket: " + system_error_text(static_cast<unsigned long>(WSAGetLastError()));
      return false;
    }
    loop_ = loop;
    async_ = new uv_async_t;
    uv_async_init(loop, async_, [](uv_async_t* a) { static_cast<ThreadListener*>(a->data)->deliver(); });
    async_->data = this;
    if (uv_thread_create(
            &thread_, [](void* self) { static_cast<ThreadListener*>(self)->run(); }, this) != 0) {
      error = "cannot start the accept thread";
      return false;
    }
    thread_started_ = true;
    return true;
  }

  void close() override {
    if (closed_) return;
    closed_ = true;
    if (stop_event_ != nullptr) SetEvent(stop_event_);
    if (thread_started_) uv_thread_join(&thread_);
    if (listening_ != INVALID_SOCKET) closesocket(listening_);
    if (accept_event_ != WSA_INVALID_EVENT) WSACloseEvent(accept_event_);
    if (stop_event_ != nullptr) CloseHandle(stop_event_);
    for (auto& a : take_queue()) closesocket(a.socket);
    if (async_ != nullptr)
      uv_close(reinterpret_cast<uv_handle_t*>(async_), [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
    async_ = nullptr;
  }

 private:
  std::vector<Accepted> take_queue() {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::exchange(queue_, {});
  }

  void run() {
    HANDLE events[2] = {stop_event_, accept_event_};
    while (WaitForMultipleObjects(2, events, FALSE, INFINITE) == WAIT_OBJECT_0 + 1) {
      WSANETWORKEVENTS happened;
      WSAEnumNetworkEvents(listening_, accept_event_, &happened);
      for (;;) {
        Accepted a{INVALID_SOCKET, {}};
        int length = sizeof(a.address);
        a.socket = accept(listening_, reinterpret_cast<sockaddr*>(&a.address), &length);
        if (a.socket == INVALID_SOCKET) {
          int err = WSAGetLastError();
          if (err == WSAEWOULDBLOCK) break;
          if (err == WSAECONNRESET) continue;  // the peer gave up while queued
          // Out of sockets or memory: back off instead of spinning; FD_ACCEPT fires again.
          if (WaitForSingleObject(stop_event_, 100) == WAIT_OBJECT_0) return;
          break;
        }
        WSAEventSelect(a.socket, nullptr, 0);  // accepted sockets inherit the listener's event
        if (hooks_.prepare) hooks_.prepare(a.socket);
        {
          std::lock_guard<std::mutex> lock(mutex_);
          queue_.push_back(a);
        }
        uv_async_send(async_);
      }
    }
  }

  void deliver() {
    for (auto& a : take_queue()) {
      if (closed_) {
        closesocket(a.socket);
        continue;
      }
      Peer peer;
      peer.description = "socket peer";
      if (hooks_.admit && !hooks_.admit(a.socket, a.address, peer)) {
        closesocket(a.socket);
        continue;
      }
      std::string error;
      uv_stream_t* stream = wrap_socket(loop_, a.socket, error);
      if (stream != nullptr) on_accept_(stream, peer);
    }
  }

  AcceptHooks hooks_;
  AcceptCallback on_accept_;
  uv_loop_t* loop_ = nullptr;
  SOCKET listening_ = INVALID_SOCKET;
  WSAEVENT accept_event_ = WSA_INVALID_EVENT;
  HANDLE stop_event_ = nullptr;
  uv_async_t* async_ = nullptr;
  uv_thread_t thread_{};
  bool thread_started_ = false;
  bool closed_ = false;
  std::mutex mutex_;
  std::vector<Accepted> queue_;
};

}  // namespace

std::unique_ptr<Listener> accept_on_thread(uv_loop_t* loop, SOCKET listening, AcceptHooks hooks,
                                           AcceptCallback on_accept, std::string& error) {
  auto listener = std::make_unique<ThreadListener>(std::move(hooks), std::move(on_accept));
  if (!listener->start(loop, listening, error)) return nullptr;  // the destructor closes the socket
  return listener;
}

}  // namespace hvterm::platform::detail
