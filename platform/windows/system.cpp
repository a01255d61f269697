// Paths, daemons, clocks and process-wide setup on Windows.
#include <fcntl.h>
#include <io.h>

#include <chrono>
#include <cstring>
#include <ctime>

#include "platform/process.h"
#include "platform/sockets.h"
#include "platform/system.h"
#include "platform/windows/internal.h"

namespace hvterm::platform {
namespace {

// Console modes of the standard handles: libuv switches on VT processing for a console it writes
// to, and that must not leak into the shell that started us.
struct StdioModes {
  DWORD mode[3] = {0, 0, 0};
  bool valid[3] = {false, false, false};
} saved_stdio;

constexpr DWORD kStdHandles[3] = {STD_INPUT_HANDLE, STD_OUTPUT_HANDLE, STD_ERROR_HANDLE};

// uv_spawn lets a child inherit every inheritable handle of ours, and our standard handles are
// inheritable when a parent handed us pipes: a daemon would hold the client's stdout open for ever,
// and `hvterm exec local -- cmd | more` would never end. They are kept back while it starts.
class StdioKeptBack {
 public:
  StdioKeptBack() {
    for (int i = 0; i < 3; ++i) {
      handle_[i] = GetStdHandle(kStdHandles[i]);
      kept_[i] = GetHandleInformation(handle_[i], &flags_[i]) && (flags_[i] & HANDLE_FLAG_INHERIT) != 0 &&
                 SetHandleInformation(handle_[i], HANDLE_FLAG_INHERIT, 0);
    }
  }
  ~StdioKeptBack() {
    for (int i = 0; i < 3; ++i)
      if (kept_[i]) SetHandleInformation(handle_[i], HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT);
  }
  StdioKeptBack(const StdioKeptBack&) = delete;
  StdioKeptBack& operator=(const StdioKeptBack&) = delete;

 private:
  HANDLE handle_[3];
  DWORD flags_[3] = {0, 0, 0};
  bool kept_[3] = {false, false, false};
};

}  // namespace

namespace detail {

std::string runtime_dir_path(std::string& error) {
  // LOCALAPPDATA is inside the user's profile, whose ACL already keeps other users out.
  std::string base = environment_variable(L"LOCALAPPDATA");
  if (!base.empty()) return base + "\\hvterm";
  char tmp[MAX_PATH];
  size_t size = sizeof(tmp);
  auto user = current_user();
  if (uv_os_tmpdir(tmp, &size) != 0 || !user) {
    error = "neither LOCALAPPDATA nor a temporary directory is known";
    return {};
  }
  return std::string(tmp, size) + "\\hvterm-" + user->name;
}

}  // namespace detail

std::optional<std::string> runtime_dir(std::string& error) {
  std::string dir = detail::runtime_dir_path(error);
  if (dir.empty()) return std::nullopt;
  std::wstring wide = detail::widen(dir);
  if (!CreateDirectoryW(wide.c_str(), nullptr) && GetLastError() != ERROR_ALREADY_EXISTS) {
    error = "cannot create " + dir + ": " + detail::system_error_text(GetLastError());
    return std::nullopt;
  }
  DWORD attributes = GetFileAttributesW(wide.c_str());
  // A junction or symlink could point our sockets and logs somewhere another user controls.
  if (attributes == INVALID_FILE_ATTRIBUTES || (attributes & FILE_ATTRIBUTE_DIRECTORY) == 0 ||
      (attributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0) {
    error = dir + " is not a plain directory";
    return std::nullopt;
  }
  return dir;
}

int spawn_daemon(uv_loop_t* loop, const std::vector<std::string>& argv, const std::string& log_path) {
  StdioKeptBack kept_back;
  // Hidden: no console window of its own for the agent.
  return detail::spawn_detached(loop, argv, "NUL", log_path, UV_PROCESS_WINDOWS_HIDE);
}

std::tm calendar_time(std::time_t t, bool utc) {
  std::tm tm{};
  if (utc)
    gmtime_s(&tm, &t);
  else
    localtime_s(&tm, &t);
  return tm;
}

std::string crt_error_text(int errno_value) { return std::strerror(errno_value); }

uint64_t unix_time_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now()
                                                                                         .time_since_epoch())
                                   .count());
}

void remember_stdio_flags() {
  for (int i = 0; i < 3; ++i)
    saved_stdio.valid[i] = GetConsoleMode(GetStdHandle(kStdHandles[i]), &saved_stdio.mode[i]) != 0;
}

void restore_stdio_flags() {
  for (int i = 0; i < 3; ++i)
    if (saved_stdio.valid[i]) SetConsoleMode(GetStdHandle(kStdHandles[i]), saved_stdio.mode[i]);
}

void end_stdio(int fd) {
  if (fd < 0 || fd > 2) return;
  int null_fd = _open("NUL", _O_RDWR);
  if (null_fd < 0) return;
  _dup2(null_fd, fd);
  _close(null_fd);
}

void init_process() {
  // A service has nobody to click away "program has stopped" or "insert disk" dialogs.
  SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX | SEM_NOOPENFILEERRORBOX);
  detail::ensure_winsock();
}

size_t descriptor_limit() { return 0; }

bool widen_pipe(int, size_t) { return false; }  // a named pipe's buffer size is fixed when it is created
bool widen_pipe(uv_stream_t*, size_t) { return false; }
void return_free_memory() {}  // the Windows heap decommits large free blocks by itself

bool random_bytes(void* out, size_t size) { return uv_random(nullptr, nullptr, out, size, 0, nullptr) == 0; }

}  // namespace hvterm::platform
