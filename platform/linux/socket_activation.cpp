// systemd socket activation: a listening socket handed over by systemd (hvtermd.socket), of any
// family the agent serves.
#include <fcntl.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "platform/posix/internal.h"
#include "platform/sockets.h"

namespace hvterm::platform {

std::unique_ptr<Listener> listen_inherited(uv_loop_t* loop, int fd, AcceptCallback on_accept, std::string& error) {
  std::string what = "inherited descriptor " + std::to_string(fd) + " (LISTEN_FDS)";
  int accepting = 0;
  socklen_t size = sizeof(accepting);
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &size) != 0) {
    error = what + " is not a listening socket: " + std::strerror(errno);
    return nullptr;
  }
  if (accepting == 0) {
    error = what + " is a socket that is not listening";
    return nullptr;
  }
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    error = what + " is not usable: " + std::strerror(errno);
    return nullptr;
  }
  return detail::listen_on_socket(loop, fd, std::move(on_accept), error);
}

}  // namespace hvterm::platform
