#pragma once
// The platform seam, processes: the programs sessions run (on pipes or a PTY with a controlling
// terminal), starting the agent detached, and this process's own setup.
#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "platform/terminal.h"

namespace hvterm::platform {

// Signals are named by their classic POSIX numbers on every OS (those of Linux on x86, which most
// systems share for these), whatever the OS numbers them itself; each OS maps them to its own.
namespace sig {
inline constexpr int kHup = 1, kInt = 2, kQuit = 3, kKill = 9, kUsr1 = 10, kUsr2 = 12, kPipe = 13, kTerm = 15,
                     kCont = 18, kStop = 19, kTstp = 20, kWinch = 28;
}

// ---- child processes -------------------------------------------------------------------------------
struct SpawnRequest {
  std::vector<std::string> argv;  // empty: the user's login shell
  std::vector<std::string> env;   // KEY=VALUE added to / overriding the agent's environment
  std::string cwd;                // empty: the user's home directory
  std::string user;               // empty: the agent's own user
  bool pty = false;
  TerminalSize size;
  std::string term;
};

enum class ExitKind { Exited, Signaled, NotFound, CannotExecute };
struct ExitStatus {
  ExitKind kind = ExitKind::Exited;
  int code = 0;  // exit code, or the signal's classic number (sig::) when Signaled
  std::string message;
};

// A running child: its stdio as libuv streams (for a PTY, `output` is the master and `input`
// is the same handle) and its exit. The owner must call close() and wait for `on_closed`.
class Child {
 public:
  virtual ~Child() = default;
  virtual uv_stream_t* input() = 0;         // nullptr once closed
  virtual uv_stream_t* output() = 0;        // stdout or PTY master
  virtual uv_stream_t* error_output() = 0;  // stderr; nullptr for a PTY
  virtual void close_input() = 0;           // stdin EOF (pipes only)
  virtual uint32_t pid() const = 0;
  virtual void resize(const TerminalSize& size) = 0;
  // Redraw nudge after reattach: change the size and change it back so full-screen programs repaint.
  void nudge_redraw(const TerminalSize& size);
  // Deliver a signal (its classic number, sig::) the way a terminal would: to the foreground
  // process group (PTY) or to the child's process group (pipes). Returns 0 or a libuv error.
  virtual int signal(int classic_signal) = 0;
  // Deliver it to the child's own process only (the pid the session shows), whatever job holds the
  // terminal. Where a child is one process with nothing in front of it, that is signal().
  virtual int signal_process(int classic_signal) { return signal(classic_signal); }
  // Hang up: SIGHUP to the process group, as a terminal does when it goes away.
  virtual void hang_up() = 0;
  virtual bool exited() const = 0;
  // Release every handle; `on_closed` runs once libuv is done with them.
  virtual void close(std::function<void()> on_closed) = 0;
};

using ExitCallback = std::function<void(const ExitStatus&)>;
// Spawn, or return nullptr and fill `failure` (NotFound / CannotExecute with a message).
std::unique_ptr<Child> spawn(uv_loop_t* loop, const SpawnRequest& request, ExitCallback on_exit, ExitStatus& failure);
// How a session's terminal says its program's output has ended. A POSIX PTY master says EIO once
// the last byte is read; the EOF libuv reports on the hang-up after a short read comes too early
// (the master hands out 4 KiB per read and may hold more). A ConPTY's output pipe ends with EOF.
#ifdef _WIN32
inline constexpr bool kPtyEndsAtEof = true;
#else
inline constexpr bool kPtyEndsAtEof = false;
#endif
// Entry point of the PTY helper: the agent re-executes itself with this marker so the child can
// become a session leader with the PTY as its controlling terminal before exec. Returns only on error.
inline constexpr const char* kPtyHelperFlag = "--pty-exec";
int pty_helper_main(int argc, char** argv);

// Start a program detached from this process (own session, stdio to /dev/null or `log_path`).
int spawn_daemon(uv_loop_t* loop, const std::vector<std::string>& argv, const std::string& log_path);
namespace detail {
// The libuv part of spawn_daemon, shared by every OS (shared.cpp).
int spawn_detached(uv_loop_t* loop, const std::vector<std::string>& argv, const char* null_device,
                   const std::string& log_path, unsigned extra_flags);
}  // namespace detail

// ---- this process ------------------------------------------------------------------------------------
// Process-wide setup, first thing in main: fds 0-2 that are closed are opened on /dev/null (POSIX),
// SIGPIPE is ignored (a closed peer is an error return).
void init_process();
// This process's limit on open descriptors (the soft RLIMIT_NOFILE); 0 where there is no such limit
// (Windows: sockets and handles are not counted against one).
size_t descriptor_limit();
// Restore blocking mode on fds 0-2 at exit (libuv makes them non-blocking, which leaks into any
// process sharing them, such as the shell that started us).
void remember_stdio_flags();
void restore_stdio_flags();
// Let go of one of fds 0-2 for good (libuv never closes those): its mode as we found it, then
// /dev/null in its place, so the reader on the other side sees EOF and the number stays taken.
void end_stdio(int fd);

}  // namespace hvterm::platform
