// Log files for an agent that is not under a supervisor that keeps its stderr.
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "platform/platform.h"

namespace hvterm::platform {

std::FILE* open_log_file(const std::string& path, std::string& error) {
  std::FILE* file = std::fopen(path.c_str(), "ae");  // e: close-on-exec, so no session inherits it
  if (file == nullptr) error = "cannot open log file " + path + ": " + std::strerror(errno);
  return file;
}

bool rotate_log_file(const std::string& path) { return std::rename(path.c_str(), (path + ".1").c_str()) == 0; }

std::optional<std::string> service_log_path(const std::string&, std::string&) { return std::nullopt; }

}  // namespace hvterm::platform
