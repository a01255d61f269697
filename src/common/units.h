#pragma once
// Durations ("24h", "90s", "500ms") and byte sizes ("1M", "64KiB") from the command line.
#include <cstdint>
#include <optional>
#include <string>

namespace hvterm {

std::optional<uint64_t> parse_duration_ms(const std::string& text);  // bare number = seconds
std::optional<uint64_t> parse_size_bytes(const std::string& text);   // K/M/G are 1024-based
std::string format_duration(uint64_t ms);                            // "3h12m", "45s"
std::string format_elapsed(uint64_t ns);                             // "2.41 ms", for -v records

}  // namespace hvterm
