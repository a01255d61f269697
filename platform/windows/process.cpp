// Children on Windows: exec sessions on pipes through uv_spawn, PTY sessions on ConPTY (conpty.cpp).
// Windows has no signals to deliver: INT, TERM, KILL, HUP, QUIT and PIPE (the client's stdout is
// gone) end a pipes child with TerminateProcess, and its exit reads as death by that signal, as it
// would on POSIX.
#include <cstdio>
#include <cwchar>

#include "platform/process.h"
#include "platform/sockets.h"
#include "platform/system.h"
#include "platform/terminal.h"
#include "platform/windows/command_line.h"
#include "platform/windows/conpty.h"
#include "platform/windows/internal.h"

namespace hvterm::platform {
namespace {

std::vector<std::string> our_environment() {
  std::vector<std::string> env;
  wchar_t* block = GetEnvironmentStringsW();
  if (block == nullptr) return env;
  for (const wchar_t* p = block; *p != L'\0'; p += wcslen(p) + 1) env.push_back(detail::narrow(p, wcslen(p)));
  FreeEnvironmentStringsW(block);
  return env;
}

bool is_directory(const std::string& path) {
  DWORD attributes = GetFileAttributesW(detail::widen(path).c_str());
  return attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_DIRECTORY) != 0;
}

std::string system_drive_root() { return detail::environment_variable(L"SystemDrive", "C:") + "\\"; }

class PipesChild final : public Child {
 public:
  explicit PipesChild(ExitCallback on_exit) : on_exit_(std::move(on_exit)) { process_.data = this; }

  int start(uv_loop_t* loop, uv_process_options_t& options) {
    options.exit_cb = [](uv_process_t* p, int64_t status, int) {
      static_cast<PipesChild*>(p->data)->on_process_exit(static_cast<uint32_t>(status));
    };
    uv_stdio_container_t stdio[3];
    for (int i = 0; i < 3; ++i) {
      pipes_[i] = new uv_pipe_t;
      uv_pipe_init(loop, pipes_[i], 0);
      stdio[i].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | (i == 0 ? UV_READABLE_PIPE : UV_WRITABLE_PIPE));
      stdio[i].data.stream = reinterpret_cast<uv_stream_t*>(pipes_[i]);
    }
    options.stdio = stdio;
    options.stdio_count = 3;
    // libuv registers the handle with the loop even when the spawn fails: it must be closed either way.
    process_started_ = true;
    return uv_spawn(loop, &process_, &options);
  }

  uv_stream_t* input() override { return reinterpret_cast<uv_stream_t*>(pipes_[0]); }
  uv_stream_t* output() override { return reinterpret_cast<uv_stream_t*>(pipes_[1]); }
  uv_stream_t* error_output() override { return reinterpret_cast<uv_stream_t*>(pipes_[2]); }
  void close_input() override {
    close_stream(input());
    pipes_[0] = nullptr;
  }
  uint32_t pid() const override { return static_cast<uint32_t>(process_.pid); }
  void resize(const TerminalSize&) override {}

  int signal(int classic_signal) override {
    if (exited_) return UV_ESRCH;
    switch (classic_signal) {
      case sig::kInt:
      case sig::kTerm:
      case sig::kKill:
      case sig::kHup:
      case sig::kQuit:
      case sig::kPipe:
        if (!TerminateProcess(process_.process_handle, 1)) return uv_translate_sys_error(GetLastError());
        signal_sent_ = classic_signal;
        return 0;
      default: return UV_ENOSYS;
    }
  }

  void hang_up() override { signal(sig::kHup); }
  bool exited() const override { return exited_; }

  void close(std::function<void()> on_closed) override {
    on_closed_ = std::move(on_closed);
    for (auto*& pipe : pipes_) {
      if (pipe == nullptr) continue;
      ++closing_;
      pipe->data = this;
      uv_close(reinterpret_cast<uv_handle_t*>(pipe), [](uv_handle_t* h) {
        auto* self = static_cast<PipesChild*>(h->data);
        delete reinterpret_cast<uv_pipe_t*>(h);
        self->handle_closed();
      });
      pipe = nullptr;
    }
    if (process_started_ && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&process_))) {
      ++closing_;
      uv_close(reinterpret_cast<uv_handle_t*>(&process_),
               [](uv_handle_t* h) { static_cast<PipesChild*>(h->data)->handle_closed(); });
    }
    if (closing_ == 0) finish_close();
  }

 private:
  void handle_closed() {
    if (--closing_ == 0) finish_close();
  }
  void finish_close() {
    auto done = std::move(on_closed_);
    if (done) done();
  }
  void on_process_exit(uint32_t code) {
    exited_ = true;
    if (on_exit_) on_exit_(detail::exit_status_from_code(code, signal_sent_));
  }

  ExitCallback on_exit_;
  std::function<void()> on_closed_;
  uv_process_t process_{};
  uv_pipe_t* pipes_[3] = {nullptr, nullptr, nullptr};
  bool process_started_ = false, exited_ = false;
  int signal_sent_ = 0;
  int closing_ = 0;
};

std::unique_ptr<Child> spawn_on_pipes(uv_loop_t* loop, const std::vector<std::string>& argv,
                                      const std::vector<std::string>& env, const std::string& cwd, ExitCallback on_exit,
                                      ExitStatus& failure) {
  std::vector<std::string> args = argv, environment = env;
  std::vector<char*> argv_c, env_c;
  for (auto& a : args) argv_c.push_back(a.data());
  argv_c.push_back(nullptr);
  for (auto& e : environment) env_c.push_back(e.data());
  env_c.push_back(nullptr);
  uv_process_options_t options{};
  options.args = argv_c.data();
  options.env = env_c.data();
  options.cwd = cwd.c_str();
  // Its own hidden console: no window pops up, and Ctrl+C typed at the agent's console stays there.
  options.flags = UV_PROCESS_WINDOWS_HIDE;
  // libuv looks for a bare name in the working directory and the child's PATH only; CreateProcess
  // (and so cmd.exe and ConPTY sessions) also looks in the system directories. A service can start
  // with no PATH at all, and `cmd` must still be found there.
  std::vector<std::string> candidates = {args[0]};
  if (args[0].find_first_of("\\/:") == std::string::npos) {
    for (auto directory : {GetSystemDirectoryW, GetWindowsDirectoryW}) {
      wchar_t buffer[MAX_PATH];
      UINT length = directory(buffer, MAX_PATH);
      if (length > 0 && length < MAX_PATH) candidates.push_back(detail::narrow(buffer, length) + "\\" + args[0]);
    }
  }
  int rc = UV_ENOENT;
  for (const auto& file : candidates) {
    options.file = file.c_str();
    auto child = std::make_unique<PipesChild>(on_exit);
    rc = child->start(loop, options);
    if (rc == 0) return child;
    PipesChild* orphan = child.release();  // libuv must release the pipes before the object goes
    orphan->close([orphan] { delete orphan; });
    if (rc != UV_ENOENT) break;
  }
  failure = {rc == UV_ENOENT ? ExitKind::NotFound : ExitKind::CannotExecute, rc == UV_ENOENT ? 127 : 126,
             rc == UV_ENOENT ? "command not found: " + argv[0] : "cannot execute " + argv[0] + ": " + uv_strerror(rc)};
  return nullptr;
}

}  // namespace

std::unique_ptr<Child> spawn(uv_loop_t* loop, const SpawnRequest& request, ExitCallback on_exit, ExitStatus& failure) {
  auto user = current_user();
  if (!request.user.empty()) {
    auto wanted = lookup_user(request.user);
    if (!wanted || !user || wanted->name != user->name) {
      // Starting a process as someone else needs their password or token, which the agent lacks.
      failure = {ExitKind::CannotExecute, 126,
                 wanted ? "cannot run as " + request.user + ": on Windows, sessions run as the agent's own user"
                        : "no such user: " + request.user};
      return nullptr;
    }
  }
  std::string cwd = request.cwd.empty() ? (user ? user->home : std::string()) : request.cwd;
  if (!is_directory(cwd)) {
    if (!request.cwd.empty()) {
      failure = {ExitKind::CannotExecute, 126, "cannot change to directory " + cwd + ": not a directory"};
      return nullptr;
    }
    cwd = system_drive_root();  // a missing profile directory is not worth failing a shell for
  }
  std::vector<std::string> argv = request.argv;
  if (argv.empty()) argv.push_back(user ? user->shell : std::string("cmd.exe"));
  std::vector<std::string> overrides;
  if (request.pty) overrides.push_back("TERM=" + (request.term.empty() ? std::string("xterm-256color") : request.term));
  overrides.insert(overrides.end(), request.env.begin(), request.env.end());
  std::vector<std::string> env = detail::merge_environment(our_environment(), overrides);
  if (request.pty) return detail::spawn_conpty(loop, argv, env, cwd, request.size, std::move(on_exit), failure);
  return spawn_on_pipes(loop, argv, env, cwd, std::move(on_exit), failure);
}

}  // namespace hvterm::platform
