#pragma once
// Timer: a libuv timer with one owner. The handle is made on first start and closed when the
// owner goes or calls close(); libuv frees it in its close callback, which may run after the owner
// is gone, and a closed timer never fires. Replaces the new/uv_close/delete idiom by hand.
#include <uv.h>

#include <cstdint>
#include <functional>

namespace hvterm {

class Timer {
 public:
  Timer() = default;
  ~Timer() { close(); }
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Calls `fire` after `timeout_ms`, then every `repeat_ms` if that is not 0. Restarts a running one.
  void start(uv_loop_t* loop, uint64_t timeout_ms, uint64_t repeat_ms, std::function<void()> fire);
  // A repeating timer started again from now (uv_timer_again); nothing when never started.
  void again();
  void stop();
  bool active() const;
  // Started at least once and not closed since: the timer exists, running or stopped.
  bool exists() const { return handle_ != nullptr; }
  // Never the reason the loop keeps running (call after start).
  void unref();
  // Stop for good and let go of the handle; start() makes a new one.
  void close();

 private:
  struct Handle {
    uv_timer_t timer;
    std::function<void()> fire;
  };
  Handle* handle_ = nullptr;
};

}  // namespace hvterm
