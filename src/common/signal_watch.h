#pragma once
// SignalWatch: libuv signal handlers with one owner, as Timer is for a timer. The handles are closed
// when the owner goes or calls close(); libuv frees them in their close callbacks, which may run
// after the owner is gone, and a closed watch never fires.
#include <uv.h>

#include <functional>
#include <span>
#include <vector>

namespace hvterm {

class SignalWatch {
 public:
  SignalWatch() = default;
  ~SignalWatch() { close(); }
  SignalWatch(const SignalWatch&) = delete;
  SignalWatch& operator=(const SignalWatch&) = delete;

  // Calls `fire(signum)` whenever one of `signals` arrives. A signal this system does not deliver
  // (SIGTERM on Windows) is simply not watched.
  void start(uv_loop_t* loop, std::span<const int> signals, std::function<void(int)> fire);
  void close();

 private:
  struct Handle {
    uv_signal_t signal;
    std::function<void(int)> fire;
  };
  std::vector<Handle*> handles_;
};

}  // namespace hvterm
