#pragma once
// The platform seam, the system: users, the places hvterm keeps its files, files opened by path
// with the checks a root agent needs, log files, time, memory and randomness.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>

namespace hvterm::platform {

// ---- users and paths ---------------------------------------------------------------------------------
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
// Programs are files named NAME plus this (".exe" on Windows).
#ifdef _WIN32
inline constexpr const char* kExecutableSuffix = ".exe";
#else
inline constexpr const char* kExecutableSuffix = "";
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

// ---- time, errors, memory, randomness ------------------------------------------------------------------
// Current wall-clock time in milliseconds since the Unix epoch.
uint64_t unix_time_ms();
// A Unix time as calendar fields, in UTC or in the local time zone (thread-safe).
std::tm calendar_time(std::time_t t, bool utc);
// The text of a C runtime errno value (on Windows its numbers are not the ones libuv translates).
std::string crt_error_text(int errno_value);
// Hand back to the system what the allocator keeps of memory freed after a burst (glibc keeps
// freed heap pages resident until asked).
void return_free_memory();
// Fill `out` with cryptographically random bytes (uv_random where available).
bool random_bytes(void* out, size_t size);

}  // namespace hvterm::platform
