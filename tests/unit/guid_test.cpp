// GUID text and the Hyper-V service GUID <-> vsock port mapping (common/guid.h).
#include <doctest/doctest.h>

#include <string>

#include "common/guid.h"

using namespace hvterm;

TEST_CASE("service_guid_for_port uses the VSOCK template with Data1 = port") {
  CHECK(format_guid(service_guid_for_port(2761)) == "00000ac9-facb-11e6-bd58-64006a7986d3");
  CHECK(format_guid(service_guid_for_port(18518)) == "00004856-facb-11e6-bd58-64006a7986d3");
  CHECK(format_guid(service_guid_for_port(0)) == "00000000-facb-11e6-bd58-64006a7986d3");
  CHECK(format_guid(service_guid_for_port(0xFFFFFFFFu)) == "ffffffff-facb-11e6-bd58-64006a7986d3");
  CHECK(format_guid(service_guid_for_port(0x12345678u)) == "12345678-facb-11e6-bd58-64006a7986d3");
  Guid g = service_guid_for_port(0x12345678u);
  CHECK(g[0] == 0x12);
  CHECK(g[3] == 0x78);
  CHECK(g[4] == 0xfa);
  CHECK(g[15] == 0xd3);
}

TEST_CASE("port_of_service_guid is the inverse, and only for template GUIDs") {
  for (uint32_t port : {1u, 22u, 2761u, 18518u, 65535u, 65536u, 0x80000000u, 0xFFFFFFFEu}) {
    auto back = port_of_service_guid(service_guid_for_port(port));
    REQUIRE(back.has_value());
    CHECK(*back == port);
  }
  auto other = parse_guid("00000ac9-facb-11e6-bd58-64006a7986d4");  // last digit differs
  REQUIRE(other.has_value());
  CHECK_FALSE(port_of_service_guid(*other).has_value());
  auto other2 = parse_guid("00000ac9-facc-11e6-bd58-64006a7986d3");
  REQUIRE(other2.has_value());
  CHECK_FALSE(port_of_service_guid(*other2).has_value());
  CHECK_FALSE(port_of_service_guid(Guid{}).has_value());
  auto upper = parse_guid("00000AC9-FACB-11E6-BD58-64006A7986D3");
  REQUIRE(upper.has_value());
  CHECK(port_of_service_guid(*upper) == 2761u);
}

TEST_CASE("parse_guid: forms it accepts") {
  const std::string text = "4a3f2b1c-0d9e-4f8a-b7c6-d5e4f3a2b1c0";
  auto g = parse_guid(text);
  REQUIRE(g.has_value());
  CHECK(format_guid(*g) == text);
  CHECK((*g)[0] == 0x4a);
  CHECK((*g)[15] == 0xc0);

  auto braces = parse_guid("{" + text + "}");
  REQUIRE(braces.has_value());
  CHECK(*braces == *g);

  auto upper = parse_guid("4A3F2B1C-0D9E-4F8A-B7C6-D5E4F3A2B1C0");
  REQUIRE(upper.has_value());
  CHECK(*upper == *g);
  auto mixed = parse_guid("{4a3F2b1C-0D9e-4f8A-b7C6-d5E4f3A2b1C0}");
  REQUIRE(mixed.has_value());
  CHECK(*mixed == *g);
  CHECK(format_guid(*upper) == text);  // always formatted lower case, no braces
}

TEST_CASE("parse_guid: errors") {
  const std::string text = "4a3f2b1c-0d9e-4f8a-b7c6-d5e4f3a2b1c0";
  CHECK_FALSE(parse_guid("").has_value());
  CHECK_FALSE(parse_guid(text.substr(1)).has_value());  // too short
  CHECK_FALSE(parse_guid(text + "0").has_value());      // too long
  CHECK_FALSE(parse_guid("{" + text).has_value());      // unbalanced brace
  CHECK_FALSE(parse_guid(text + "}").has_value());
  CHECK_FALSE(parse_guid("[" + text + "]").has_value());
  CHECK_FALSE(parse_guid("{{" + text.substr(2) + "}}").has_value());
  CHECK_FALSE(parse_guid("4a3f2b1cX0d9e-4f8a-b7c6-d5e4f3a2b1c0").has_value());  // separator
  CHECK_FALSE(parse_guid("4a3f2b1c-0d9e-4f8a-b7c6-d5e4f3a2b1cg").has_value());  // not hex
  CHECK_FALSE(parse_guid("4a3f2b1c-0d9e-4f8a-b7c6-d5e4f3a2b1 0").has_value());
  CHECK_FALSE(parse_guid("4a3f2b1c0-d9e-4f8a-b7c6-d5e4f3a2b1c0").has_value());  // dash moved
  CHECK_FALSE(parse_guid("4a3f2b1c-0d9e-4f8a-b7c6-d5e4f3a2-1c0").has_value());  // dash in a hex field
  CHECK_FALSE(parse_guid("4a3f2b1c00d9e04f8a0b7c60d5e4f3a2b1c0").has_value());  // no dashes, 36 chars
  CHECK_FALSE(parse_guid("4a3f2b1c0d9e4f8ab7c6d5e4f3a2b1c0").has_value());      // 32 hex digits
  CHECK_FALSE(parse_guid("+a3f2b1c-0d9e-4f8a-b7c6-d5e4f3a2b1c0").has_value());
  CHECK_FALSE(parse_guid(std::string("4a3f2b1c-0d9e-4f8a-b7c6-d5e4f3a2b1c\0", 36)).has_value());
}

TEST_CASE("format_guid and is_zero") {
  Guid g{};
  CHECK(is_zero(g));
  CHECK(format_guid(g) == "00000000-0000-0000-0000-000000000000");
  g[15] = 1;
  CHECK_FALSE(is_zero(g));
  g = Guid{};
  g[0] = 0xAB;
  CHECK_FALSE(is_zero(g));
  CHECK(format_guid(g) == "ab000000-0000-0000-0000-000000000000");
  for (size_t i = 0; i < g.size(); ++i) g[i] = static_cast<uint8_t>(0xF0 + i);
  auto round = parse_guid(format_guid(g));
  REQUIRE(round.has_value());
  CHECK(*round == g);
}
