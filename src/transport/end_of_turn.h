#pragma once
// EndOfTurn: run a callback once at the end of the current event-loop turn, so that work queued by
// several callbacks of the same turn (frames, terminal output) is done once, together.
//
// "End of the turn" is a uv_check (right after this turn's I/O callbacks) or a uv_idle (work queued
// by timers, close callbacks or other prepare/check handles runs before the loop polls again, and
// an active idle handle makes that poll return at once), whichever comes first. Nothing waits longer
// than the callbacks that were already due, the loop never sleeps on armed work, and an armed
// EndOfTurn keeps the loop running until it has fired.
#include <uv.h>

#include <functional>

namespace hvterm {

class EndOfTurn {
 public:
  EndOfTurn(uv_loop_t* loop, std::function<void()> fn);
  ~EndOfTurn();  // closes the handles; they free themselves once libuv is done with them
  EndOfTurn(const EndOfTurn&) = delete;
  EndOfTurn& operator=(const EndOfTurn&) = delete;

  void arm();  // no-op when already armed
  void disarm();
  bool armed() const;

 private:
  struct Handles;
  Handles* handles_;
};

}  // namespace hvterm
