// SessionLifecycle (agent/session_lifecycle.h): linger, unclaimed connections, takeover, collect,
// terminate with its kill grace, and when a session is forgotten.
#include <doctest/doctest.h>

#include "agent/session_lifecycle.h"

using namespace hvterm;
using Wait = SessionLifecycle::Wait;
using Step = SessionLifecycle::Step;
using State = wire::SessionState;

namespace {
SessionLifecycle::Limits lifecycle_limits() {
  SessionLifecycle::Limits l;
  l.linger_ms = 1000;
  l.unclaimed_ms = 60;
  l.kill_grace_ms = 5;
  return l;
}

// A session a client opened and is attached to (the agent binds the opener at once).
SessionLifecycle opened() {
  SessionLifecycle life(lifecycle_limits());
  CHECK(life.attached(false).nothing());
  return life;
}
}  // namespace

TEST_CASE("SessionLifecycle: a detached session lingers; attaching again stops the clock") {
  auto life = opened();
  CHECK(life.state() == State::Attached);
  CHECK(life.detached_since_ms() == 0);

  Step step = life.detached(7000);
  CHECK(step.arm == Wait::Linger);
  CHECK(step.arm_ms == 1000);
  CHECK_FALSE(step.remove);
  CHECK(life.state() == State::Detached);
  CHECK(life.detached_since_ms() == 7000);
  CHECK(life.waiting_for() == Wait::Linger);

  step = life.attached(false);
  CHECK(step.disarm);
  CHECK_FALSE(step.take_over);
  CHECK(life.waiting_for() == Wait::None);
  CHECK(life.detached_since_ms() == 0);
  CHECK(life.state() == State::Attached);
}

TEST_CASE("SessionLifecycle: a session viewers still show does not linger until the last of them goes") {
  auto life = opened();
  Step step = life.detached(7000, true);
  CHECK(step.nothing());
  CHECK(life.waiting_for() == Wait::None);
  CHECK(life.state() == State::Detached);
  CHECK(life.detached_since_ms() == 7000);
  step = life.unwatched();
  CHECK(step.arm == Wait::Linger);
  CHECK(step.arm_ms == 1000);
  CHECK(life.unwatched().nothing());  // already lingering: the clock is not restarted
  SUBCASE("a client attaching stops it as usual") {
    CHECK(life.attached(false).disarm);
    CHECK(life.unwatched().nothing());  // a viewer leaving an attached session starts nothing
  }
  SUBCASE("a collected session does not linger for its viewers") {
    auto done = opened();
    CHECK(done.exited().nothing());
    CHECK(done.collected().nothing());
    CHECK(done.detached(8000, true).remove);
  }
}

TEST_CASE("SessionLifecycle: when the linger runs out the program is hung up, then killed if it stays") {
  auto life = opened();
  life.detached(1);
  Step step = life.expired();
  CHECK(step.hang_up);
  CHECK(step.end_output);
  CHECK_FALSE(step.kill);
  CHECK_FALSE(step.drop_client);  // nobody is attached
  CHECK(step.arm == Wait::KillGrace);
  CHECK(step.arm_ms == 5);
  CHECK_FALSE(step.remove);  // the program has not ended yet
  CHECK(life.terminating());

  step = life.expired();  // the grace is over and it still runs
  CHECK(step.kill);
  CHECK_FALSE(step.remove);

  step = life.exited();  // nobody will collect a terminated session's status
  CHECK(step.remove);
  CHECK(step.end_output);
  CHECK(life.removing());
}

TEST_CASE("SessionLifecycle: a program that ends within the kill grace is not killed") {
  auto life = opened();
  life.detached(1);
  life.expired();
  Step step = life.exited();
  CHECK(step.disarm);
  CHECK(step.remove);
  CHECK(life.waiting_for() == Wait::None);
  CHECK(life.expired().nothing());  // a late timer changes nothing
}

TEST_CASE("SessionLifecycle: an exited session is forgotten once collected and detached, not before") {
  auto life = opened();
  Step step = life.exited();
  CHECK_FALSE(step.remove);  // its client has not collected the status yet
  CHECK(life.state() == State::Exited);

  // COLLECT arrives on the attached connection: the agent detaches, then collects.
  step = life.detached(50);
  CHECK(step.arm == Wait::Linger);
  step = life.collected();
  CHECK(step.remove);
  CHECK(step.disarm);
  CHECK(life.removing());

  // Once removal has started, nothing more is decided.
  CHECK(life.collected().nothing());
  CHECK(life.terminate().nothing());
  CHECK(life.attached(false).nothing());
  CHECK(life.detached(60).nothing());
}

TEST_CASE("SessionLifecycle: collected while attached waits for the detach") {
  auto life = opened();
  life.exited();
  CHECK_FALSE(life.collected().remove);
  Step step = life.detached(10);
  CHECK(step.remove);
  CHECK(step.arm == Wait::None);  // nothing to linger for
}

TEST_CASE("SessionLifecycle: a session collected before its program ends goes when it ends") {
  auto life = opened();
  life.detached(5);
  CHECK_FALSE(life.collected().remove);
  CHECK(life.exited().remove);
}

TEST_CASE("SessionLifecycle: an exited, uncollected session lingers out and is then forgotten") {
  auto life = opened();
  life.exited();
  life.detached(5);
  CHECK(life.waiting_for() == Wait::Linger);
  Step step = life.expired();
  CHECK(step.remove);
  CHECK_FALSE(step.hang_up);  // nothing runs to hang up
  CHECK_FALSE(step.kill);
}

TEST_CASE("SessionLifecycle: a second client takes the session over") {
  auto life = opened();
  Step step = life.attached(true);
  CHECK(step.take_over);
  CHECK(life.state() == State::Attached);
  CHECK_FALSE(step.remove);
  // The same connection attaching again is no takeover.
  CHECK_FALSE(life.attached(false).take_over);
}

TEST_CASE("SessionLifecycle: an accepted connection nobody claims is closed") {
  SessionLifecycle life(lifecycle_limits());
  Step step = life.adopted();
  CHECK(step.arm == Wait::Unclaimed);
  CHECK(step.arm_ms == 60);
  CHECK(life.state() == State::Detached);

  step = life.expired();
  CHECK(step.hang_up);
  CHECK(step.end_output);
  CHECK(step.arm == Wait::KillGrace);
  CHECK(life.exited().remove);
}

TEST_CASE("SessionLifecycle: a claimed connection no longer runs the unclaimed clock, and lingers when left") {
  SessionLifecycle life(lifecycle_limits());
  life.adopted();
  Step step = life.attached(false);
  CHECK(step.disarm);
  CHECK(life.waiting_for() == Wait::None);
  step = life.detached(3);
  CHECK(step.arm == Wait::Linger);
  CHECK(step.arm_ms == 1000);
}

TEST_CASE("SessionLifecycle: terminating an attached session tells its client") {
  auto life = opened();
  Step step = life.terminate();
  CHECK(step.drop_client);
  CHECK(step.hang_up);
  CHECK(step.arm == Wait::KillGrace);
  CHECK_FALSE(life.is_attached());
  // The connection's own detach afterwards changes nothing.
  CHECK(life.detached(9).nothing());
  // A client attaching during the grace does not stop the kill.
  CHECK_FALSE(life.attached(false).disarm);
  CHECK(life.waiting_for() == Wait::KillGrace);
  CHECK(life.expired().kill);
}

TEST_CASE("SessionLifecycle: terminating an exited session discards it at once (hvterm kill of a finished one)") {
  auto life = opened();
  life.exited();
  life.detached(4);
  Step step = life.terminate();
  CHECK(step.remove);
  CHECK(step.disarm);
  CHECK_FALSE(step.hang_up);
  CHECK_FALSE(step.kill);
}
