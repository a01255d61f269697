// asciicast v2 lines (client/asciicast.h): what `hvterm --record` writes, one JSON value per line.
#include <doctest/doctest.h>

#include "client/asciicast.h"
#include "common/utf8.h"

using namespace hvterm;
using namespace hvterm::asciicast;

namespace {
std::string json(std::string_view bytes) {
  std::string out;
  append_json_string(out, bytes);
  return out;
}
}  // namespace

TEST_CASE("the header carries the size, the start time and the terminal's environment") {
  Header header;
  header.width = 132;
  header.height = 43;
  header.timestamp = 1790000000;
  header.term = "xterm-256color";
  header.shell = "/bin/bash";
  CHECK(header_line(header) == "{\"version\": 2, \"width\": 132, \"height\": 43, \"timestamp\": 1790000000, "
                               "\"env\": {\"TERM\": \"xterm-256color\", \"SHELL\": \"/bin/bash\"}}\n");
  header.term.reset();
  header.shell = "/bin/\"odd\"\xff";
  CHECK(header_line(header) == "{\"version\": 2, \"width\": 132, \"height\": 43, \"timestamp\": 1790000000, "
                               "\"env\": {\"SHELL\": \"/bin/\\\"odd\\\"\\udcff\"}}\n");
  header.shell.reset();
  CHECK(header_line(header).ends_with("\"env\": {}}\n"));
}

TEST_CASE("output and resize events are arrays with the time in seconds") {
  OutputEncoder encoder;
  CHECK(encoder.event(0.25, "hi\r\n") == "[0.250000, \"o\", \"hi\\r\\n\"]\n");
  CHECK(encoder.event(1234.0000004, "x") == "[1234.000000, \"o\", \"x\"]\n");
  CHECK(resize_line(3.5, 120, 40) == "[3.500000, \"r\", \"120x40\"]\n");
  CHECK(encoder.event(1, "") == "");
}

TEST_CASE("JSON escapes quotes, backslashes and every control character") {
  CHECK(json("a\"b\\c/d") == "a\\\"b\\\\c/d");
  CHECK(json("\x1b[1;31mred\x1b[0m") == "\\u001b[1;31mred\\u001b[0m");
  CHECK(json(std::string("\0\x01\x07\b\f\t\n\r\x1f\x7f", 10)) == "\\u0000\\u0001\\u0007\\b\\f\\t\\n\\r\\u001f\\u007f");
  CHECK(json(" ~") == " ~");
}

TEST_CASE("valid UTF-8 is kept as it is") {
  CHECK(json("gr\xC3\xBC\xC3\x9F \xE2\x82\xAC \xF0\x9F\x98\x80 \xEF\xBF\xBF \xF4\x8F\xBF\xBF") ==
        "gr\xC3\xBC\xC3\x9F \xE2\x82\xAC \xF0\x9F\x98\x80 \xEF\xBF\xBF \xF4\x8F\xBF\xBF");
  CHECK(json("\xC2\x9B"
             "2J") == "\xC2\x9B"
                      "2J");  // a C1 control is a character JSON allows
}

TEST_CASE("bytes that are not UTF-8 become lone surrogates U+DC80-U+DCFF, byte for byte") {
  CHECK(json("\xff\xfe") == "\\udcff\\udcfe");
  CHECK(json("a\x80z") == "a\\udc80z");                                          // a stray continuation byte
  CHECK(json("\xC3(") == "\\udcc3(");                                            // a lead byte without its tail
  CHECK(json("\xC0\xAF") == "\\udcc0\\udcaf");                                   // overlong '/'
  CHECK(json("\xE0\x80\xAF") == "\\udce0\\udc80\\udcaf");                        // overlong, 3 bytes
  CHECK(json("\xF0\x80\x80\xAF") == "\\udcf0\\udc80\\udc80\\udcaf");             // overlong, 4 bytes
  CHECK(json("\xED\xA0\x80") == "\\udced\\udca0\\udc80");                        // a UTF-16 surrogate, encoded
  CHECK(json("\xED\xB2\x80") == "\\udced\\udcb2\\udc80");                        // even the one we write as an escape
  CHECK(json("\xF4\x90\x80\x80") == "\\udcf4\\udc90\\udc80\\udc80");             // past U+10FFFF
  CHECK(json("\xF8\x88\x80\x80\x80") == "\\udcf8\\udc88\\udc80\\udc80\\udc80");  // 5-byte forms are gone
  CHECK(json("\xE2\x82"
             "A\xE2\x82\xAC") == "\\udce2\\udc82A\xE2\x82\xAC");
}

TEST_CASE("a character split across reads is held back and written whole") {
  OutputEncoder encoder;
  CHECK(encoder.event(1, "price: \xE2") == "[1.000000, \"o\", \"price: \"]\n");
  CHECK(encoder.held_back() == 1);
  CHECK(encoder.event(2, "\x82") == "");  // still not whole: no event at all
  CHECK(encoder.held_back() == 2);
  CHECK(encoder.event(3, "\xAC!") == "[3.000000, \"o\", \"\xE2\x82\xAC!\"]\n");
  CHECK(encoder.held_back() == 0);
  CHECK(encoder.event(4, "\xF0\x9F\x98") == "");
  CHECK(encoder.event(5, "\x80") == "[5.000000, \"o\", \"\xF0\x9F\x98\x80\"]\n");
}

TEST_CASE("only a start that can still become valid is held back") {
  OutputEncoder encoder;
  // Never valid, whatever follows: written at once, escaped.
  CHECK(encoder.event(1, "a\xE0\x80") == "[1.000000, \"o\", \"a\\udce0\\udc80\"]\n");  // overlong
  CHECK(encoder.event(1, "a\xED\xA0") == "[1.000000, \"o\", \"a\\udced\\udca0\"]\n");  // a surrogate
  CHECK(encoder.event(1, "a\xF4\x90") == "[1.000000, \"o\", \"a\\udcf4\\udc90\"]\n");  // past U+10FFFF
  CHECK(encoder.event(1, "a\xC1") == "[1.000000, \"o\", \"a\\udcc1\"]\n");
  CHECK(encoder.event(1, "a\xF5") == "[1.000000, \"o\", \"a\\udcf5\"]\n");
  CHECK(encoder.event(1, "a\x80") == "[1.000000, \"o\", \"a\\udc80\"]\n");
  CHECK(encoder.held_back() == 0);
  // A held-back start the next read does not complete is escaped with that read.
  CHECK(encoder.event(2, "b\xE2\x82") == "[2.000000, \"o\", \"b\"]\n");
  CHECK(encoder.event(3, "c") == "[3.000000, \"o\", \"\\udce2\\udc82c\"]\n");
  // A new start right after one that cannot be completed.
  CHECK(encoder.event(4, "\xF0\x9F\xC3") == "[4.000000, \"o\", \"\\udcf0\\udc9f\"]\n");
  CHECK(encoder.event(5, "\xBC") == "[5.000000, \"o\", \"\xC3\xBC\"]\n");
}

TEST_CASE("finish writes what was held back and never completed") {
  OutputEncoder encoder;
  CHECK(encoder.finish(1) == "");
  CHECK(encoder.event(1, "\xF0\x9F") == "");
  CHECK(encoder.finish(2) == "[2.000000, \"o\", \"\\udcf0\\udc9f\"]\n");
  CHECK(encoder.held_back() == 0);
  CHECK(encoder.finish(3) == "");
}

TEST_CASE("utf8_cut_short tells an unfinished character from bytes no continuation can save") {
  CHECK(utf8_cut_short("\xC3", 0));
  CHECK(utf8_cut_short("\xE0", 0));  // needs A0-BF next: possible
  CHECK(utf8_cut_short("\xE0\xA0", 0));
  CHECK(!utf8_cut_short("\xE0\x9F", 0));  // overlong whatever follows
  CHECK(utf8_cut_short("\xED\x9F", 0));
  CHECK(!utf8_cut_short("\xED\xA0", 0));  // a surrogate whatever follows
  CHECK(utf8_cut_short("\xF4\x8F\xBF", 0));
  CHECK(!utf8_cut_short("\xF4\x90", 0));
  CHECK(!utf8_cut_short("\xF0\x8F", 0));
  CHECK(!utf8_cut_short("\xC3\xBC", 0));  // complete
  CHECK(!utf8_cut_short("\xC3"
                        "a",
                        0));  // broken, not cut short
  CHECK(!utf8_cut_short("a", 0));
  CHECK(!utf8_cut_short("\xC0", 0));
  CHECK(!utf8_cut_short("\xBF", 0));
}
