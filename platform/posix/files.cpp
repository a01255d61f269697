// Files opened by path that someone else may have prepared: the agent's log, the socket's lock,
// a transcript, a token. A root agent pointed into a directory another user can write must not be
// turned against a file of that user's choosing through a link.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "platform/posix/internal.h"
#include "platform/system.h"

namespace hvterm::platform {
namespace {

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof(text), "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

// Why an opened file must not be written to by us, or empty when it may.
std::string unsafe_to_write(const struct stat& st) {
  if (!S_ISREG(st.st_mode)) return "it is not a regular file";
  if (st.st_nlink != 1) return "it has " + std::to_string(st.st_nlink) + " hard links";
  if (st.st_uid != geteuid()) return "it belongs to another user (uid " + std::to_string(st.st_uid) + ")";
  if ((st.st_mode & 022) != 0) return "it is writable by others (mode " + octal_mode(st.st_mode) + ")";
  return {};
}

// The process's own descriptors under the names the kernel gives them (--log >(gzip > t.gz),
// --log /dev/stderr): links, but links no other user can plant.
bool names_own_descriptor(const std::string& path) {
  auto descriptor_under = [&path](const std::string& dir) {
    return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 &&
           path.find_first_not_of("0123456789", dir.size()) == std::string::npos;
  };
  return path == "/dev/stdout" || path == "/dev/stderr" || descriptor_under("/dev/fd/") ||
         descriptor_under("/proc/self/fd/");
}

}  // namespace

namespace detail {

int open_owned_file(const std::string& path, const std::string& what, int flags, std::string& error, bool devices_ok) {
  // O_NONBLOCK: a FIFO planted at the path must not hang the open (it is refused just after).
  const int common = flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
  for (int attempt = 0; attempt < 16; ++attempt) {
    int fd = ::open(path.c_str(), common | O_NONBLOCK);
    if (fd < 0 && errno == ENOENT) {
      fd = ::open(path.c_str(), common | O_CREAT | O_EXCL, 0600);
      if (fd >= 0) return fd;         // ours, fresh, and nobody else's name for it
      if (errno == EEXIST) continue;  // something appeared meanwhile: examine it like any other
    }
    if (fd < 0) {
      int err = errno;
      struct stat st {};
      bool exists = lstat(path.c_str(), &st) == 0;
      if (err == ELOOP || (exists && S_ISLNK(st.st_mode)))
        error = "refusing " + what + " " + path + ": it is a symbolic link";
      // A FIFO with no reader gives ENXIO, which says nothing.
      else if (exists && !S_ISREG(st.st_mode) && !(devices_ok && S_ISCHR(st.st_mode)))
        error = "refusing " + what + " " + path + ": it is not a regular file";
      else
        error = "cannot open " + what + " " + path + ": " + std::strerror(err);
      return -1;
    }
    struct stat st {};
    std::string reason = fstat(fd, &st) != 0                 ? std::strerror(errno)
                         : devices_ok && S_ISCHR(st.st_mode) ? std::string()
                                                             : unsafe_to_write(st);
    if (!reason.empty()) {
      ::close(fd);
      error = "refusing " + what + " " + path + ": " + reason;
      return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
  }
  error = "cannot open " + what + " " + path + ": it keeps being replaced";
  return -1;
}

}  // namespace detail

int open_append_file(const std::string& path, const std::string& what, bool truncate, bool devices_ok,
                     std::string& error) {
  // Not emptied: the redirection that made the descriptor (`3>` or `3>>`) chose already.
  if (names_own_descriptor(path)) {
    int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) error = "cannot open " + what + " " + path + ": " + std::strerror(errno);
    return fd;
  }
  int fd = detail::open_owned_file(path, what, O_WRONLY | O_APPEND, error, devices_ok);
  // Emptied only now, once it is known to be ours: O_TRUNC would act before any check. A device
  // (devices_ok: /dev/null, a terminal) has nothing to empty.
  struct stat st {};
  if (fd >= 0 && truncate && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ftruncate(fd, 0) != 0) {
    error = "cannot empty " + what + " " + path + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

bool read_private_file(const std::string& path, const std::string& what, size_t max_bytes, std::string& contents,
                       std::string& error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    error = "cannot read " + what + " " + path + ": " + std::strerror(errno);
    return false;
  }
  std::string problem;
  struct stat st {};
  // A pipe is fine too (--token-file <(pass show hvterm)): the token then never touches a disk.
  if (fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISFIFO(st.st_mode))) {
    problem = what + " " + path + " is not a regular file or a pipe";
  } else if ((st.st_mode & 077) != 0) {
    const char* how = (st.st_mode & 044) != 0 ? "readable" : (st.st_mode & 022) != 0 ? "writable" : "accessible";
    problem = what + " " + path + " is " + how + " by others (mode " + octal_mode(st.st_mode) + "); chmod 600 it";
  } else if (st.st_uid != geteuid() && st.st_uid != 0) {
    problem = what + " " + path + " belongs to another user (uid " + std::to_string(st.st_uid) + ")";
  } else {
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);  // a pipe's writer may not have written yet
    contents.clear();
    char buffer[4096];
    ssize_t n = 0;
    while (contents.size() <= max_bytes && (n = ::read(fd, buffer, sizeof(buffer))) > 0)
      contents.append(buffer, static_cast<size_t>(n));
    if (n < 0)
      problem = "cannot read " + what + " " + path + ": " + std::strerror(errno);
    else if (contents.size() > max_bytes)
      problem = what + " " + path + " is larger than " + std::to_string(max_bytes) + " bytes";
  }
  ::close(fd);
  if (!problem.empty()) error = problem;
  return problem.empty();
}

}  // namespace hvterm::platform
