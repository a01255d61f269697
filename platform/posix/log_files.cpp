// Log files for an agent that is not under a supervisor that keeps its stderr.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "platform/system.h"

namespace hvterm::platform {

std::FILE* open_log_file(const std::string& path, bool truncate, std::string& error) {
  int fd = open_append_file(path, "log file", truncate, false, error);
  std::FILE* file = fd >= 0 ? fdopen(fd, "a") : nullptr;
  if (fd >= 0 && file == nullptr) {
    error = "cannot open log file " + path + ": " + std::strerror(errno);
    ::close(fd);
  }
  return file;
}

// rename() replaces a link at PATH.1 rather than writing through it, and moves a link at PATH
// (which open_append_file would not have opened) as the link it is.
bool rotate_log_file(const std::string& path) { return std::rename(path.c_str(), (path + ".1").c_str()) == 0; }

std::optional<std::string> service_log_path(const std::string&, std::string&) { return std::nullopt; }

}  // namespace hvterm::platform
