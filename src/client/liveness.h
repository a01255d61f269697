#pragma once
// Liveness: when the client pings the agent, says that it is not responding, or gives a connection
// up. Loop-free: SessionClient says what happened and when, and asks on each tick what to do; the
// unit tests drive it through every case with made-up times.
#include <cstdint>

namespace hvterm {

class Liveness {
 public:
  struct Limits {
    uint64_t keepalive_ms = 5000;  // ping after this much silence
    uint64_t notice_ms = 15000;    // then say the agent is not responding (a paused VM, say)
    uint64_t dead_ms = 60000;      // then give the connection up and reconnect
    uint64_t answer_ms = 10000;    // HELLO and the request must be answered by then (--connect-timeout)
    uint64_t collect_ms = 3000;    // and COLLECT by then, or it is sent again on a new connection
  };
  // What the current connection waits for: nothing (there is none), the agent's answers to HELLO
  // and the request, frames of a bound session, or the OK to COLLECT.
  enum class Stage { None, Answer, Bound, Collect };
  enum class Drop { No, Silent, Unanswered, CollectUnanswered };
  struct Actions {
    bool ping = false;
    bool say_not_responding = false;
    Drop drop = Drop::No;
  };

  explicit Liveness(Limits limits) : limits_(limits) {}
  // A new connection starts at Answer and with a clean slate: silence it had is forgotten.
  void enter(Stage stage, uint64_t now);
  // A frame arrived. True when the agent had been said to be not responding: say it is back.
  bool heard(uint64_t now);
  Actions tick(uint64_t now);
  uint64_t silent_ms(uint64_t now) const { return now - last_heard_ms_; }

 private:
  Limits limits_;
  Stage stage_ = Stage::None;
  uint64_t stage_started_ms_ = 0, last_heard_ms_ = 0;
  bool said_silent_ = false;
};

}  // namespace hvterm
