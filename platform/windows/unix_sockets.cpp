// AF_UNIX on Windows 10 1803 and later (Wine has none: socket() fails with WSAEAFNOSUPPORT, which
// becomes a clear error). Like POSIX, a lock file beside the socket decides which agent owns the
// path, and a peer must run as the agent's user (or SYSTEM / an administrator).
#include <winsock2.h>  // first: windows.h and the socket headers depend on it
#include <windows.h>
#include <afunix.h>

#include <cstring>

#include "common/log.h"
#include "platform/sockets.h"
#include "platform/windows/internal.h"
#include "platform/windows/socket_errors.h"

namespace hvterm::platform::detail {
namespace {

bool to_sockaddr(const std::string& path, sockaddr_un& sa, std::string& error) {
  if (path.size() >= sizeof(sa.sun_path)) {
    error = "socket path is too long (" + std::to_string(path.size()) + " bytes, the limit is " +
            std::to_string(sizeof(sa.sun_path) - 1) + "): " + path;
    return false;
  }
  sa = {};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.data(), path.size());
  return true;
}

SOCKET unix_socket() {
  ensure_winsock();
  return WSASocketW(AF_UNIX, SOCK_STREAM, 0, nullptr, 0, WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
}

// A socket file is a reparse point with its own tag; anything else at the path is not ours to delete.
bool is_socket_file(const std::wstring& path) {
  WIN32_FIND_DATAW data;
  HANDLE find = FindFirstFileW(path.c_str(), &data);
  if (find == INVALID_HANDLE_VALUE) return false;
  FindClose(find);
  return (data.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0 && data.dwReserved0 == IO_REPARSE_TAG_AF_UNIX;
}

bool admit_peer(SOCKET socket, const sockaddr_storage&, Peer& peer) {
  ULONG pid = 0;
  DWORD returned = 0;
  if (WSAIoctl(socket, SIO_AF_UNIX_GETPEERPID, nullptr, 0, &pid, sizeof(pid), &returned, nullptr, nullptr) != 0) {
    log::warn("refused a Unix socket peer whose process cannot be identified");
    return false;
  }
  std::string who;
  peer.description = "pid " + std::to_string(pid);
  peer.transport = "unix";
  if (trusted_peer_process(pid, who)) {
    peer.kind = Peer::Kind::AdmittedByOs;
    return true;
  }
  log::warn("refused connection from pid " + std::to_string(pid) + ": it runs as " + who);
  return false;
}

// The accept thread's listener plus what makes the path ours: the lock file and the socket file.
class UnixListener final : public Listener {
 public:
  UnixListener(std::unique_ptr<Listener> inner, std::wstring path, HANDLE lock)
      : inner_(std::move(inner)), path_(std::move(path)), lock_(lock) {}
  ~UnixListener() override { close(); }
  void close() override {
    if (!inner_) return;
    inner_->close();
    inner_.reset();
    DeleteFileW(path_.c_str());
    CloseHandle(lock_);
  }

 private:
  std::unique_ptr<Listener> inner_;
  std::wstring path_;
  HANDLE lock_;
};

}  // namespace

void connect_unix(uv_loop_t* loop, const UnixAddress& address, uint64_t timeout_ms, ConnectCallback done) {
  sockaddr_un sa;
  std::string error;
  if (!to_sockaddr(address.path, sa, error)) return done(nullptr, {UV_ENAMETOOLONG, error});
  SOCKET socket = unix_socket();
  if (socket == INVALID_SOCKET) {
    int err = WSAGetLastError();
    return done(nullptr, {uv_translate_sys_error(err), unix_socket_error(err, address.path, false)});
  }
  if (GetFileAttributesW(widen(address.path).c_str()) == INVALID_FILE_ATTRIBUTES) {
    closesocket(socket);
    return done(nullptr, {UV_ENOENT, "no agent is listening on " + address.path});
  }
  std::string path = address.path;
  connect_socket(
      loop, socket, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa), timeout_ms,
      [path](int err) { return unix_socket_error(err, path, false); }, std::move(done));
}

std::unique_ptr<Listener> listen_unix(uv_loop_t* loop, const UnixAddress& address, AcceptCallback on_accept,
                                      std::string& error) {
  sockaddr_un sa;
  if (!to_sockaddr(address.path, sa, error)) return nullptr;
  SOCKET socket = unix_socket();
  if (socket == INVALID_SOCKET) {
    error = unix_socket_error(WSAGetLastError(), address.path, true);
    return nullptr;
  }
  std::wstring path = widen(address.path);
  // An exclusive open is the lock: a second agent's open fails while the first one lives.
  // A link planted at the lock's path is opened as itself and refused below, never followed.
  HANDLE lock = CreateFileW((path + L".lock").c_str(), GENERIC_READ | GENERIC_WRITE, 0, nullptr, OPEN_ALWAYS,
                            FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
  auto fail = [&](const std::string& message) -> std::unique_ptr<Listener> {
    error = message;
    closesocket(socket);
    if (lock != INVALID_HANDLE_VALUE) CloseHandle(lock);
    return nullptr;
  };
  if (lock == INVALID_HANDLE_VALUE) {
    DWORD err = GetLastError();
    return fail(err == ERROR_SHARING_VIOLATION ? "another hvtermd is already listening on " + address.path
                                               : "cannot open " + address.path + ".lock: " + system_error_text(err));
  }
  if (std::string reason = reparse_point_refusal(lock); !reason.empty())
    return fail("refusing lock file " + address.path + ".lock: " + reason);
  if (GetFileAttributesW(path.c_str()) != INVALID_FILE_ATTRIBUTES) {
    if (!is_socket_file(path)) return fail("refusing to replace " + address.path + ": it exists and is not a socket");
    DeleteFileW(path.c_str());
  }
  if (bind(socket, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0 || ::listen(socket, SOMAXCONN) != 0)
    return fail(unix_socket_error(WSAGetLastError(), address.path, true));
  AcceptHooks hooks;
  hooks.admit = admit_peer;
  auto inner = accept_on_thread(loop, socket, std::move(hooks), std::move(on_accept), error);
  if (!inner) {
    CloseHandle(lock);
    return nullptr;
  }
  return std::make_unique<UnixListener>(std::move(inner), std::move(path), lock);
}

}  // namespace hvterm::platform::detail
