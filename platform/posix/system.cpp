// The runtime directory, daemons, clocks, and stdio flags on POSIX systems.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "platform/posix/internal.h"
#include "platform/process.h"
#include "platform/sockets.h"
#include "platform/system.h"

namespace hvterm::platform {
namespace {

// A directory we may trust with our sockets: ours, not a symlink, and private. Examined and made
// private through a descriptor of the directory itself, not by its name a second time.
bool private_directory(const std::string& path, std::string& error) {
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
    error = "cannot create " + path + ": " + std::strerror(errno);
    return false;
  }
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      error = path + " is not a directory";
    else if (st.st_uid != geteuid())  // and closed to us
      error = path + " belongs to another user (uid " + std::to_string(st.st_uid) + ")";
    else
      error = "cannot open " + path + ": " + std::strerror(err);
    return false;
  }
  struct stat st {};
  bool ok = false;
  if (fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode))
    error = path + " is not a directory";
  else if (st.st_uid != geteuid())
    error = path + " belongs to another user (uid " + std::to_string(st.st_uid) + ")";
  else if ((st.st_mode & 077) != 0 && fchmod(fd, 0700) != 0)
    error = path + " is accessible to other users and cannot be made private";
  else
    ok = true;
  close(fd);
  return ok;
}

int saved_flags[3] = {-1, -1, -1};

}  // namespace

std::optional<std::string> runtime_dir(std::string& error) {
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  std::string base;
  if (xdg != nullptr && *xdg != '\0') {
    base = xdg;
  } else {
    const char* tmp = std::getenv("TMPDIR");
    base = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/hvterm-" + std::to_string(geteuid());
    if (!private_directory(base, error)) return std::nullopt;
  }
  std::string dir = base + "/hvterm";
  if (!private_directory(dir, error)) return std::nullopt;
  return dir;
}

int spawn_daemon(uv_loop_t* loop, const std::vector<std::string>& argv, const std::string& log_path) {
  return detail::spawn_detached(loop, argv, "/dev/null", log_path, 0);
}

std::tm calendar_time(std::time_t t, bool utc) {
  std::tm tm{};
  if (utc)
    gmtime_r(&t, &tm);
  else
    localtime_r(&t, &tm);
  return tm;
}

std::string crt_error_text(int errno_value) { return uv_strerror(uv_translate_sys_error(errno_value)); }

uint64_t unix_time_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()
                                                                                         .time_since_epoch())
                                   .count());
}

void remember_stdio_flags() {
  for (int fd = 0; fd < 3; ++fd) saved_flags[fd] = fcntl(fd, F_GETFL);
}

void restore_stdio_flags() {
  for (int fd = 0; fd < 3; ++fd)
    if (saved_flags[fd] != -1) fcntl(fd, F_SETFL, saved_flags[fd]);
}

void end_stdio(int fd) {
  if (fd < 0 || fd > 2) return;
  if (saved_flags[fd] != -1) fcntl(fd, F_SETFL, saved_flags[fd]);
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null_fd < 0) return;
  dup2(null_fd, fd);  // dup2 clears close-on-exec on the copy
  close(null_fd);
}

void init_process() {
  // A closed fd 0, 1 or 2 would be the next socket, log file or libuv's epoll fd, and then remote
  // output would be written into it: give each one /dev/null before anything opens a file (as ssh
  // does). open() takes the lowest free number, so in this order each lands on its own slot.
  for (int fd = 0; fd < 3; ++fd)
    if (fcntl(fd, F_GETFD) == -1 && errno == EBADF) (void)open("/dev/null", O_RDWR);
  signal(SIGPIPE, SIG_IGN);
}

size_t descriptor_limit() {
  struct rlimit limit {};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 0;
  return static_cast<size_t>(limit.rlim_cur);
}

bool widen_pipe(int fd, size_t bytes) {
#ifdef F_SETPIPE_SZ
  int size = fcntl(fd, F_GETPIPE_SZ);
  if (size < 0) return false;
  return static_cast<size_t>(size) >= bytes || fcntl(fd, F_SETPIPE_SZ, static_cast<int>(bytes)) >= 0;
#else
  (void)fd;
  (void)bytes;
  return false;
#endif
}

bool widen_pipe(uv_stream_t* stream, size_t bytes) {
  uv_os_fd_t fd;
  return stream->type == UV_NAMED_PIPE && uv_fileno(reinterpret_cast<uv_handle_t*>(stream), &fd) == 0 &&
         widen_pipe(fd, bytes);
}

void return_free_memory() {
#ifdef __GLIBC__
  malloc_trim(0);
#endif
}

bool random_bytes(void* out, size_t size) { return uv_random(nullptr, nullptr, out, size, 0, nullptr) == 0; }

}  // namespace hvterm::platform
