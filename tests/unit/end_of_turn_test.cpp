// EndOfTurn (transport/end_of_turn.h): work queued during a loop turn runs once, at its end.
#include <doctest/doctest.h>
#include <uv.h>

#include <memory>

#include "test_loop.h"
#include "transport/end_of_turn.h"

using namespace hvterm;

TEST_CASE("end of turn: fires once per arming, in the same turn") {
  TestLoop l;
  int fired = 0;
  EndOfTurn end(&l.loop, [&] { ++fired; });
  CHECK_FALSE(end.armed());
  end.arm();
  end.arm();  // arming twice in one turn still runs once
  CHECK(end.armed());
  CHECK(fired == 0);  // nothing runs before the loop does
  uv_run(&l.loop, UV_RUN_NOWAIT);
  CHECK(fired == 1);
  CHECK_FALSE(end.armed());
  uv_run(&l.loop, UV_RUN_NOWAIT);
  CHECK(fired == 1);
}

namespace {
// Arms `end` from a handle of the given kind and runs one turn of a loop that also has a timer
// 10 s away. The work must run without the loop sleeping on that timer.
template <typename Handle, typename Init, typename Start>
void check_armed_from(Init init, Start start) {
  TestLoop l;
  uv_timer_t far_timer;
  uv_timer_init(&l.loop, &far_timer);
  uv_timer_start(
      &far_timer, [](uv_timer_t*) {}, 10000, 0);
  int fired = 0;
  EndOfTurn end(&l.loop, [&] {
    ++fired;
    uv_timer_stop(&far_timer);  // nothing else keeps the loop busy: uv_run returns once this ran
  });
  Handle arming;
  init(&l.loop, &arming);
  arming.data = &end;
  start(&arming);
  uint64_t begin = uv_hrtime();
  uv_run(&l.loop, UV_RUN_ONCE);  // sleeps 10 s if the armed work waits for I/O to wake the loop
  if (fired == 0) uv_run(&l.loop, UV_RUN_ONCE);
  CHECK(fired == 1);
  CHECK((uv_hrtime() - begin) / 1000000 < 5000);
  uv_close(reinterpret_cast<uv_handle_t*>(&arming), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&far_timer), nullptr);
}
}  // namespace

TEST_CASE("end of turn: work queued by a timer runs before the loop waits") {
  check_armed_from<uv_timer_t>(uv_timer_init, [](uv_timer_t* t) {
    uv_timer_start(
        t, [](uv_timer_t* h) { static_cast<EndOfTurn*>(h->data)->arm(); }, 0, 0);
  });
}

TEST_CASE("end of turn: work queued by a prepare callback does not wait for the next wake-up") {
  check_armed_from<uv_prepare_t>(uv_prepare_init, [](uv_prepare_t* p) {
    uv_prepare_start(p, [](uv_prepare_t* h) {
      static_cast<EndOfTurn*>(h->data)->arm();
      uv_prepare_stop(h);
    });
  });
}

TEST_CASE("end of turn: an armed one keeps the loop alive until it fired") {
  TestLoop l;
  int fired = 0;
  EndOfTurn end(&l.loop, [&] { ++fired; });
  end.arm();
  uv_run(&l.loop, UV_RUN_DEFAULT);  // would return at once, without firing, if nothing held the loop
  CHECK(fired == 1);
}

TEST_CASE("end of turn: disarmed or destroyed, it does not fire") {
  TestLoop l;
  int fired = 0;
  {
    EndOfTurn end(&l.loop, [&] { ++fired; });
    end.arm();
    end.disarm();
    uv_run(&l.loop, UV_RUN_NOWAIT);
    CHECK(fired == 0);
    end.arm();
  }  // destroyed while armed: its handles close on their own
  uv_run(&l.loop, UV_RUN_NOWAIT);
  CHECK(fired == 0);
}

TEST_CASE("end of turn: the callback may re-arm, or destroy its owner") {
  TestLoop l;
  int fired = 0;
  std::unique_ptr<EndOfTurn> end;
  end = std::make_unique<EndOfTurn>(&l.loop, [&] {
    if (++fired == 1)
      end->arm();  // runs again in the next turn
    else
      end.reset();
  });
  end->arm();
  uv_run(&l.loop, UV_RUN_DEFAULT);
  CHECK(fired == 2);
  CHECK(end == nullptr);
}
