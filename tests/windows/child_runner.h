#pragma once
// Runs a platform::spawn child on a loop of its own until it has exited and its output has ended,
// collecting what it wrote: the integration tests' view of a session, without the agent around it.
#include <string>

#include "platform/process.h"

namespace hvterm::test {

struct ChildRun {
  bool spawned = false;
  platform::ExitStatus status;  // the exit, or the spawn failure
  std::string output, errors;
  bool timed_out = false;
};

// `input` is written to the child's stdin (pipes: then closed; PTY: typed into the console).
ChildRun run_child(const platform::SpawnRequest& request, const std::string& input = {}, uint64_t timeout_ms = 20000);

// The helper program built beside the tests (tests/windows/test_child.cpp).
std::string test_child_path();

}  // namespace hvterm::test
