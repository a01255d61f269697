// SignalWatch (common/signal_watch.h): one owner, closed with it, safe to close from its own callback.
// POSIX only: on Windows uv_kill(SIGTERM) to ourselves ends the test process (TerminateProcess).
#ifndef _WIN32
#include <doctest/doctest.h>

#include <csignal>
#include <memory>

#include "common/signal_watch.h"
#include "test_loop.h"

using namespace hvterm;

TEST_CASE("SignalWatch: each watched signal reaches the callback; closing from it ends the watch") {
  TestLoop l;
  auto watch = std::make_unique<SignalWatch>();
  static constexpr int kWatched[] = {SIGINT, SIGTERM};
  int heard = 0;
  watch->start(&l.loop, kWatched, [&](int signum) {
    heard = signum;
    watch.reset();  // the owner goes from inside the callback; libuv frees the handles later
  });
  uv_kill(uv_os_getpid(), SIGTERM);
  uv_run(&l.loop, UV_RUN_DEFAULT);  // returns only once every handle is closed
  CHECK(heard == SIGTERM);
  CHECK(watch == nullptr);
}

TEST_CASE("SignalWatch: a closed watch keeps nothing in the loop and never fires") {
  TestLoop l;
  SignalWatch watch;
  static constexpr int kWatched[] = {SIGINT};
  int heard = 0;
  watch.start(&l.loop, kWatched, [&](int) { ++heard; });
  watch.close();
  watch.close();  // twice is harmless
  uv_run(&l.loop, UV_RUN_DEFAULT);
  CHECK(heard == 0);
  CHECK(uv_loop_alive(&l.loop) == 0);
}
#endif
