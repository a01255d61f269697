// Durations and sizes from the command line (common/units.h).
#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "common/units.h"

using namespace hvterm;

TEST_CASE("durations") {
  CHECK(parse_duration_ms("24h") == 86400000u);
  CHECK(parse_duration_ms("90s") == 90000u);
  CHECK(parse_duration_ms("500ms") == 500u);
  CHECK(parse_duration_ms("5m") == 300000u);
  CHECK(parse_duration_ms("5min") == 300000u);
  CHECK(parse_duration_ms("2d") == 172800000u);
  CHECK(parse_duration_ms("30") == 30000u);  // a bare number is seconds
  CHECK(parse_duration_ms("0") == 0u);
  CHECK(parse_duration_ms("0s") == 0u);
  CHECK(parse_duration_ms("1.5s") == 1500u);
  CHECK(parse_duration_ms(".5s") == 500u);
  CHECK(parse_duration_ms("1.5h") == 5400000u);
  CHECK(parse_duration_ms("10S") == 10000u);  // units are case-insensitive
  CHECK(parse_duration_ms("10MS") == 10u);
  CHECK(parse_duration_ms("1H") == 3600000u);
}

TEST_CASE("durations: bad input") {
  for (const char* bad : {"",     "s",   "ms",   "h",   "-1", "-1s", "+1s",  " 1s",   "1 s", "1s ", "1x",
                          "1sec", "1hr", "1mss", "abc", ".",  "1e",  "1d2h", "1h30m", "nan", "inf", "1e16"}) {
    INFO("'" << bad << "'");
    CHECK_FALSE(parse_duration_ms(bad).has_value());
  }
}

TEST_CASE("sizes") {
  CHECK(parse_size_bytes("0") == 0u);
  CHECK(parse_size_bytes("100") == 100u);
  CHECK(parse_size_bytes("100b") == 100u);
  CHECK(parse_size_bytes("100B") == 100u);
  CHECK(parse_size_bytes("1K") == 1024u);
  CHECK(parse_size_bytes("1k") == 1024u);
  CHECK(parse_size_bytes("1KB") == 1024u);
  CHECK(parse_size_bytes("64KiB") == 65536u);
  CHECK(parse_size_bytes("64kib") == 65536u);
  CHECK(parse_size_bytes("1M") == 1048576u);
  CHECK(parse_size_bytes("1MiB") == 1048576u);
  CHECK(parse_size_bytes("1.5M") == 1572864u);
  CHECK(parse_size_bytes("4G") == 4294967296ull);
  CHECK(parse_size_bytes("4GiB") == 4294967296ull);
  CHECK(parse_size_bytes("1024G") == 1099511627776ull);
}

TEST_CASE("sizes: bad input") {
  for (const char* bad : {"", "K", "KiB", "-1", "-1K", " 1K", "1 K", "1K ", "1T", "1x", "1Kx", "1iK", "1i", "1ib",
                          "ten", ".", "nan", "1e16"}) {
    INFO("'" << bad << "'");
    CHECK_FALSE(parse_size_bytes(bad).has_value());
  }
}

TEST_CASE("format_duration") {
  CHECK(format_duration(0) == "0s");
  CHECK(format_duration(999) == "0s");
  CHECK(format_duration(45000) == "45s");
  CHECK(format_duration(59999) == "59s");
  CHECK(format_duration(60000) == "1m");
  CHECK(format_duration(61000) == "1m1s");
  CHECK(format_duration(3599000) == "59m59s");
  CHECK(format_duration(3600000) == "1h");
  CHECK(format_duration(3600000 + 12 * 60000) == "1h12m");
  CHECK(format_duration(3 * 3600000 + 12 * 60000 + 59000) == "3h12m");  // seconds dropped past an hour
  CHECK(format_duration(86400000) == "1d");
  CHECK(format_duration(86400000 + 5 * 3600000) == "1d5h");
  CHECK(format_duration(10ull * 86400000 + 59 * 60000) == "10d");
}

TEST_CASE("format_duration and parse_duration_ms agree on whole units") {
  for (const char* text : {"45s", "1m", "59m", "1h", "23h", "1d", "3d"}) {
    auto ms = parse_duration_ms(text);
    REQUIRE(ms.has_value());
    CHECK(format_duration(*ms) == text);
  }
}

TEST_CASE("elapsed times for -v records are milliseconds with two decimals") {
  CHECK(format_elapsed(2'414'000) == "2.41 ms");
  CHECK(format_elapsed(0) == "0.00 ms");
  CHECK(format_elapsed(1'500'000'000) == "1500.00 ms");
}
