#include "common/log.h"

#include <chrono>
#include <cstdio>
#include <optional>

#include "common/printable.h"

namespace hvterm::log {
namespace {
const char* g_program = "hvterm";
Level g_level = Level::Info;
std::function<void(const std::string&)> g_sink;
std::optional<std::chrono::steady_clock::time_point> g_clock_start;
const char* level_name(Level level) {
  switch (level) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warn: return "warn";
    case Level::Error: return "error";
    case Level::Quiet: return "";
  }
  return "";
}

}  // namespace

void set_program(const char* name) { g_program = name; }
void set_level(Level level) { g_level = level; }
void set_sink(std::function<void(const std::string& record)> sink) { g_sink = std::move(sink); }
void set_elapsed_clock(bool on) {
  g_clock_start.reset();
  if (on) g_clock_start = std::chrono::steady_clock::now();
}
bool enabled(Level level) { return level >= g_level; }

bool parse_level(const std::string& text, Level& out) {
  for (Level l : {Level::Debug, Level::Info, Level::Warn, Level::Error}) {
    if (text == level_name(l)) {
      out = l;
      return true;
    }
  }
  if (text == "quiet") {
    out = Level::Quiet;
    return true;
  }
  return false;
}

void write(Level level, const std::string& message) {
  if (!enabled(level)) return;
  // Messages quote commands, peers' words and paths: none of them may forge a record of its own.
  std::string shown = printable(message);
  if (g_clock_start) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - *g_clock_start);
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, "[%lld.%03llds] ", static_cast<long long>(us.count() / 1000000),
                  static_cast<long long>(us.count() / 1000 % 1000));
    shown.insert(0, stamp);
  }
  if (g_sink) return g_sink(std::string(g_program) + ": " + level_name(level) + ": " + shown);
  std::fprintf(stderr, "%s: %s: %s\n", g_program, level_name(level), shown.c_str());
}

}  // namespace hvterm::log
