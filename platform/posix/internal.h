#pragma once
// Shared between platform/posix and platform/linux; not part of the platform interface.
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

}  // namespace hvterm::platform::detail
