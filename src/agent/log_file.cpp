#include "agent/log_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "common/log.h"
#include "common/printable.h"
#include "platform/system.h"

namespace hvterm {
namespace {

struct LogFile {
  std::FILE* file = nullptr;
  std::string path;
  uint64_t max_bytes = 0;
  uint64_t bytes = 0;         // in the current file
  bool write_failed = false;  // said so on stderr already
  bool on_stderr = false;     // the file could not be reopened: records go to stderr instead
};
LogFile g_file;

// 2026-11-26T03:10:00.123Z
std::string utc_timestamp() {
  uint64_t ms = platform::unix_time_ms();
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm = platform::calendar_time(seconds, true);
  char text[64];  // room for any int the compiler cannot rule out
  std::snprintf(text, sizeof(text), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<unsigned>(ms % 1000));
  return text;
}

// Where the agent's records can no longer go, stderr is the last place to say so (the journal, a
// terminal, or nowhere for a Windows service).
void tell_stderr(const std::string& message) {
  std::fprintf(stderr, "hvtermd: error: %s\n", message.c_str());
  std::fflush(stderr);
}

void write_raw(const std::string& record) {
  size_t written = std::fwrite(record.data(), 1, record.size(), g_file.file);
  g_file.bytes += written;
  // Flushed: a record is on disk before whatever it reports brings the agent down.
  bool ok = std::fflush(g_file.file) == 0 && written == record.size();
  if (!ok && !g_file.write_failed)  // once per spell of failures (a full disk), not once per record
    tell_stderr("cannot write to log file " + printable(g_file.path) + ": " + std::strerror(errno) +
                "; records are lost until it can be written again");
  g_file.write_failed = !ok;
  std::clearerr(g_file.file);
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
    write_raw(utc_timestamp() + " warn: could not move the full log to " + printable(g_file.path) +
              ".1; its older records are gone\n");
  return g_file.file != nullptr;
}

void write_record(const std::string& text) {
  if (g_file.on_stderr) {
    std::fprintf(stderr, "%s\n", text.c_str());
    return;
  }
  std::string record = utc_timestamp() + " " + text + "\n";
  if (g_file.bytes > 0 && g_file.bytes + record.size() > g_file.max_bytes) {
    std::string error;
    if (!open_log(true, error)) {
      g_file.on_stderr = true;
      tell_stderr(printable(error) + "; records go to stderr from now on");
      std::fprintf(stderr, "%s\n", text.c_str());
      return;
    }
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
