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

TEST_CASE("session names: letters, digits, '.', '_', '-'; a letter or digit first; 1 to 32") {
  for (const char* good : {"build", "a", "0", "web-1.log_2", "1f2e", "A.B", "abcdefghijklmnopqrstuvwxyz012345"})
    CHECK_MESSAGE(wire::session_name_problem(good).empty(), good);
  auto problem = [](const std::string& name) { return wire::session_name_problem(name); };
  CHECK(problem("").find("empty") != std::string::npos);
  CHECK(problem(std::string(33, 'a')).find("33 characters") != std::string::npos);
  CHECK(problem("-x").find("starts with '-'") != std::string::npos);
  CHECK(problem(".hidden").find("starts with '.'") != std::string::npos);
  CHECK(problem("a b").find("has a space") != std::string::npos);
  CHECK(problem("a/b").find("'/'") != std::string::npos);
  CHECK(problem("a:b").find("':'") != std::string::npos);
  CHECK(problem(std::string("a\nb")).find("byte 10") != std::string::npos);
  CHECK(problem("caf\xc3\xa9").find("byte 195") != std::string::npos);
  // Every reason states the rule, so the one line is enough to fix the name.
  CHECK(problem("a b").find("1-32 letters, digits, '.', '_' or '-', starting with a letter or digit") !=
        std::string::npos);
}

TEST_CASE("an OPEN's name: checked by the agent, and only programs have one") {
  wire::Open open;
  open.name = "build";
  CHECK(wire::open_problem(open).empty());
  open.name = "no good";
  CHECK(wire::open_problem(open).rfind("OPEN: a session name is", 0) == 0);
  open.name = "ok";
  open.mode = wire::SessionMode::Connection;
  open.destination.port = 22;
  CHECK(wire::open_problem(open) == "OPEN: only a session that runs a program takes a name");
}
