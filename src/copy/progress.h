#pragma once
// Progress of hvterm cp as the tools people know show it (scp, rsync --info=progress2, pv): one
// line with the file, bytes done of the total, the percentage, the rate and the time left, at most
// ten times a second, and a summary at the end. Pure: the caller says what time it is.
#include <cstdint>
#include <optional>
#include <string>

namespace hvterm::copy {

class Progress {
 public:
  static constexpr uint64_t kMinIntervalMs = 100;
  // `total`: the bytes of the whole job, or kUnknownSize.
  explicit Progress(uint64_t start_ms) : start_ms_(start_ms) {}
  void set_total(uint64_t total) { total_ = total; }
  // Of what is done, the bytes a partial file already had (--resume): not part of the rate.
  void set_resumed(uint64_t resumed) { resumed_ = resumed; }
  // The line to show now, or nothing when the last one was shown less than kMinIntervalMs ago.
  std::optional<std::string> update(const std::string& name, uint64_t done, uint64_t now_ms);
  std::string summary(uint64_t done, uint64_t now_ms) const;
  bool shown() const { return shown_; }

  static std::string bytes(uint64_t n);  // "512 B", "1.5 KiB", "64.0 MiB"

 private:
  uint64_t start_ms_;
  uint64_t total_ = ~uint64_t{0};
  uint64_t resumed_ = 0;
  uint64_t last_ms_ = 0;
  bool shown_ = false;
};

}  // namespace hvterm::copy
