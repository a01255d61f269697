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

TEST_CASE("a connection OPEN: a destination it can use, and nothing meant for a program") {
  using hvterm::wire::Destination;
  hvterm::wire::Open open;
  open.mode = hvterm::wire::SessionMode::Connection;
  open.destination = {Destination::Kind::Tcp, "", 22};
  CHECK(hvterm::wire::open_problem(open).empty());
  auto problem_with = [&](auto change) {
    hvterm::wire::Open o = open;
    change(o);
    return hvterm::wire::open_problem(o);
  };
  CHECK(problem_with([](auto& o) { o.destination.port = 0; }).find("port 0") != std::string::npos);
  CHECK(problem_with([](auto& o) { o.destination.host = std::string("a\0b", 3); }).find("NUL") != std::string::npos);
  CHECK(problem_with([](auto& o) { o.destination.host = std::string(256, 'a'); }).find("255") != std::string::npos);
  CHECK(problem_with([](auto& o) { o.argv = {"sh"}; }).find("no command") != std::string::npos);
  CHECK_FALSE(problem_with([](auto& o) { o.env = {"A=1"}; }).empty());
  CHECK_FALSE(problem_with([](auto& o) { o.user = "root"; }).empty());
  CHECK_FALSE(problem_with([](auto& o) { o.cwd = "/"; }).empty());
  CHECK(problem_with([](auto& o) {
          o.destination = {Destination::Kind::Unix, "", 0};
        }).find("empty") != std::string::npos);
  CHECK(problem_with([](auto& o) {
          o.destination = {Destination::Kind::Unix, "/x", 5};
        }).find("no port") != std::string::npos);
  CHECK(problem_with([](auto& o) { o.destination = {Destination::Kind::Unix, "/run/x.sock", 0}; }).empty());
}

TEST_CASE("a listener OPEN: a port to listen on, and nothing meant for a program") {
  using hvterm::wire::Destination;
  hvterm::wire::Open open;
  open.mode = hvterm::wire::SessionMode::Listen;
  open.destination = {Destination::Kind::Tcp, "127.0.0.1", 8080};
  CHECK(hvterm::wire::open_problem(open).empty());
  open.destination.port = 0;
  CHECK(hvterm::wire::open_problem(open).find("no port to listen on") != std::string::npos);
  open.destination.port = 8080;
  open.argv = {"sh"};
  CHECK(hvterm::wire::open_problem(open).find("a listener takes no command") != std::string::npos);
}
