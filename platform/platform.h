#pragma once
// The platform seam. Everything OS-specific that the portable core needs, and nothing else.
// platform/posix, platform/linux and platform/windows implement these same functions.
// Sockets, pipes, timers and signals go through libuv directly; this covers what libuv cannot do
// (hypervisor sockets, PTYs with a controlling terminal, raw terminal modes, users, paths).
#include <uv.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/address.h"
#include "protocol/wire.h"

namespace hvterm::platform {

// ---- streams -------------------------------------------------------------------------------------
// A connected stream handle, heap-allocated; close it with close_stream().
void close_stream(uv_stream_t* stream);
// A pipe that keeps filling up (bulk data) gets a larger kernel buffer of `bytes`: fewer sleep/wake
// round trips between a writer and a reader on two CPUs. Best effort: false when `fd` is no pipe,
// the system refuses (per-user pipe memory limit) or has no such knob (Windows).
bool widen_pipe(int fd, size_t bytes);
bool widen_pipe(uv_stream_t* stream, size_t bytes);  // the same for a libuv pipe handle
// What a Linux pipe holds by default: a read that returns this much (or more) emptied a full pipe.
inline constexpr size_t kDefaultPipeSize = 64 * 1024;
// How a session's terminal says its program's output has ended. A POSIX PTY master says EIO once
// the last byte is read; the EOF libuv reports on the hang-up after a short read comes too early
// (the master hands out 4 KiB per read and may hold more). A ConPTY's output pipe ends with EOF.
#ifdef _WIN32
inline constexpr bool kPtyEndsAtEof = true;
#else
inline constexpr bool kPtyEndsAtEof = false;
#endif
// What a libuv pipe connects to by name: a Windows named pipe (\\.\pipe\NAME) or a Unix socket path.
#ifdef _WIN32
inline constexpr bool kPipesAreNamedPipes = true;
#else
inline constexpr bool kPipesAreNamedPipes = false;
#endif

// Who connected, as far as the OS can say; the agent decides from it who may come in.
struct Peer {
  enum class Kind {
    LocalUser,     // a Unix socket peer the kernel names by uid (SO_PEERCRED)
    Vsock,         // a vsock peer, by CID
    AdmittedByOs,  // the OS checked the caller already: Hyper-V sockets, Windows named pipes, AF_UNIX
    Unknown,       // nothing to decide on (no credentials; an inherited socket of another family)
  };
  Kind kind = Kind::Unknown;
  std::string description;  // for logs: "uid 1000 pid 42", "cid 3 port 1234"
  uint32_t uid = 0;         // LocalUser
  uint32_t cid = 0;         // Vsock
};

struct ConnectError {
  int code = 0;             // libuv error code
  std::string message;      // one line a person can act on
};
using ConnectCallback = std::function<void(uv_stream_t* stream, const ConnectError& error)>;

// Connect to a Unix, vsock or Hyper-V address (hybrid vsock is layered on Unix by the core).
void connect(uv_loop_t* loop, const Address& address, uint64_t timeout_ms, ConnectCallback done);

class Listener {
 public:
  virtual ~Listener() = default;
  virtual void close() = 0;
};
using AcceptCallback = std::function<void(uv_stream_t* stream, const Peer& peer)>;
// Listen on an address. Unix sockets are created 0600 (stale sockets replaced).
std::unique_ptr<Listener> listen(uv_loop_t* loop, const Address& address, AcceptCallback on_accept,
                                 std::string& error);
// Adopt an already listening socket (systemd socket activation).
std::unique_ptr<Listener> listen_inherited(uv_loop_t* loop, int fd, AcceptCallback on_accept, std::string& error);
// Sockets handed over by systemd (LISTEN_FDS/LISTEN_PID); consumes the variables.
std::vector<int> inherited_listeners();
// Whether this machine offers the hypervisor socket family (vsock / Hyper-V sockets).
bool hypervisor_sockets_available();
// What the agent listens on when told nothing: any VM's connection to `port` on this OS's
// hypervisor socket family (vsock:any:PORT; Hyper-V: the port's service GUID, any partition).
Address default_listen_address(uint32_t port);

// ---- virtual machines ------------------------------------------------------------------------------
struct VmInfo {
  std::string id;     // Hyper-V VM ID (GUID) or vsock CID
  std::string name;
  std::string state;  // running, off, paused, saved, ...
};
// Resolve a VM name to an address for `port` (Hyper-V: VM ID + service GUID of the port).
std::optional<Address> resolve_vm(const std::string& name, uint32_t port, std::string& error);
// VMs this host can reach; false with `error` when this platform cannot enumerate them.
bool list_vms(std::vector<VmInfo>& out, std::string& error);
// Register the hvterm service GUID for `port` with the hypervisor (Hyper-V host: registry key
// GuestCommunicationServices). False with `error` where that is not possible here.
bool register_service(uint32_t port, const std::string& name, std::string& error);

// ---- child processes -------------------------------------------------------------------------------
struct SpawnRequest {
  std::vector<std::string> argv;  // empty: the user's login shell
  std::vector<std::string> env;   // KEY=VALUE added to / overriding the agent's environment
  std::string cwd;                // empty: the user's home directory
  std::string user;               // empty: the agent's own user
  bool pty = false;
  wire::WinSize size;
  std::string term;
};

struct ExitStatus {
  wire::ExitKind kind = wire::ExitKind::Exited;
  int code = 0;  // exit code, or wire signal number when Signaled
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
  virtual void resize(const wire::WinSize& size) = 0;
  // Redraw nudge after reattach: change the size and change it back so full-screen programs repaint.
  void nudge_redraw(const wire::WinSize& size);
  // Deliver a signal the way a terminal would: to the foreground process group (PTY) or to the
  // child's process group (pipes). Returns 0 or a libuv error.
  virtual int signal(uint8_t wire_signal) = 0;
  // Hang up: SIGHUP to the process group, as a terminal does when it goes away.
  virtual void hang_up() = 0;
  virtual bool exited() const = 0;
  // Release every handle; `on_closed` runs once libuv is done with them.
  virtual void close(std::function<void()> on_closed) = 0;
};

using ExitCallback = std::function<void(const ExitStatus&)>;
// Spawn, or return nullptr and fill `failure` (NotFound / CannotExecute with a message).
std::unique_ptr<Child> spawn(uv_loop_t* loop, const SpawnRequest& request, ExitCallback on_exit,
                             ExitStatus& failure);
// Entry point of the PTY helper: the agent re-executes itself with this marker so the child can
// become a session leader with the PTY as its controlling terminal before exec. Returns only on error.
inline constexpr const char* kPtyHelperFlag = "--pty-exec";
int pty_helper_main(int argc, char** argv);

// ---- the local terminal (client side) --------------------------------------------------------------
class Terminal {
 public:
  virtual ~Terminal() = default;
  virtual bool make_raw(std::string& error) = 0;  // saves the current mode first
  virtual void restore() = 0;                     // back to exactly the saved mode; idempotent
  virtual wire::WinSize size() = 0;
  // Stop this process like ^Z would (terminal restored meanwhile, raw again after resume).
  virtual void suspend() = 0;
};
bool is_terminal(int fd);
std::unique_ptr<Terminal> open_terminal(int fd);

// ---- running as a system service ----------------------------------------------------------------------
// Windows: hand the main thread to the Service Control Manager and run `body` as the service;
// `request_stop` is called (from another thread) when the SCM asks us to stop. Returns body's exit
// code, or -1 with `error` where this is not possible (not started by the SCM; not Windows).
int run_service(const std::string& name, std::function<int()> body, std::function<void()> request_stop,
                std::string& error);
// Windows: create the service `name` running `argv` (quoted as CommandLineToArgvW splits it): it
// starts with the machine, as LocalSystem, and is restarted when it fails. Elsewhere, and when
// that is refused (not an administrator, a service of that name exists), false with `error`.
// `note` says what it could not set but did without (a setting this SCM does not know).
struct ServiceSpec {
  std::string name, display_name, description;
  std::vector<std::string> argv;
};
bool install_service(const ServiceSpec& spec, std::string& error, std::string& note);
// Windows: stop the service `name` if it runs (waiting up to `stop_timeout_ms`), then delete it.
bool uninstall_service(const std::string& name, uint64_t stop_timeout_ms, std::string& error);

// ---- users, paths, identity ---------------------------------------------------------------------------
struct UserInfo {
  std::string name, home, shell;
  uint32_t uid = 0, gid = 0;
};
std::optional<UserInfo> current_user();
std::optional<UserInfo> lookup_user(const std::string& name);

// The per-user runtime directory for the local agent: $XDG_RUNTIME_DIR/hvterm, else a 0700
// directory of our own under the temp dir. Created and verified (owner, mode) on each call.
std::optional<std::string> runtime_dir(std::string& error);
// hvterm's config files (hvterm-config(5)). The user's: $XDG_CONFIG_HOME/hvterm/config, else
// ~/.config/hvterm/config (Windows: %APPDATA%\hvterm\config). The system's: SYSCONFDIR/hvterm/config,
// /etc/hvterm/config for packages (Windows: %ProgramData%\hvterm\config). Empty when the
// environment names no such place.
std::string user_config_file();
std::string system_config_file();
// The directory holding this executable.
std::string executable_dir();
// Start a program detached from this process (own session, stdio to /dev/null or `log_path`).
int spawn_daemon(uv_loop_t* loop, const std::vector<std::string>& argv, const std::string& log_path);
namespace detail {
// The libuv part of spawn_daemon, shared by every OS (platform.cpp).
int spawn_detached(uv_loop_t* loop, const std::vector<std::string>& argv, const char* null_device,
                   const std::string& log_path, unsigned extra_flags);
}  // namespace detail
// Current wall-clock time in milliseconds since the Unix epoch.
uint64_t unix_time_ms();
// A Unix time as calendar fields, in UTC or in the local time zone (thread-safe).
std::tm calendar_time(std::time_t t, bool utc);
// Programs are files named NAME plus this (".exe" on Windows).
#ifdef _WIN32
inline constexpr const char* kExecutableSuffix = ".exe";
#else
inline constexpr const char* kExecutableSuffix = "";
#endif
// The text of a C runtime errno value (on Windows its numbers are not the ones libuv translates).
std::string crt_error_text(int errno_value);
// The terminal signals hvterm passes on to the remote program (Windows has no SIGQUIT; libuv
// makes the others from console events there).
#ifdef _WIN32
inline constexpr int kForwardedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGWINCH};
#else
inline constexpr int kForwardedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGWINCH, SIGQUIT};
#endif

// ---- files opened by path --------------------------------------------------------------------------------
// A root agent may be told to write in a directory another user can write to, who could plant a
// link there to make it append to (or empty) a file of their choosing. So: a symbolic link
// (Windows: a reparse point) at the last component is refused, never followed; an absent file is
// created exclusively, 0600; an existing one must be a regular file with a single link, belonging
// to this process's user and writable by no one else (Windows: belonging to this account, SYSTEM or
// Administrators; its ACL is not examined). Not inherited by the programs sessions run. POSIX
// names of this process's own descriptors (/dev/fd/N, /dev/stdout, ...) are followed: nobody else
// can plant those.
// `devices_ok` (a transcript) also takes a character device, such as a terminal or /dev/null: only
// root can make one, so nobody can plant it. Returns a C runtime fd opened for appending (`truncate`:
// a regular file named by its path is emptied first, once it passed the checks), or -1 with `error`
// naming `what`, the path and the reason in one line.
int open_append_file(const std::string& path, const std::string& what, bool truncate, bool devices_ok,
                     std::string& error);
// The same checks for a secret to read (a token file): it must be a regular file (or a pipe) no
// other user may read or write (POSIX modes; Windows: not examined), belonging to this process's
// user or root.
// Links are followed, as ssh follows them to a private key. At most `max_bytes` are read.
bool read_private_file(const std::string& path, const std::string& what, size_t max_bytes, std::string& contents,
                       std::string& error);

// ---- log files ------------------------------------------------------------------------------------------
// open_append_file() as a stdio stream, for the agent's log.
std::FILE* open_log_file(const std::string& path, bool truncate, std::string& error);
// Move `path` to `path.1`, replacing what was there (a link there is replaced, not followed).
bool rotate_log_file(const std::string& path);
// Where a service logs unless told otherwise. Windows: %ProgramData%\hvterm\PROGRAM.log, as the
// Service Control Manager keeps no output; the directory is created for SYSTEM and Administrators
// only, and one that exists must belong to them (or to the service's own account). Elsewhere
// nullopt: systemd puts stderr in the journal.
std::optional<std::string> service_log_path(const std::string& program, std::string& error);

// Process-wide setup, first thing in main: fds 0-2 that are closed are opened on /dev/null (POSIX),
// SIGPIPE is ignored (a closed peer is an error return).
void init_process();
// This process's limit on open descriptors (the soft RLIMIT_NOFILE); 0 where there is no such limit
// (Windows: sockets and handles are not counted against one).
size_t descriptor_limit();
// Hand back to the system what the allocator keeps of memory freed after a burst (glibc keeps
// freed heap pages resident until asked).
void return_free_memory();
// Fill `out` with cryptographically random bytes (uv_random where available).
bool random_bytes(void* out, size_t size);

// ---- stdio handles ----------------------------------------------------------------------------------
// Restore blocking mode on fds 0-2 at exit (libuv makes them non-blocking, which leaks into any
// process sharing them, such as the shell that started us).
void remember_stdio_flags();
void restore_stdio_flags();
// Let go of one of fds 0-2 for good (libuv never closes those): its mode as we found it, then
// /dev/null in its place, so the reader on the other side sees EOF and the number stays taken.
void end_stdio(int fd);

}  // namespace hvterm::platform
