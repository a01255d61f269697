#pragma once
// SessionLifecycle: when a session in the agent ends and when it may be forgotten. A detached
// session lingers, then is hung up; a connection a listener accepted that no client claims is
// closed sooner; a terminated session's program gets SIGHUP, then SIGKILL if it stays; a session
// is forgotten only once its program has ended, its exit status is collected (or nobody will
// collect it) and no client is attached. Loop-free, like the client's Liveness and Reconnection:
// Session reports each event and does what the answer says; the unit tests drive every path.
#include <cstdint>

#include "protocol/wire.h"

namespace hvterm {

class SessionLifecycle {
 public:
  struct Limits {
    uint64_t linger_ms = 24ull * 3600 * 1000;  // hvtermd --linger: detached, before the hang-up
    uint64_t unclaimed_ms = 60000;             // an accepted connection's client should be there by then
    uint64_t kill_grace_ms = 5000;             // after SIGHUP, before SIGKILL
  };
  // What the session's one timer is waiting for (at most one wait is ever due).
  enum class Wait : uint8_t { None, Linger, Unclaimed, KillGrace };
  struct Step {
    Wait arm = Wait::None;  // start the timer for this wait, `arm_ms` from now
    uint64_t arm_ms = 0;
    bool disarm = false;       // stop the timer
    bool take_over = false;    // another client was attached: it is told and let go
    bool drop_client = false;  // the attached client is told the session is gone, and let go
    bool hang_up = false;      // SIGHUP the program
    bool kill = false;         // SIGKILL it
    bool end_output = false;   // nothing more of the program's output is read
    bool remove = false;       // close what the session holds, then forget it
    bool nothing() const { return *this == Step{}; }
    bool operator==(const Step&) const = default;
  };

  explicit SessionLifecycle(Limits limits) : limits_(limits) {}

  // A connection a listener accepted became the session: nobody is attached yet.
  Step adopted();
  // A client attached; `another` was attached until now (it is taken over).
  Step attached(bool another);
  // `watched`: viewers still show the session (hvterm attach as a viewer): it does not linger
  // until the last of them has gone too (unwatched()).
  Step detached(uint64_t now_ms, bool watched = false);
  Step unwatched();
  Step exited();     // the program (or connection) has ended
  Step collected();  // the client holds the exit status
  Step terminate();  // hang up and discard: linger or unclaimed time is up, hvterm kill, shutdown
  Step expired();    // the timer of the last `arm` ran out

  Wait waiting_for() const { return waiting_; }
  bool is_attached() const { return attached_; }
  bool has_exited() const { return exited_; }
  bool terminating() const { return terminating_; }
  bool removing() const { return removing_; }
  uint64_t detached_since_ms() const { return detached_at_ms_; }  // 0 while attached or never detached
  wire::SessionState state() const;
  const Limits& limits() const { return limits_; }

 private:
  Step arm(Step step, Wait wait, uint64_t ms);
  Step removal_if_due(Step step);

  Limits limits_;
  Wait waiting_ = Wait::None;
  bool attached_ = false;
  bool exited_ = false;
  bool collected_ = false;
  bool terminating_ = false;
  bool removing_ = false;
  uint64_t detached_at_ms_ = 0;
};

}  // namespace hvterm
