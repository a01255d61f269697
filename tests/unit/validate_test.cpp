// Checks of decoded messages (protocol/validate.h) that the client applies to the agent's answers.
#include <doctest/doctest.h>

#include "protocol/validate.h"

using namespace hvterm;

TEST_CASE("an agent's HELLO answer must name a version this build speaks") {
  CHECK(wire::answered_version_problem(wire::kVersion).empty());
  CHECK(wire::answered_version_problem(wire::kMinVersion).empty());
  std::string newer = wire::answered_version_problem(static_cast<uint16_t>(wire::kVersion + 1));
  CHECK(newer.find("protocol version " + std::to_string(wire::kVersion + 1)) != std::string::npos);
  CHECK(newer.find("this hvterm speaks") != std::string::npos);
  CHECK_FALSE(wire::answered_version_problem(0).empty());
  CHECK_FALSE(wire::answered_version_problem(65535).empty());
}
