// Children on pipes or on a PTY. A PTY child must be a session leader with the PTY as its
// controlling terminal (job control, ^C, SIGWINCH); uv_spawn can make a new session but cannot
// set the controlling terminal, so PTY children start through a tiny helper: hvtermd re-executes
// itself with --pty-exec, which does TIOCSCTTY on the PTY and then execs the real command.
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "platform/posix/internal.h"
#include "platform/process.h"
#include "platform/sockets.h"
#include "platform/system.h"
#include "platform/terminal.h"

extern char** environ;

namespace hvterm::platform {
namespace detail {

int to_classic_signal(int native) {
  switch (native) {
    case SIGHUP: return sig::kHup;
    case SIGINT: return sig::kInt;
    case SIGQUIT: return sig::kQuit;
    case SIGKILL: return sig::kKill;
    case SIGUSR1: return sig::kUsr1;
    case SIGUSR2: return sig::kUsr2;
    case SIGPIPE: return sig::kPipe;
    case SIGTERM: return sig::kTerm;
    case SIGCONT: return sig::kCont;
    case SIGSTOP: return sig::kStop;
    case SIGTSTP: return sig::kTstp;
    case SIGWINCH: return sig::kWinch;
    default: return native > 0 && native < 65 ? native : 0;
  }
}

int from_classic_signal(int classic) {
  switch (classic) {
    case sig::kHup: return SIGHUP;
    case sig::kInt: return SIGINT;
    case sig::kQuit: return SIGQUIT;
    case sig::kKill: return SIGKILL;
    case sig::kUsr1: return SIGUSR1;
    case sig::kUsr2: return SIGUSR2;
    case sig::kPipe: return SIGPIPE;
    case sig::kTerm: return SIGTERM;
    case sig::kCont: return SIGCONT;
    case sig::kStop: return SIGSTOP;
    case sig::kTstp: return SIGTSTP;
    case sig::kWinch: return SIGWINCH;
    default: return classic;
  }
}

}  // namespace detail

namespace {

using detail::from_classic_signal;

winsize to_winsize(const TerminalSize& s) {
  winsize w{};
  w.ws_row = s.rows;
  w.ws_col = s.cols;
  w.ws_xpixel = s.xpixel;
  w.ws_ypixel = s.ypixel;
  return w;
}

// PATH for a session started as another user, as login(1) sets it from Debian's login.defs
// (ENV_SUPATH / ENV_PATH, without /usr/games) and su -l and sshd do likewise.
constexpr const char* kRootPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
constexpr const char* kUserPath = "/usr/local/bin:/usr/bin:/bin";

// Variables of the agent's own environment that a session as another user keeps: the machine's
// locale and time zone (what pam_env gives a login), nothing that says where the agent runs from.
bool kept_for_other_user(const std::string& entry) {
  return entry.rfind("LANG=", 0) == 0 || entry.rfind("LANGUAGE=", 0) == 0 || entry.rfind("LC_", 0) == 0 ||
         entry.rfind("TZ=", 0) == 0;
}

// The environment of a child. As the agent's user: the agent's own, then identity variables, then
// the request's. As another user (-u): a login's, as `su -l` builds it (HOME, USER, LOGNAME, SHELL,
// a default PATH, TERM on a PTY), plus the locale kept above, then the request's.
std::vector<std::string> child_environment(const SpawnRequest& request, const UserInfo* user) {
  std::vector<std::string> env;
  auto set = [&env](const std::string& entry) {
    auto key = entry.substr(0, entry.find('=') + 1);
    for (auto& existing : env)
      if (existing.compare(0, key.size(), key) == 0) {
        existing = entry;
        return;
      }
    env.push_back(entry);
  };
  bool login = !request.user.empty();
  for (char** e = environ; *e != nullptr; ++e)
    if (!login || kept_for_other_user(*e)) env.emplace_back(*e);
  if (user != nullptr) {
    set("HOME=" + user->home);
    set("USER=" + user->name);
    set("LOGNAME=" + user->name);
    set("SHELL=" + user->shell);
    if (login) set(std::string("PATH=") + (user->uid == 0 ? kRootPath : kUserPath));
  }
  if (request.pty) set("TERM=" + (request.term.empty() ? std::string("xterm-256color") : request.term));
  for (const auto& entry : request.env) set(entry);
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

ExitKind failure_kind(int uv_error) { return uv_error == UV_ENOENT ? ExitKind::NotFound : ExitKind::CannotExecute; }

class PosixChild final : public Child {
 public:
  PosixChild(ExitCallback on_exit, bool pty) : on_exit_(std::move(on_exit)), pty_(pty) { process_.data = this; }

  int start(uv_loop_t* loop, uv_process_options_t& options, int master_fd) {
    options.exit_cb = [](uv_process_t* p, int64_t status, int term_signal) {
      static_cast<PosixChild*>(p->data)->on_process_exit(status, term_signal);
    };
    if (pty_) {
      master_ = new uv_pipe_t;
      uv_pipe_init(loop, master_, 0);
    } else {
      for (auto*& pipe : pipes_) {
        pipe = new uv_pipe_t;
        uv_pipe_init(loop, pipe, 0);
      }
    }
    // Pipes mode gives the child real pipes, as a shell pipeline or sshd would. libuv's
    // UV_CREATE_PIPE makes socketpairs, which a program can tell apart (test -p, fstat, splice) and
    // which carry bulk output more slowly (1 GiB from `dd`: ~1.9 GB/s against ~2.6 through a pipe).
    // They start at Linux's 64 KiB; an output pipe that fills gets 128 KiB (Session::on_output).
    uv_file ends[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};  // [stream][0 read, 1 write], close-on-exec
    auto close_ends = [&ends](int side) {
      for (auto& end : ends)
        if (end[side] >= 0) ::close(std::exchange(end[side], -1));
    };
    uv_stdio_container_t stdio[3];
    for (int i = 0; i < 3; ++i) {
      stdio[i].flags = UV_INHERIT_FD;
      if (pty_) {
        stdio[i].data.fd = slave_fd_;
        continue;
      }
      if (int rc = uv_pipe(ends[i], 0, 0); rc != 0) {
        close_ends(0);
        close_ends(1);
        return rc;
      }
      stdio[i].data.fd = ends[i][i == 0 ? 0 : 1];
    }
    options.stdio = stdio;
    options.stdio_count = 3;
    int rc = uv_spawn(loop, &process_, &options);
    // libuv registers the handle even when the spawn fails: it must be closed either way.
    spawned_ = true;
    if (pty_) ::close(slave_fd_);
    if (!pty_) {  // the child's ends are the child's now; ours stay only if it runs
      for (int i = 0; i < 3; ++i) ::close(std::exchange(ends[i][i == 0 ? 0 : 1], -1));
    }
    if (rc != 0) {
      if (pty_) ::close(master_fd);
      close_ends(0);
      close_ends(1);
      return rc;
    }
    pid_ = process_.pid;
    if (auto watch = detail::watch_exit(loop, pid_, [this](int64_t status, int term_signal) {
          on_process_exit(status, term_signal);
        })) {
      // The child is ours to reap now: out of libuv's list, its exit costs nothing for the others.
      // Counted as a close in progress: close() then waits for it if it is still due.
      exit_watch_ = std::move(watch);
      ++closing_;
      uv_close(reinterpret_cast<uv_handle_t*>(&process_),
               [](uv_handle_t* h) { static_cast<PosixChild*>(h->data)->handle_closed(); });
    }
    if (pty_) {
      uv_pipe_open(master_, master_fd);
    } else {
      for (int i = 0; i < 3; ++i) {
        uv_file ours = std::exchange(ends[i][i == 0 ? 1 : 0], -1);
        if (uv_pipe_open(pipes_[i], ours) != 0) ::close(ours);  // reads then fail: the stream ends
      }
    }
    return 0;
  }

  void set_slave(int fd) { slave_fd_ = fd; }

  uv_stream_t* input() override {
    return pty_ ? reinterpret_cast<uv_stream_t*>(master_) : reinterpret_cast<uv_stream_t*>(pipes_[0]);
  }
  uv_stream_t* output() override {
    return pty_ ? reinterpret_cast<uv_stream_t*>(master_) : reinterpret_cast<uv_stream_t*>(pipes_[1]);
  }
  uv_stream_t* error_output() override { return pty_ ? nullptr : reinterpret_cast<uv_stream_t*>(pipes_[2]); }
  void close_input() override {
    if (!pty_ && pipes_[0] != nullptr) {
      close_stream(reinterpret_cast<uv_stream_t*>(pipes_[0]));
      pipes_[0] = nullptr;
    }
  }
  uint32_t pid() const override { return static_cast<uint32_t>(pid_); }

  void resize(const TerminalSize& size) override {
    if (!pty_ || master_ == nullptr) return;
    winsize w = to_winsize(size);
    uv_os_fd_t fd;
    if (uv_fileno(reinterpret_cast<uv_handle_t*>(master_), &fd) == 0) ioctl(fd, TIOCSWINSZ, &w);
  }

  int signal(int classic_signal) override {
    if (exited_) return UV_ESRCH;
    int native = from_classic_signal(classic_signal);
    pid_t group = pid_;  // the child leads its own session and process group
    if (pty_ && master_ != nullptr) {
      uv_os_fd_t fd;
      if (uv_fileno(reinterpret_cast<uv_handle_t*>(master_), &fd) == 0) {
        pid_t foreground = tcgetpgrp(fd);
        if (foreground > 0) group = foreground;
      }
    }
    if (kill(-group, native) == 0) return 0;
    return kill(pid_, native) == 0 ? 0 : uv_translate_sys_error(errno);
  }

  int signal_process(int classic_signal) override {
    if (exited_) return UV_ESRCH;
    return kill(pid_, from_classic_signal(classic_signal)) == 0 ? 0 : uv_translate_sys_error(errno);
  }

  void hang_up() override {
    if (pid_ > 0) {
      kill(-pid_, SIGHUP);
      kill(-pid_, SIGCONT);  // a stopped job must wake up to see the hang-up
    }
  }

  bool exited() const override { return exited_; }

  void close(std::function<void()> on_closed) override {
    on_closed_ = std::move(on_closed);
    auto closer = [this](uv_stream_t*& s) {
      if (s == nullptr) return;
      ++closing_;
      s->data = this;
      uv_close(reinterpret_cast<uv_handle_t*>(s), [](uv_handle_t* h) {
        auto* self = static_cast<PosixChild*>(h->data);
        delete reinterpret_cast<uv_pipe_t*>(h);
        self->handle_closed();
      });
      s = nullptr;
    };
    uv_stream_t* master = reinterpret_cast<uv_stream_t*>(master_);
    master_ = nullptr;
    closer(master);
    for (auto*& pipe : pipes_) {
      uv_stream_t* s = reinterpret_cast<uv_stream_t*>(pipe);
      pipe = nullptr;
      closer(s);
    }
    if (spawned_ && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&process_))) {
      ++closing_;
      uv_close(reinterpret_cast<uv_handle_t*>(&process_),
               [](uv_handle_t* h) { static_cast<PosixChild*>(h->data)->handle_closed(); });
    }
    if (exit_watch_) {
      ++closing_;
      exit_watch_->close([this] { handle_closed(); });
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

  void on_process_exit(int64_t status, int term_signal) {
    exited_ = true;
    ExitStatus result;
    if (term_signal != 0) {
      result.kind = ExitKind::Signaled;
      result.code = detail::to_classic_signal(term_signal);
    } else {
      result.code = static_cast<int>(status);
    }
    if (on_exit_) on_exit_(result);
  }

  ExitCallback on_exit_;
  std::function<void()> on_closed_;
  bool pty_;
  bool spawned_ = false;
  bool exited_ = false;
  int closing_ = 0;
  int slave_fd_ = -1;
  uv_process_t process_{};
  pid_t pid_ = 0;
  std::unique_ptr<detail::ExitWatch> exit_watch_;  // when set, the child is reaped here, not by libuv
  uv_pipe_t* master_ = nullptr;
  uv_pipe_t* pipes_[3] = {nullptr, nullptr, nullptr};
};

// The agent's own program, for the helper that sets up a PTY or another user. Linux's
// /proc/self/exe still reaches it after a package upgrade replaced or deleted the file, which its
// path would not (the helper must also be the same program as the agent that starts it).
std::string self_executable() {
  if (access("/proc/self/exe", X_OK) == 0) return "/proc/self/exe";
  char path[4096];
  size_t size = sizeof(path);
  if (uv_exepath(path, &size) != 0) return {};
  return std::string(path, size);
}

}  // namespace

std::unique_ptr<Child> spawn(uv_loop_t* loop, const SpawnRequest& request, ExitCallback on_exit, ExitStatus& failure) {
  std::optional<UserInfo> user = request.user.empty() ? current_user() : lookup_user(request.user);
  if (!request.user.empty()) {
    if (!user) {
      failure = {ExitKind::CannotExecute, 126, "no such user: " + request.user};
      return nullptr;
    }
    if (user->uid != geteuid() && geteuid() != 0) {
      failure = {ExitKind::CannotExecute, 126, "cannot run as " + request.user + ": the agent is not running as root"};
      return nullptr;
    }
  }
  // As another user, the helper enters the directory once it is that user: a directory the user
  // may not enter is refused, and root's view of the file system is no oracle for it.
  bool switch_user = !request.user.empty();
  std::string cwd = "/";
  if (!switch_user) {
    cwd = request.cwd.empty() ? (user ? user->home : std::string("/")) : request.cwd;
    struct stat st {};
    int stat_rc = stat(cwd.c_str(), &st);
    if (stat_rc != 0 || !S_ISDIR(st.st_mode)) {
      if (!request.cwd.empty()) {
        failure = {
            ExitKind::CannotExecute, 126,
            "cannot change to directory " + cwd + ": " + (stat_rc != 0 ? std::strerror(errno) : "Not a directory")};
        return nullptr;
      }
      cwd = "/";  // a home that does not exist is not worth failing a shell for
    }
  }

  // argv: the request's, or the user's shell as a login shell ("-bash", as login(1) and sshd do).
  std::string file;
  std::vector<std::string> args;
  if (request.argv.empty()) {
    file = user && !user->shell.empty() ? user->shell : "/bin/sh";
    std::string base = file.substr(file.rfind('/') + 1);
    args.push_back("-" + base);
  } else {
    file = request.argv[0];
    args = request.argv;
  }

  std::vector<std::string> env = child_environment(request, user ? &*user : nullptr);
  std::vector<std::string> spawn_args;
  std::string spawn_file;
  bool needs_helper = request.pty || switch_user;
  if (needs_helper) {
    spawn_file = self_executable();
    spawn_args = {"hvtermd",
                  kPtyHelperFlag,
                  request.pty ? "pty" : "pipes",
                  request.user,
                  switch_user ? request.cwd : std::string(),
                  file};
    spawn_args.insert(spawn_args.end(), args.begin(), args.end());
  } else {
    spawn_file = file;
    spawn_args = args;
  }
  std::vector<char*> argv_c = c_strings(spawn_args);
  std::vector<char*> env_c = c_strings(env);

  uv_process_options_t options{};
  options.file = spawn_file.c_str();
  options.args = argv_c.data();
  options.env = env_c.data();
  options.cwd = cwd.c_str();
  // A new session: the child leads its own process group, so signals reach its whole job.
  options.flags = UV_PROCESS_DETACHED;

  auto child = std::make_unique<PosixChild>(std::move(on_exit), request.pty);
  int master_fd = -1;
  if (request.pty) {
    int slave_fd = -1;
    winsize w = to_winsize(request.size);
    if (openpty(&master_fd, &slave_fd, nullptr, nullptr, &w) != 0) {
      failure = {ExitKind::CannotExecute, 126, std::string("cannot allocate a PTY: ") + std::strerror(errno)};
      return nullptr;
    }
    fcntl(master_fd, F_SETFD, FD_CLOEXEC);
    fcntl(slave_fd, F_SETFD, FD_CLOEXEC);
    termios t{};
    if (tcgetattr(slave_fd, &t) == 0) {
#ifdef IUTF8
      t.c_iflag |= IUTF8;  // line editing that treats UTF-8 sequences as one character
#endif
      tcsetattr(slave_fd, TCSANOW, &t);
    }
    // The terminal belongs to the session's user, as login and sshd arrange: otherwise programs
    // that open it by name (screen, tmux, mesg, a password prompt through /dev/pts/N) are refused.
    if (switch_user && user && fchown(slave_fd, user->uid, static_cast<gid_t>(-1)) != 0) {
      failure = {ExitKind::CannotExecute, 126,
                 "cannot give the terminal to " + request.user + ": " + std::strerror(errno)};
      ::close(master_fd);
      ::close(slave_fd);
      return nullptr;
    }
    child->set_slave(slave_fd);
  }
  int rc = child->start(loop, options, master_fd);
  if (rc != 0) {
    failure = {failure_kind(rc), rc == UV_ENOENT ? 127 : 126,
               (rc == UV_ENOENT ? "command not found: " : "cannot execute " + file + ": ") +
                   (rc == UV_ENOENT ? file : std::string(uv_strerror(rc)))};
    // The handles were initialised: let libuv release them before the object goes away.
    PosixChild* orphan = child.release();
    orphan->close([orphan] { delete orphan; });
    return nullptr;
  }
  return child;
}

}  // namespace hvterm::platform
