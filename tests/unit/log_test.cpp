// Log records (common/log): whatever a message quotes, a record stays one line of plain text.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/log.h"

using namespace hvterm;

TEST_CASE("log records: a message with a newline is one record") {
  std::vector<std::string> records;
  log::set_sink([&records](const std::string& record) { records.push_back(record); });
  log::set_program("hvtermd");
  log::info("session 1 started: printf 'x\nhvtermd: error: forged'");
  log::set_sink(nullptr);
  log::set_program("hvterm");
  REQUIRE(records.size() == 1);
  CHECK(records[0] == "hvtermd: info: session 1 started: printf 'x\\nhvtermd: error: forged'");
}

TEST_CASE("log records: with the elapsed clock on, each record says when it happened") {
  std::vector<std::string> records;
  log::set_sink([&records](const std::string& record) { records.push_back(record); });
  log::set_elapsed_clock(true);
  log::warn("connected");
  log::set_elapsed_clock(false);
  log::warn("plain");
  log::set_sink(nullptr);
  REQUIRE(records.size() == 2);
  CHECK(records[0].rfind("hvterm: warn: [0.", 0) == 0);
  CHECK(records[0].find("s] connected") != std::string::npos);
  CHECK(records[1] == "hvterm: warn: plain");
}
