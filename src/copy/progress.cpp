#include "copy/progress.h"

#include <algorithm>
#include <cstdio>

namespace hvterm::copy {
namespace {

std::string rate_of(uint64_t done, uint64_t ms) {
  if (ms == 0) return "-";
  return Progress::bytes(done * 1000 / ms) + "/s";
}

std::string clock(uint64_t seconds) {
  char text[32];
  if (seconds >= 3600)
    std::snprintf(text, sizeof text, "%llu:%02llu:%02llu", static_cast<unsigned long long>(seconds / 3600),
                  static_cast<unsigned long long>(seconds / 60 % 60), static_cast<unsigned long long>(seconds % 60));
  else
    std::snprintf(text, sizeof text, "%llu:%02llu", static_cast<unsigned long long>(seconds / 60),
                  static_cast<unsigned long long>(seconds % 60));
  return text;
}

}  // namespace

std::string Progress::bytes(uint64_t n) {
  static const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  if (n < 1024) return std::to_string(n) + " B";
  double value = static_cast<double>(n) / 1024;
  int unit = 0;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  std::snprintf(text, sizeof text, "%.1f %s", value, kUnits[unit]);
  return text;
}

std::optional<std::string> Progress::update(const std::string& name, uint64_t done, uint64_t now_ms) {
  if (shown_ && now_ms - last_ms_ < kMinIntervalMs) return std::nullopt;
  shown_ = true;
  last_ms_ = now_ms;
  uint64_t elapsed = now_ms - start_ms_;
  std::string line = name + "  " + bytes(done);
  if (total_ != ~uint64_t{0}) {
    line += " / " + bytes(total_);
    unsigned percent = total_ == 0 ? 100 : static_cast<unsigned>(std::min<uint64_t>(done, total_) * 100 / total_);
    line += "  " + std::to_string(percent) + "%";
  }
  uint64_t moved = done > resumed_ ? done - resumed_ : 0;
  line += "  " + rate_of(moved, elapsed);
  if (total_ != ~uint64_t{0} && moved > 0 && elapsed > 0) {
    uint64_t left = total_ > done ? total_ - done : 0;
    line += "  ETA " + clock(left * elapsed / moved / 1000);
  }
  return line;
}

std::string Progress::summary(uint64_t done, uint64_t now_ms) const {
  uint64_t elapsed = now_ms - start_ms_;
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.1f", static_cast<double>(elapsed) / 1000);
  uint64_t moved = done > resumed_ ? done - resumed_ : 0;
  std::string line = "copied " + bytes(done) + " in " + seconds + " s (" + rate_of(moved, elapsed) + ")";
  if (resumed_ > 0) line += ", " + bytes(resumed_) + " of it resumed from partial files";
  return line;
}

}  // namespace hvterm::copy
