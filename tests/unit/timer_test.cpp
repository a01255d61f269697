// Timer (common/timer.h): one owner, closed with it, safe to close or restart from its own callback.
#include <doctest/doctest.h>

#include <memory>

#include "common/timer.h"
#include "test_loop.h"

using namespace hvterm;

TEST_CASE("Timer: fires once, or repeatedly until stopped; a restart replaces the callback") {
  TestLoop l;
  Timer timer;
  CHECK_FALSE(timer.exists());
  int first = 0, second = 0;
  timer.start(&l.loop, 1, 0, [&] { ++first; });
  CHECK(timer.active());
  uv_run(&l.loop, UV_RUN_DEFAULT);
  CHECK(first == 1);
  CHECK_FALSE(timer.active());
  CHECK(timer.exists());
  timer.start(&l.loop, 1, 1, [&] {
    if (++second == 3) timer.stop();
  });
  uv_run(&l.loop, UV_RUN_DEFAULT);
  CHECK(second == 3);
  CHECK(first == 1);
  timer.again();  // a stopped repeating timer starts again
  CHECK(timer.active());
  timer.close();
  CHECK_FALSE(timer.exists());
  timer.again();  // closed: nothing happens
  timer.stop();
}

TEST_CASE("Timer: closed or restarted from its own callback, and destroyed before libuv lets go") {
  TestLoop l;
  int fired = 0;
  auto timer = std::make_unique<Timer>();
  timer->start(&l.loop, 1, 1, [&] {
    ++fired;
    timer->close();  // the running callback is a copy: closing under it is safe
  });
  uv_run(&l.loop, UV_RUN_DEFAULT);
  CHECK(fired == 1);
  int restarted = 0;
  timer->start(&l.loop, 1, 0, [&] {
    if (++restarted < 3) timer->start(&l.loop, 1, 0, [&] { restarted += 10; });
  });
  uv_run(&l.loop, UV_RUN_DEFAULT);
  CHECK(restarted == 11);
  // The owner goes while the timer runs: it never fires, and the loop has nothing left open
  // (TestLoop checks) once libuv's close callback has run.
  bool late = false;
  timer->start(&l.loop, 1, 0, [&] { late = true; });
  timer->unref();
  timer.reset();
  uv_run(&l.loop, UV_RUN_DEFAULT);
  CHECK_FALSE(late);
}
