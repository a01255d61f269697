// POSIX systems without AF_VSOCK: the vsock entry points refuse with a clear reason.
#include "platform/posix/internal.h"
#include "platform/sockets.h"

namespace hvterm::platform {
namespace detail {

void connect_vsock(uv_loop_t*, const VsockAddress&, uint64_t, ConnectCallback done) {
  done(nullptr, {UV_EAFNOSUPPORT, "vsock is not available on this operating system"});
}

std::unique_ptr<Listener> listen_vsock(uv_loop_t*, const VsockAddress&, AcceptCallback, std::string& error) {
  error = "vsock is not available on this operating system";
  return nullptr;
}

}  // namespace detail

bool hypervisor_sockets_available() { return false; }
Address default_listen_address(uint32_t port) { return VsockAddress{kVsockCidAny, port}; }  // never served here

}  // namespace hvterm::platform
