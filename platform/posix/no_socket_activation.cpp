// POSIX systems without systemd's socket activation: an inherited listener is refused with the reason.
#include "platform/sockets.h"

namespace hvterm::platform {

std::unique_ptr<Listener> listen_inherited(uv_loop_t*, int, AcceptCallback, std::string& error) {
  error = "socket activation is supported on Linux only";
  return nullptr;
}

}  // namespace hvterm::platform
