// default_max_connections (agent/agent.h): what --max-connections is when not given.
#include <doctest/doctest.h>

#include "agent/agent.h"

using namespace hvterm;

TEST_CASE("the default connection limit is half of the descriptors the agent's own leave, at most 1024") {
  CHECK(default_max_connections(64) == 16);
  CHECK(default_max_connections(1024) == 496);
  CHECK(default_max_connections(20000) == 1024);
  CHECK(default_max_connections(0) == 1024);  // no limit (Windows)
}

TEST_CASE("a descriptor limit too small for the agent itself still serves one connection") {
  CHECK(default_max_connections(34) == 1);
  CHECK(default_max_connections(10) == 1);
  CHECK(default_max_connections(36) == 2);
}
