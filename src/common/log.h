#pragma once
// One-line log records on stderr: "hvtermd: warn: refused cid 5". The agent runs in the
// foreground under a supervisor (systemd), which adds timestamps itself; or into a file (a Windows
// service, --log-file), with timestamps of its own.
#include <cstdint>
#include <string>

namespace hvterm::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3, Quiet = 4 };

void set_program(const char* name);
void set_level(Level level);
bool parse_level(const std::string& text, Level& out);
bool enabled(Level level);
void write(Level level, const std::string& message);
// Records go to `path` instead of stderr, each with a UTC timestamp (no supervisor adds one to a
// file). A record that would take the file past `max_bytes` starts a new one, and the full one
// becomes PATH.1, replacing the one before: at most twice `max_bytes` on disk.
bool to_file(const std::string& path, uint64_t max_bytes, std::string& error);
void to_stderr();

inline void debug(const std::string& m) { write(Level::Debug, m); }
inline void info(const std::string& m) { write(Level::Info, m); }
inline void warn(const std::string& m) { write(Level::Warn, m); }
inline void error(const std::string& m) { write(Level::Error, m); }

}  // namespace hvterm::log
