#pragma once
// Shared between platform/posix and platform/linux; not part of the platform interface.
#include <functional>
#include <memory>

#include "platform/sockets.h"

namespace hvterm::platform::detail {

// Wrap a connected, non-blocking socket fd in a libuv stream (uv_tcp_open accepts any stream socket).
uv_stream_t* wrap_socket(uv_loop_t* loop, int fd, std::string& error);
// Map a native signal number to its classic number (sig::) and back (0 when it has none).
int to_classic_signal(int native);
int from_classic_signal(int classic);
std::string errno_text(int err);
// open_append_file()'s checks with other `flags` (O_RDWR for a lock file): a link at the last
// component refused, an absent file created exclusively, an existing one a regular file with one
// link that is ours and not writable by others. -1 with `error`.
int open_owned_file(const std::string& path, const std::string& what, int flags, std::string& error,
                    bool devices_ok = false);

// vsock: platform/linux/hypervisor_sockets.cpp, or the refusing posix/no_hypervisor_sockets.cpp.
void connect_vsock(uv_loop_t* loop, const VsockAddress& address, uint64_t timeout_ms, ConnectCallback done);
std::unique_ptr<Listener> listen_vsock(uv_loop_t* loop, const VsockAddress& address, AcceptCallback on_accept,
                                       std::string& error);
// Accept on a listening socket libuv cannot adopt (vsock, or one inherited from systemd); it is
// closed with the listener (platform/linux).
std::unique_ptr<Listener> listen_on_socket(uv_loop_t* loop, int fd, AcceptCallback on_accept, std::string& error);

// A child's exit, learnt without libuv's SIGCHLD handler: that one asks every child the loop
// started (a waitpid apiece) whenever any of them exits, so each exit costs as many system calls as
// the agent has sessions. platform/linux watches a pidfd per child and reaps it; where that is not
// available (posix/no_exit_watch.cpp, or a kernel before 5.3) watch_exit gives nullptr and the
// child stays with libuv.
class ExitWatch {
 public:
  virtual ~ExitWatch() = default;
  // Stop watching; `closed` runs once libuv holds nothing of ours (then the watch may be deleted).
  virtual void close(std::function<void()> closed) = 0;
};
// `on_exit`: the exit status, or 0 and the signal that ended it; the child has been reaped.
std::unique_ptr<ExitWatch> watch_exit(uv_loop_t* loop, int pid,
                                      std::function<void(int64_t status, int term_signal)> on_exit);

}  // namespace hvterm::platform::detail
