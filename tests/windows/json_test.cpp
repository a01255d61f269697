// The small JSON reader used for HCS answers (platform/windows/json).
#include <doctest/doctest.h>

#include "platform/windows/json.h"

using hvterm::platform::detail::JsonValue;
using hvterm::platform::detail::parse_json;

TEST_CASE("objects, arrays, strings, numbers and literals") {
  JsonValue v;
  std::string error;
  REQUIRE(parse_json(R"( [ {"a": 1.5, "b": [true, false, null], "c": "x\"y\\z\n"}, -2e3 ] )", v, error));
  REQUIRE(v.kind == JsonValue::Kind::Array);
  REQUIRE(v.items.size() == 2);
  const JsonValue& o = v.items[0];
  CHECK(o.find("a")->number == 1.5);
  CHECK(o.find("b")->items.size() == 3);
  CHECK(o.find("b")->items[0].boolean);
  CHECK(o.find("b")->items[2].kind == JsonValue::Kind::Null);
  CHECK(o.string_or("c", "") == "x\"y\\z\n");
  CHECK(o.string_or("missing", "fallback") == "fallback");
  CHECK(o.string_or("a", "not a string") == "not a string");
  CHECK(v.items[1].number == -2000);
}

TEST_CASE("\\u escapes become UTF-8, surrogate pairs included") {
  JsonValue v;
  std::string error;
  REQUIRE(parse_json(R"("\u00e9\u20ac\ud83d\ude00")", v, error));
  CHECK(v.text == "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80");
}

TEST_CASE("malformed documents are refused with a position, never crash") {
  JsonValue v;
  std::string error;
  for (const char* bad : {"", "[", "[1,", "{\"a\"}", "{\"a\":1,}", "\"open", "tru", "[1] x", "{1:2}", "\"\\q\"",
                          "\"\\u12\"", "-", "\"a\x01\""}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_json(bad, v, error));
    CHECK(error.find("at offset") != std::string::npos);
  }
}

TEST_CASE("nesting is bounded") {
  JsonValue v;
  std::string error;
  CHECK(parse_json(std::string(60, '[') + std::string(60, ']'), v, error));
  CHECK_FALSE(parse_json(std::string(100000, '['), v, error));
  CHECK(error.find("nested too deeply") == 0);
}
