// printable() and shorten() (common/printable.h): a peer's text made safe for a terminal or a log.
#include <doctest/doctest.h>

#include "common/printable.h"

using namespace hvterm;

TEST_CASE("printable escapes what a terminal would act on and keeps the rest") {
  CHECK(printable("make -j8") == "make -j8");
  CHECK(printable("a\nb\rc\td") == "a\\nb\\rc\\td");
  CHECK(printable("\x1b]0;owned\x07\x1b[2J") == "\\e]0;owned\\x07\\e[2J");
  CHECK(printable(std::string("nul\0byte", 8)) == "nul\\x00byte");
  CHECK(printable("del\x7f") == "del\\x7f");
  CHECK(printable("back\\slash") == "back\\slash");
  CHECK(printable("gr\xC3\xBC\xC3\x9F \xE2\x82\xAC \xF0\x9F\x98\x80") ==
        "gr\xC3\xBC\xC3\x9F \xE2\x82\xAC \xF0\x9F\x98\x80");
}

TEST_CASE("printable escapes C1 controls, line separators and bidirectional overrides") {
  CHECK(printable("\xC2\x9B"
                  "2J") == "\\u009b2J");  // U+009B, 8-bit CSI
  CHECK(printable("a\xE2\x80\xA8"
                  "b") == "a\\u2028b");               // LINE SEPARATOR
  CHECK(printable("x\xE2\x80\xAEy") == "x\\u202ey");  // RIGHT-TO-LEFT OVERRIDE
  CHECK(printable("x\xE2\x81\xA6y") == "x\\u2066y");  // LEFT-TO-RIGHT ISOLATE
}

TEST_CASE("printable shows bytes that are not UTF-8 as \\xHH") {
  CHECK(printable("\xff\xfe") == "\\xff\\xfe");
  CHECK(printable("trunc\xC3") == "trunc\\xc3");                   // a sequence cut short
  CHECK(printable("\xC0\xAF") == "\\xc0\\xaf");                    // overlong '/'
  CHECK(printable("\xED\xA0\x80") == "\\xed\\xa0\\x80");           // a UTF-16 surrogate
  CHECK(printable("\xF4\x90\x80\x80") == "\\xf4\\x90\\x80\\x80");  // past U+10FFFF
  CHECK(printable("\xE2\x82"
                  "A") == "\\xe2\\x82A");
}

TEST_CASE("shorten cuts at a character boundary and marks the cut") {
  CHECK(shorten("abcdef", 6) == "abcdef");
  CHECK(shorten("abcdefg", 6) == "abcde\xE2\x80\xA6");
  CHECK(shorten("\xC3\xBC\xC3\xBC\xC3\xBC\xC3\xBC", 3) == "\xC3\xBC\xC3\xBC\xE2\x80\xA6");
  CHECK(shorten("ab", 1) == "\xE2\x80\xA6");
  CHECK(shorten("a", 1) == "a");
  CHECK(shorten("abc", 0) == "\xE2\x80\xA6");
  CHECK(shorten("", 5).empty());
}

TEST_CASE("printable keeps Windows paths and non-breaking spaces, and escapes a lone C1 byte") {
  CHECK(printable("C:\\Program Files\\hvterm") == "C:\\Program Files\\hvterm");
  CHECK(printable("\xc2\xa0nbsp") == "\xc2\xa0nbsp");
  CHECK(printable("lone \x9b byte") == "lone \\x9b byte");
}

TEST_CASE("join_words: single spaces between the words, nothing quoted") {
  CHECK(join_words({}) == "");
  CHECK(join_words({"sh"}) == "sh");
  CHECK(join_words({"sh", "-c", "echo a b"}) == "sh -c echo a b");
}
