// Reconnection (client/reconnection.h): backoff, the one notice an outage, and the ways to stop.
#include <doctest/doctest.h>

#include "client/reconnection.h"

using namespace hvterm;
using Verdict = Reconnection::Verdict;

namespace {
Reconnection::Limits reconnection_limits() {
  Reconnection::Limits l;
  l.give_up_ms = 1000;
  l.agent_gone_ms = 100;
  l.collect_ms = 50;
  l.first_delay_ms = 10;
  l.max_delay_ms = 40;
  return l;
}
}  // namespace

TEST_CASE("Reconnection: the delay doubles up to its limit, and a bound session starts it over") {
  Reconnection r(reconnection_limits());
  r.attempting();
  r.lost(1000);
  auto next = r.schedule(1000, false);
  CHECK(next.verdict == Verdict::Retry);
  CHECK(next.delay_ms == 10);
  CHECK(next.attempt == 2);
  r.attempting();
  CHECK(r.failed(1010, false, false).delay_ms == 20);
  r.attempting();
  CHECK(r.failed(1030, false, false).delay_ms == 40);
  r.attempting();
  CHECK(r.failed(1070, false, false).delay_ms == 40);
  CHECK(r.attempts() == 4);
  CHECK(r.in_outage());
  r.bound();
  CHECK_FALSE(r.in_outage());
  CHECK(r.attempts() == 0);
  r.lost(5000);
  CHECK(r.schedule(5000, false).delay_ms == 10);
}

TEST_CASE("Reconnection: the agent is said to be unreachable once an outage, with how long is left") {
  Reconnection r(reconnection_limits());
  r.lost(1000);
  r.schedule(1000, false);
  auto first = r.failed(1200, false, false);
  CHECK(first.say_unreachable);
  CHECK(first.retrying_for_ms == 800);  // of the 1000 ms, 200 are gone
  CHECK_FALSE(r.failed(1300, false, false).say_unreachable);
  r.bound();
  r.lost(3000);
  auto gone_socket = r.failed(3000, true, false);
  CHECK(gone_socket.say_unreachable);
  CHECK(gone_socket.retrying_for_ms == 100);  // a dead local socket is given agent_gone_ms, not more
}

TEST_CASE("Reconnection: gives up after give_up_ms; a socket dead for agent_gone_ms means the agent is gone") {
  Reconnection r(reconnection_limits());
  r.lost(1);
  CHECK(r.failed(1000, false, false).verdict == Verdict::Retry);
  CHECK(r.failed(1002, false, false).verdict == Verdict::GiveUp);

  Reconnection gone(reconnection_limits());
  gone.lost(1);
  CHECK(gone.failed(10, true, false).verdict == Verdict::Retry);   // nothing listens: the clock starts
  CHECK(gone.failed(60, false, false).verdict == Verdict::Retry);  // something answered: it stops
  CHECK(gone.failed(70, true, false).verdict == Verdict::Retry);
  CHECK(gone.failed(169, true, false).verdict == Verdict::Retry);
  CHECK(gone.failed(170, true, false).verdict == Verdict::AgentGone);
}

TEST_CASE("Reconnection: holding the exit status, only collecting is left, within collect_ms and silently") {
  Reconnection r(reconnection_limits());
  r.lost(1);
  auto next = r.failed(10, true, true);
  CHECK(next.verdict == Verdict::Retry);
  CHECK_FALSE(next.say_unreachable);
  CHECK(r.failed(200, true, true).verdict == Verdict::Done);  // never AgentGone: nothing is lost
}

TEST_CASE("Reconnection: cuts before any answer are retried a few times in a row, again after a bound session") {
  Reconnection r(reconnection_limits());
  for (int i = 0; i < 3; ++i) CHECK(r.early_cut());
  CHECK_FALSE(r.early_cut());
  r.bound();
  CHECK(r.early_cut());
}
