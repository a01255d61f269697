// The parts of the platform seam that libuv already makes the same on every OS.
#include <atomic>
#include <cstdint>
#include <cstring>

#include "platform/file_tree.h"
#include "platform/process.h"
#include "platform/sockets.h"
#include "platform/system.h"
#include "platform/terminal.h"

namespace hvterm::platform {

namespace {

void free_stream(uv_handle_t* h) {
  if (h->type == UV_NAMED_PIPE)
    delete reinterpret_cast<uv_pipe_t*>(h);
  else if (h->type == UV_TCP)
    delete reinterpret_cast<uv_tcp_t*>(h);
  else if (h->type == UV_TTY)
    delete reinterpret_cast<uv_tty_t*>(h);
}

}  // namespace

std::string random_name_suffix() {
  // Random once, then counted: a tree of small files asks for a name per file, and the exclusive
  // create refuses a name that is taken anyway; randomness only keeps processes apart.
  static const uint64_t base = [] {
    uint64_t bits = 0;
    if (!random_bytes(reinterpret_cast<uint8_t*>(&bits), sizeof bits)) bits = 0;
    return bits;
  }();
  static std::atomic<uint64_t> count{0};
  uint64_t value = (base + count.fetch_add(1, std::memory_order_relaxed)) & 0xffffffffffffull;
  static const char kDigits[] = "0123456789abcdef";
  std::string text(12, '0');
  for (int i = 11; i >= 0; --i, value >>= 4) text[static_cast<size_t>(i)] = kDigits[value & 15];
  return text;
}

void close_stream(uv_stream_t* stream) {
  if (stream == nullptr) return;
  auto* handle = reinterpret_cast<uv_handle_t*>(stream);
  if (uv_is_closing(handle)) return;
  uv_close(handle, free_stream);
}

void close_stream(uv_stream_t* stream, std::function<void()> closed) {
  auto* handle = reinterpret_cast<uv_handle_t*>(stream);
  handle->data = new std::function<void()>(std::move(closed));  // the handle is no one else's now
  uv_close(handle, [](uv_handle_t* h) {
    auto* closed = static_cast<std::function<void()>*>(h->data);
    free_stream(h);
    auto then = std::move(*closed);
    delete closed;
    then();
  });
}

std::string executable_dir() {
  char path[4096];
  size_t size = sizeof(path);
  if (uv_exepath(path, &size) != 0) return ".";
  std::string p(path, size);
#ifdef _WIN32
  auto slash = p.find_last_of("\\/");
#else
  auto slash = p.rfind('/');
#endif
  return slash == std::string::npos ? "." : p.substr(0, slash);
}

void Child::nudge_redraw(const TerminalSize& size) {
  TerminalSize other = size;
  other.rows = static_cast<uint16_t>(size.rows > 1 ? size.rows - 1 : size.rows + 1);
  resize(other);
  resize(size);
}

namespace detail {

int spawn_detached(uv_loop_t* loop, const std::vector<std::string>& argv, const char* null_device,
                   const std::string& log_path, unsigned extra_flags) {
  auto open = [](const char* path, int flags) {
    uv_fs_t req;
    int fd = uv_fs_open(nullptr, &req, path, flags, 0600, nullptr);  // libuv opens it close-on-exec
    uv_fs_req_cleanup(&req);
    return fd;
  };
  auto close = [](int fd) {
    if (fd < 0) return;
    uv_fs_t req;
    uv_fs_close(nullptr, &req, fd, nullptr);
    uv_fs_req_cleanup(&req);
  };
  // The log lives in the private runtime directory; not following a link there costs nothing.
  int log_fd = open(log_path.empty() ? null_device : log_path.c_str(),
                    UV_FS_O_WRONLY | UV_FS_O_CREAT | UV_FS_O_APPEND | (log_path.empty() ? 0 : UV_FS_O_NOFOLLOW));
  int null_fd = open(null_device, UV_FS_O_RDONLY);
  std::vector<std::string> args = argv;
  std::vector<char*> argv_c;
  for (auto& a : args) argv_c.push_back(a.data());
  argv_c.push_back(nullptr);
  uv_stdio_container_t stdio[3];
  stdio[0].flags = null_fd >= 0 ? UV_INHERIT_FD : UV_IGNORE;
  stdio[0].data.fd = null_fd;
  stdio[1].flags = log_fd >= 0 ? UV_INHERIT_FD : UV_IGNORE;
  stdio[1].data.fd = log_fd;
  stdio[2] = stdio[1];
  uv_process_options_t options{};
  options.file = argv_c[0];
  options.args = argv_c.data();
  options.stdio = stdio;
  options.stdio_count = 3;
  options.flags = UV_PROCESS_DETACHED | extra_flags;  // its own session: it outlives the client
  auto* process = new uv_process_t;
  int rc = uv_spawn(loop, process, &options);
  close(log_fd);
  close(null_fd);
  if (rc == 0) uv_unref(reinterpret_cast<uv_handle_t*>(process));
  // Closed whether or not the spawn worked: libuv registers the handle either way.
  uv_close(reinterpret_cast<uv_handle_t*>(process), [](uv_handle_t* h) { delete reinterpret_cast<uv_process_t*>(h); });
  return rc;
}

}  // namespace detail
}  // namespace hvterm::platform
