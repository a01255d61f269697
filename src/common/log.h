#pragma once
// One-line log records on stderr: "hvtermd: warn: refused cid 5". The agent runs in the
// foreground under a supervisor (systemd, a Windows service), which adds timestamps itself.
#include <string>

namespace hvterm::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3, Quiet = 4 };

void set_program(const char* name);
void set_level(Level level);
bool parse_level(const std::string& text, Level& out);
bool enabled(Level level);
void write(Level level, const std::string& message);

inline void debug(const std::string& m) { write(Level::Debug, m); }
inline void info(const std::string& m) { write(Level::Info, m); }
inline void warn(const std::string& m) { write(Level::Warn, m); }
inline void error(const std::string& m) { write(Level::Error, m); }

}  // namespace hvterm::log
