#include "common/units.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>

namespace hvterm {
namespace {

bool split_number(const std::string& text, double& value, std::string& unit) {
  if (text.empty() || !(std::isdigit(static_cast<unsigned char>(text[0])) || text[0] == '.')) return false;
  char* end = nullptr;
  value = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || value < 0 || value > 1e15) return false;
  unit = end;
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return true;
}

}  // namespace

std::optional<uint64_t> parse_duration_ms(const std::string& text) {
  double value;
  std::string unit;
  if (!split_number(text, value, unit)) return std::nullopt;
  double scale;
  if (unit.empty() || unit == "s")
    scale = 1000;
  else if (unit == "ms")
    scale = 1;
  else if (unit == "m" || unit == "min")
    scale = 60e3;
  else if (unit == "h")
    scale = 3600e3;
  else if (unit == "d")
    scale = 86400e3;
  else
    return std::nullopt;
  if (value * scale >= 9.2e18) return std::nullopt;
  return static_cast<uint64_t>(value * scale);
}

std::optional<uint64_t> parse_size_bytes(const std::string& text) {
  double value;
  std::string unit;
  if (!split_number(text, value, unit)) return std::nullopt;
  if (unit.size() > 1 && unit.back() == 'b') unit.pop_back();  // "KB", "KiB"
  if (unit.size() > 1 && unit.back() == 'i') unit.pop_back();
  double scale;
  if (unit.empty() || unit == "b")
    scale = 1;
  else if (unit == "k")
    scale = 1024;
  else if (unit == "m")
    scale = 1024.0 * 1024;
  else if (unit == "g")
    scale = 1024.0 * 1024 * 1024;
  else
    return std::nullopt;
  if (value * scale >= 9.2e18) return std::nullopt;
  return static_cast<uint64_t>(value * scale);
}

std::string format_duration(uint64_t ms) {
  uint64_t s = ms / 1000;
  if (s < 60) return std::to_string(s) + "s";
  if (s < 3600) return std::to_string(s / 60) + "m" + (s % 60 ? std::to_string(s % 60) + "s" : "");
  if (s < 86400) return std::to_string(s / 3600) + "h" + (s % 3600 / 60 ? std::to_string(s % 3600 / 60) + "m" : "");
  return std::to_string(s / 86400) + "d" + (s % 86400 / 3600 ? std::to_string(s % 86400 / 3600) + "h" : "");
}

std::string format_elapsed(uint64_t ns) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f ms", static_cast<double>(ns) / 1e6);
  return text;
}

}  // namespace hvterm
