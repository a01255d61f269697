// Log files for an agent that is not under a supervisor that keeps its stderr.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "platform/platform.h"

namespace hvterm::platform {

std::FILE* open_log_file(const std::string& path, bool truncate, std::string& error) {
  // 0600: records name peers and the commands sessions run. Close-on-exec: no session inherits it.
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (truncate ? O_TRUNC : 0), 0600);
  std::FILE* file = fd >= 0 ? fdopen(fd, "a") : nullptr;
  if (file == nullptr) {
    error = "cannot open log file " + path + ": " + std::strerror(errno);
    if (fd >= 0) ::close(fd);
  }
  return file;
}

bool rotate_log_file(const std::string& path) { return std::rename(path.c_str(), (path + ".1").c_str()) == 0; }

std::optional<std::string> service_log_path(const std::string&, std::string&) { return std::nullopt; }

}  // namespace hvterm::platform
