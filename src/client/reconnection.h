#pragma once
// Reconnection: after a connection is lost, when to try again and when to stop. Loop-free, like
// Liveness: SessionClient reports each failed attempt with the time and what it found, and does
// what the answer says; the unit tests drive every path with made-up times.
#include <cstdint>

namespace hvterm {

class Reconnection {
 public:
  struct Limits {
    uint64_t give_up_ms = 600000;    // --reconnect-timeout: since the connection was lost
    uint64_t agent_gone_ms = 10000;  // nothing has listened on the agent's Unix socket this long
    uint64_t collect_ms = 5000;      // reconnecting only to collect an exit status we hold
    uint64_t first_delay_ms = 100;
    uint64_t max_delay_ms = 5000;  // the delay doubles from the first up to this
    int early_cuts = 3;            // connections cut before any session was bound, retried in a row
  };
  enum class Verdict {
    Retry,      // connect again after `delay_ms`
    GiveUp,     // give_up_ms have passed: the session may still run in the agent
    AgentGone,  // the agent's socket stayed dead: the agent, and the session with it, are gone
    Done,       // the exit status is ours; the agent will let the session linger out
  };
  struct Next {
    Verdict verdict = Verdict::Retry;
    uint64_t delay_ms = 0;
    int attempt = 0;               // Retry: the number of the attempt that follows
    bool say_unreachable = false;  // once an outage: the agent cannot be reached...
    uint64_t retrying_for_ms = 0;  // ...and for how long hvterm will keep trying
  };

  explicit Reconnection(Limits limits) : limits_(limits), delay_ms_(limits.first_delay_ms) {}
  void attempting() { ++attempts_; }              // a connect starts
  void lost(uint64_t now) { lost_at_ms_ = now; }  // a bound connection (or a request in doubt) broke
  // An attempt failed before a session was bound; `nothing_listens`: the agent's own Unix socket
  // has no listener. `have_exit`: we hold the exit status (reconnecting only to collect).
  Next failed(uint64_t now, bool nothing_listens, bool have_exit);
  // The next step after a loss (also the tail of failed()).
  Next schedule(uint64_t now, bool have_exit);
  void bound();  // a session is bound again: the outage is over
  // A connection was cut before the agent answered anything that could have started a session
  // (its HELLO, or an ATTACH). True while that may be retried: a few times in a row, not forever,
  // since a peer that is no agent at all closes every connection the same way.
  bool early_cut() { return ++early_cuts_ <= limits_.early_cuts; }
  int attempts() const { return attempts_; }
  const Limits& limits() const { return limits_; }
  bool in_outage() const { return lost_at_ms_ != 0; }

 private:
  Limits limits_;
  uint64_t lost_at_ms_ = 0;
  uint64_t nothing_listens_since_ms_ = 0;
  uint64_t delay_ms_;
  int attempts_ = 0;
  int early_cuts_ = 0;
  bool said_unreachable_ = false;
};

}  // namespace hvterm
