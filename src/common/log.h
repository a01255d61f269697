#pragma once
// One-line log records on stderr: "hvtermd: warn: refused cid 5". The agent runs in the
// foreground under a supervisor (systemd), which adds timestamps itself, or writes a file of its
// own (agent/log_file.h: a Windows service, --log-file).
#include <functional>
#include <string>
#include <string_view>

namespace hvterm::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3, Quiet = 4 };

void set_program(const char* name);
void set_level(Level level);
bool parse_level(const std::string& text, Level& out);
bool enabled(Level level);
// Every record is one line of text a terminal shows as is: `message` passes through printable()
// (common/printable.h).
void write(Level level, const std::string& message);
// Records go to `sink` instead of stderr (an empty one: back to stderr), without the newline.
void set_sink(std::function<void(const std::string& record)> sink);
// On: records carry the seconds since this call ("hvterm: info: [0.012s] connected"), what a person
// reading `hvterm -v` needs to see where the time went.
void set_elapsed_clock(bool on);

inline void debug(const std::string& m) { write(Level::Debug, m); }
inline void info(const std::string& m) { write(Level::Info, m); }
inline void warn(const std::string& m) { write(Level::Warn, m); }
inline void error(const std::string& m) { write(Level::Error, m); }

}  // namespace hvterm::log
