#include "agent/log_file.h"

#include <cstdio>
#include <ctime>

#include "common/log.h"
#include "platform/platform.h"

namespace hvterm {
namespace {

struct LogFile {
  std::FILE* file = nullptr;
  std::string path;
  uint64_t max_bytes = 0;
  uint64_t bytes = 0;  // in the current file
};
LogFile g_file;

// 2026-11-26T03:10:00.123Z
std::string utc_timestamp() {
  uint64_t ms = platform::unix_time_ms();
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
#ifdef _WIN32
  gmtime_s(&tm, &seconds);
#else
  gmtime_r(&seconds, &tm);
#endif
  char text[64];  // room for any int the compiler cannot rule out
  std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<unsigned>(ms % 1000));
  return text;
}

void write_raw(const std::string& record) {
  g_file.bytes += std::fwrite(record.data(), 1, record.size(), g_file.file);
  std::fflush(g_file.file);  // a record is on disk before whatever it reports brings the agent down
}

// Opens the file; one already full (or any, with `rotate`) becomes PATH.1 first, replacing the one
// before, and a new one starts.
bool open_log(bool rotate, std::string& error) {
  if (g_file.file != nullptr) std::fclose(g_file.file);
  g_file.file = nullptr;
  if (!rotate) {
    g_file.file = platform::open_log_file(g_file.path, false, error);
    if (g_file.file == nullptr) return false;
    std::fseek(g_file.file, 0, SEEK_END);
    long size = std::ftell(g_file.file);
    g_file.bytes = size > 0 ? static_cast<uint64_t>(size) : 0;
    if (g_file.bytes < g_file.max_bytes) return true;
    std::fclose(g_file.file);
  }
  // A file that cannot be moved aside (a reader holds it, the directory is read-only) is emptied
  // instead: the log stays bounded, at the price of its older records.
  bool moved = platform::rotate_log_file(g_file.path);
  g_file.file = platform::open_log_file(g_file.path, !moved, error);
  g_file.bytes = 0;
  if (g_file.file != nullptr && !moved)
    write_raw(utc_timestamp() + " warn: could not move the full log to " + log::printable(g_file.path) +
              ".1; its older records are gone\n");
  return g_file.file != nullptr;
}

void write_record(const std::string& text) {
  if (g_file.file == nullptr) return;  // it could not be reopened; there is nowhere to say so
  std::string record = utc_timestamp() + " " + text + "\n";
  if (g_file.bytes > 0 && g_file.bytes + record.size() > g_file.max_bytes) {
    std::string ignored;
    if (!open_log(true, ignored)) return;
  }
  write_raw(record);
}

}  // namespace

bool log_to_file(const std::string& path, uint64_t max_bytes, std::string& error) {
  g_file.path = path;
  g_file.max_bytes = max_bytes;
  if (!open_log(false, error)) return false;
  log::set_sink(write_record);
  return true;
}

void log_to_stderr() {
  log::set_sink(nullptr);
  if (g_file.file != nullptr) std::fclose(g_file.file);
  g_file = LogFile{};
}

}  // namespace hvterm
