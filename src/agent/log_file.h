#pragma once
// hvtermd's records in a file of its own, for when nothing keeps its stderr (a Windows service, or
// --log-file). Each record gets a UTC timestamp, as no supervisor adds one. A record that would take
// the file past `max_bytes` moves it to PATH.1 first (replacing the one before): at most twice
// `max_bytes` on disk. A file that cannot be written says so on stderr, once per spell of failures;
// one that cannot be reopened for the next file says so and sends the records to stderr instead.
#include <cstdint>
#include <string>

namespace hvterm {

// Opens `path` for appending (a file already full is moved aside first) and sends the log there.
bool log_to_file(const std::string& path, uint64_t max_bytes, std::string& error);
// Closes the file; records go to stderr again.
void log_to_stderr();

}  // namespace hvterm
