// Log records (common/log): whatever a message quotes, a record stays one line of plain text.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/log.h"

using namespace hvterm;

TEST_CASE("printable: controls that could end a record or drive a terminal are escaped") {
  CHECK(log::printable("sh -c 'true\nhvtermd: error: fake'") == "sh -c 'true\\nhvtermd: error: fake'");
  CHECK(log::printable("a\rb\tc") == "a\\rb\\tc");
  CHECK(log::printable("\x1b]0;title\x07\x1b[2J") == "\\x1b]0;title\\x07\\x1b[2J");
  CHECK(log::printable(std::string("nul\0here", 8)) == "nul\\x00here");
  CHECK(log::printable("del\x7f") == "del\\x7f");
  CHECK(log::printable("csi\xc2\x9b" "2J") == "csi\\xc2\\x9b2J");  // U+009B, the C1 CSI, in UTF-8
}

TEST_CASE("printable: text, UTF-8 and backslashes stay as they are; bytes that are not UTF-8 are escaped") {
  CHECK(log::printable("ls -l /tmp") == "ls -l /tmp");
  CHECK(log::printable("C:\\Program Files\\hvterm") == "C:\\Program Files\\hvterm");
  CHECK(log::printable("gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80") == "gr\xc3\xbc\xc3\x9f \xe2\x82\xac \xf0\x9f\x98\x80");
  CHECK(log::printable("\xc2\xa0nbsp") == "\xc2\xa0nbsp");
  CHECK(log::printable("lone \x9b byte") == "lone \\x9b byte");
  CHECK(log::printable("cut \xe2\x82") == "cut \\xe2\\x82");
  CHECK(log::printable("overlong \xc0\xaf") == "overlong \\xc0\\xaf");
  CHECK(log::printable("surrogate \xed\xa0\x80") == "surrogate \\xed\\xa0\\x80");
}

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
