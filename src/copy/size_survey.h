#pragma once
// SizeSurvey: the bytes of every file a copy is about to send, counted on a thread of its own, so
// that the copy starts at once and its progress has the whole job's total as soon as the count is
// done (for a tree of small files the count is a good part of the work: done first, in line, it
// held the copy back). It never follows a symlink below a top-level source, as the Walker does not.
#include <uv.h>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace hvterm::copy {

class SizeSurvey {
 public:
  SizeSurvey(std::vector<std::string> sources, bool recursive);
  ~SizeSurvey();  // stops the count if it is still going
  SizeSurvey(const SizeSurvey&) = delete;
  SizeSurvey& operator=(const SizeSurvey&) = delete;

  bool done() const { return done_.load(std::memory_order_acquire); }
  // The bytes of every file (stdin counts 0; what cannot be read is left out), once done().
  uint64_t total() const { return total_; }
  uint64_t wait();  // the total, after the count has ended

 private:
  void count();

  const std::vector<std::string> sources_;
  const bool recursive_;
  uint64_t total_ = 0;  // written by the thread before done_, read after it
  std::atomic<bool> done_{false}, stop_{false};
  uv_thread_t thread_{};
  bool thread_started_ = false;
};

}  // namespace hvterm::copy
