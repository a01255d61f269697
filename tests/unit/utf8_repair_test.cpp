// Utf8Repair (terminal/utf8_repair.h): whole characters pass unchanged and uncopied, a character
// cut short by another byte becomes U+FFFD, one cut short by the end of a read waits for the next.
#include "terminal/utf8_repair.h"

#include <doctest/doctest.h>

#include <string>

using namespace hvterm;

namespace {

std::string repaired(Utf8Repair& repair, std::string_view bytes) {
  std::string scratch;
  return std::string(repair.repair(bytes, scratch));
}

}  // namespace

TEST_CASE("whole characters and ASCII pass as they are, without a copy") {
  Utf8Repair repair;
  std::string scratch;
  std::string_view text = "plain \x1b[1m\xe6\xbc\xa2\xc3\xa9\xf0\x9f\x98\x80 and more";
  CHECK(repair.repair(text, scratch).data() == text.data());
}

TEST_CASE("a character cut short by an escape sequence or a control becomes U+FFFD") {
  Utf8Repair repair;
  CHECK(repaired(repair, "\x1b[4h\xc2\x1b[m\x80"
                         "a") == "\x1b[4h\xef\xbf\xbd\x1b[m\xef\xbf\xbd"
                                 "a");
  CHECK(repaired(repair, "\xe6\xbc\r\n") == "\xef\xbf\xbd\r\n");
  CHECK(repaired(repair, "\xf0\x9f"
                         "a\xe6\xbc\xa2") == "\xef\xbf\xbd"
                                             "a\xe6\xbc\xa2");
}

TEST_CASE("a character split between reads is passed whole with the second") {
  std::string text = "ab\xf0\x9f\x98\x80"
                     "cd\xe6\xbc\xa2";
  for (size_t cut = 0; cut <= text.size(); ++cut) {
    CAPTURE(cut);
    Utf8Repair repair;
    std::string first = repaired(repair, std::string_view(text).substr(0, cut));
    std::string second = repaired(repair, std::string_view(text).substr(cut));
    CHECK(first + second == text);
  }
  Utf8Repair repair;
  CHECK(repaired(repair, "\xf0") == "");
  CHECK(repaired(repair, "\x9f") == "");
  CHECK(repaired(repair, "\x1b"
                         "c") == "\xef\xbf\xbd\x1b"
                                 "c");
}
