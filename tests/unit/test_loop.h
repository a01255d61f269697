#pragma once
// A private libuv loop for one test case; on destruction it lets closing handles finish and
// checks that nothing was left open.
#include <doctest/doctest.h>
#include <uv.h>

struct TestLoop {
  uv_loop_t loop{};
  TestLoop() { uv_loop_init(&loop); }
  ~TestLoop() {
    uv_run(&loop, UV_RUN_DEFAULT);
    CHECK(uv_loop_close(&loop) == 0);
  }
  TestLoop(const TestLoop&) = delete;
  TestLoop& operator=(const TestLoop&) = delete;
};
