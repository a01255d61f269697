// Liveness (client/liveness.h): pings, the not-responding notice and the three ways a connection
// is given up, driven with made-up times.
#include <doctest/doctest.h>

#include "client/liveness.h"

using namespace hvterm;
using Stage = Liveness::Stage;
using Drop = Liveness::Drop;

namespace {
Liveness::Limits liveness_limits() {
  Liveness::Limits l;
  l.keepalive_ms = 5;
  l.notice_ms = 15;
  l.dead_ms = 60;
  l.answer_ms = 10;
  l.collect_ms = 3;
  return l;
}
}  // namespace

TEST_CASE("Liveness: a bound connection is pinged when silent, said to be silent once, then dropped") {
  Liveness live(liveness_limits());
  live.enter(Stage::Answer, 1000);
  live.enter(Stage::Bound, 1002);
  auto a = live.tick(1004);
  CHECK_FALSE(a.ping);
  CHECK(a.drop == Drop::No);
  CHECK(live.tick(1005).ping);  // 5 ms since the connection's start counted as heard
  a = live.tick(1015);
  CHECK(a.ping);
  CHECK(a.say_not_responding);
  a = live.tick(1020);
  CHECK(a.ping);
  CHECK_FALSE(a.say_not_responding);  // once
  CHECK(live.tick(1060).drop == Drop::Silent);
}

TEST_CASE("Liveness: hearing the agent resets the clock, and after the notice says it is back") {
  Liveness live(liveness_limits());
  live.enter(Stage::Answer, 0);
  live.enter(Stage::Bound, 0);
  CHECK_FALSE(live.heard(4));  // nothing was said
  CHECK_FALSE(live.tick(8).ping);
  CHECK(live.tick(20).say_not_responding);
  CHECK(live.heard(21));
  CHECK_FALSE(live.heard(22));
  CHECK(live.silent_ms(30) == 8);
  CHECK_FALSE(live.tick(36).say_not_responding);
  CHECK(live.tick(37).say_not_responding);  // silent again long enough: said again
}

TEST_CASE("Liveness: the handshake and COLLECT must be answered in time; between connections nothing happens") {
  Liveness live(liveness_limits());
  CHECK(live.tick(1000000).drop == Drop::No);  // no connection yet
  live.enter(Stage::Answer, 100);
  CHECK(live.tick(110).drop == Drop::No);
  auto a = live.tick(111);
  CHECK(a.drop == Drop::Unanswered);
  CHECK_FALSE(a.ping);  // no keepalive before the session is bound
  live.enter(Stage::Collect, 200);
  CHECK(live.tick(203).drop == Drop::No);
  CHECK(live.tick(204).drop == Drop::CollectUnanswered);
  live.enter(Stage::None, 300);
  CHECK(live.tick(100000).drop == Drop::No);
}

TEST_CASE("Liveness: a new connection forgets the old one's silence") {
  Liveness live(liveness_limits());
  live.enter(Stage::Answer, 0);
  live.enter(Stage::Bound, 0);
  CHECK(live.tick(20).say_not_responding);
  live.enter(Stage::None, 61);  // dropped
  live.enter(Stage::Answer, 70);
  CHECK_FALSE(live.heard(71));  // not "responding again": this connection never said otherwise
  live.enter(Stage::Bound, 71);
  CHECK_FALSE(live.tick(75).ping);
  CHECK(live.tick(86).say_not_responding);
}
