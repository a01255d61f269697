// TARGET strings and agent --listen addresses (common/target.h, DESIGN §3).
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "common/guid.h"
#include "common/target.h"

using namespace hvterm;

namespace {

constexpr uint32_t kPort = 18518;
const std::string kVm = "4a3f2b1c-0d9e-4f8a-b7c6-d5e4f3a2b1c0";

Target must_parse(const std::string& text, uint32_t port = kPort) {
  std::string error;
  auto target = parse_target(text, port, error);
  INFO("'" << text << "': " << error);
  REQUIRE(target.has_value());
  CHECK(target->text == text);
  return *target;
}

// Parsing fails with a one-line message that quotes the text.
std::string must_fail(const std::string& text) {
  std::string error;
  auto target = parse_target(text, kPort, error);
  INFO("'" << text << "'");
  CHECK_FALSE(target.has_value());
  CHECK_FALSE(error.empty());
  CHECK(error.find('\n') == std::string::npos);
  CHECK(error.find("'" + text + "'") != std::string::npos);
  return error;
}

// The address a target names, by value (targets here are temporaries).
template <class T>
T address_as(const Target& target) {
  const Address* address = std::get_if<Address>(&target.where);
  REQUIRE(address != nullptr);
  const T* t = std::get_if<T>(address);
  REQUIRE(t != nullptr);
  return *t;
}

Guid guid(const std::string& text) {
  auto g = parse_guid(text);
  REQUIRE(g.has_value());
  return *g;
}

}  // namespace

TEST_CASE("target: local") {
  Target t = must_parse("local");
  CHECK(std::holds_alternative<LocalTarget>(t.where));
}

TEST_CASE("target: unix:PATH") {
  CHECK(address_as<UnixAddress>(must_parse("unix:/run/hvterm/agent.sock")).path == "/run/hvterm/agent.sock");
  CHECK(address_as<UnixAddress>(must_parse("unix:relative/s")).path == "relative/s");
  CHECK(address_as<UnixAddress>(must_parse("unix:/tmp/with:colon")).path == "/tmp/with:colon");
  must_fail("unix:");
}

TEST_CASE("target: hybrid:PATH:PORT") {
  const auto h = address_as<HybridAddress>(must_parse("hybrid:/var/lib/fc/v.sock:1024"));
  CHECK(h.path == "/var/lib/fc/v.sock");
  CHECK(h.port == 1024u);
  const auto colon = address_as<HybridAddress>(must_parse("hybrid:/a:b/v.sock:52"));
  CHECK(colon.path == "/a:b/v.sock");  // the port is after the last colon
  CHECK(colon.port == 52u);
  CHECK(address_as<HybridAddress>(must_parse("hybrid:s:4294967294")).port == 4294967294u);

  must_fail("hybrid:/var/lib/fc/v.sock");  // no port: there is no default for hybrid
  must_fail("hybrid:");
  must_fail("hybrid::1024");  // empty path
  must_fail("hybrid:/v.sock:");
  must_fail("hybrid:/v.sock:0");
  must_fail("hybrid:/v.sock:4294967295");
  must_fail("hybrid:/v.sock:4294967296");
  must_fail("hybrid:/v.sock:-1");
  must_fail("hybrid:/v.sock:12a");
}

TEST_CASE("target: vsock:CID[:PORT]") {
  const auto v = address_as<VsockAddress>(must_parse("vsock:3"));
  CHECK(v.cid == 3u);
  CHECK(v.port == kPort);
  const auto p = address_as<VsockAddress>(must_parse("vsock:2:1234"));
  CHECK(p.cid == 2u);
  CHECK(p.port == 1234u);
  CHECK(address_as<VsockAddress>(must_parse("vsock:3", 999)).port == 999u);  // --port
  CHECK(address_as<VsockAddress>(must_parse("vsock:4294967294:4294967294")).cid == 4294967294u);
  CHECK(address_as<VsockAddress>(must_parse("vsock:4294967294:4294967294")).port == 4294967294u);

  must_fail("vsock:");
  must_fail("vsock:x");
  must_fail("vsock:-3");
  must_fail("vsock:3x");
  must_fail("vsock:4294967295");  // VMADDR_CID_ANY is for listening
  must_fail("vsock:4294967296");
  must_fail("vsock:99999999999");
  must_fail("vsock:3:");
  must_fail("vsock:3:0");           // port 0
  must_fail("vsock:3:4294967295");  // VMADDR_PORT_ANY
  must_fail("vsock:3:4294967296");
  must_fail("vsock:3:80:81");
  must_fail("vsock::80");
  must_fail("vsock:any");
}

TEST_CASE("target: hv:VMID[:SERVICE]") {
  SUBCASE("default service is the agent port through the template") {
    const auto h = address_as<HyperVAddress>(must_parse("hv:" + kVm));
    CHECK(h.vm == guid(kVm));
    CHECK(h.service == service_guid_for_port(kPort));
  }
  SUBCASE("braces and upper case") {
    const auto h = address_as<HyperVAddress>(must_parse("hv:{4A3F2B1C-0D9E-4F8A-B7C6-D5E4F3A2B1C0}"));
    CHECK(h.vm == guid(kVm));
    CHECK(h.service == service_guid_for_port(kPort));
    const auto p = address_as<HyperVAddress>(must_parse("hv:{" + kVm + "}:2761"));
    CHECK(p.vm == guid(kVm));
    CHECK(format_guid(p.service) == "00000ac9-facb-11e6-bd58-64006a7986d3");
  }
  SUBCASE("a port maps through the template") {
    const auto h = address_as<HyperVAddress>(must_parse("hv:" + kVm + ":2761"));
    CHECK(format_guid(h.service) == "00000ac9-facb-11e6-bd58-64006a7986d3");
  }
  SUBCASE("a service GUID is taken as is") {
    const std::string service = "12345678-9abc-def0-1234-56789abcdef0";
    const auto h = address_as<HyperVAddress>(must_parse("hv:" + kVm + ":" + service));
    CHECK(h.service == guid(service));
    const auto b = address_as<HyperVAddress>(must_parse("hv:" + kVm + ":{" + service + "}"));
    CHECK(b.service == guid(service));
  }
  SUBCASE("errors") {
    must_fail("hv:");
    must_fail("hv:not-a-guid");
    must_fail("hv:" + kVm.substr(0, 35));
    must_fail("hv:4a3f2b1c-0d9e-4f8a-b7c6-d5e4f3a2b1cz");
    must_fail("hv:{" + kVm);
    must_fail("hv:" + kVm + ":");
    must_fail("hv:" + kVm + "x");
    must_fail("hv:" + kVm + "x2761");
    must_fail("hv:" + kVm + ":0");
    must_fail("hv:" + kVm + ":4294967295");
    must_fail("hv:" + kVm + ":port");
    must_fail("hv:" + kVm + ":12345678-9abc-def0-1234-56789abcdef");
  }
}

TEST_CASE("target: bare CID, GUID or name") {
  const auto v = address_as<VsockAddress>(must_parse("3"));
  CHECK(v.cid == 3u);
  CHECK(v.port == kPort);
  CHECK(address_as<VsockAddress>(must_parse("2", 77)).port == 77u);
  must_fail("4294967295");
  must_fail("4294967296");
  must_fail("123456789012");

  const auto h = address_as<HyperVAddress>(must_parse(kVm));
  CHECK(h.vm == guid(kVm));
  CHECK(h.service == service_guid_for_port(kPort));
  CHECK(address_as<HyperVAddress>(must_parse("{" + kVm + "}")).vm == guid(kVm));

  for (const std::string& name :
       std::vector<std::string>{"web01", "My VM", "debian-12.test", "3x", "-", kVm.substr(1)}) {
    Target t = must_parse(name);
    const NamedTarget* named = std::get_if<NamedTarget>(&t.where);
    REQUIRE(named != nullptr);
    CHECK(named->name == name);
    CHECK_FALSE(named->port.has_value());
  }

  must_fail("");
  must_fail("tcp:host:80");
  must_fail("web01:22");
  must_fail("/some/path");
  must_fail("Local:");
}

TEST_CASE("parse_port") {
  CHECK(parse_port("1") == 1u);
  CHECK(parse_port("18518") == 18518u);
  CHECK(parse_port("4294967294") == 4294967294u);
  CHECK(parse_port("0001") == 1u);
  CHECK_FALSE(parse_port("0").has_value());
  CHECK_FALSE(parse_port("4294967295").has_value());
  CHECK_FALSE(parse_port("4294967296").has_value());
  CHECK_FALSE(parse_port("18446744073709551617").has_value());  // would wrap to 1 in 64 bits
  CHECK_FALSE(parse_port("").has_value());
  CHECK_FALSE(parse_port("-1").has_value());
  CHECK_FALSE(parse_port("+1").has_value());
  CHECK_FALSE(parse_port(" 1").has_value());
  CHECK_FALSE(parse_port("1 ").has_value());
  CHECK_FALSE(parse_port("0x10").has_value());
}

TEST_CASE("listen addresses") {
  std::string error;
  SUBCASE("unix") {
    auto a = parse_listen_address("unix:/run/hvtermd.sock", kPort, error);
    REQUIRE(a.has_value());
    CHECK(std::get<UnixAddress>(*a).path == "/run/hvtermd.sock");
    CHECK_FALSE(parse_listen_address("unix:", kPort, error).has_value());
    CHECK(error.find("unix:") != std::string::npos);
  }
  SUBCASE("vsock") {
    auto any = parse_listen_address("vsock:any", kPort, error);
    REQUIRE(any.has_value());
    CHECK(std::get<VsockAddress>(*any).cid == kVsockCidAny);
    CHECK(std::get<VsockAddress>(*any).port == kPort);
    auto port = parse_listen_address("vsock:any:5000", kPort, error);
    REQUIRE(port.has_value());
    CHECK(std::get<VsockAddress>(*port).port == 5000u);
    auto cid = parse_listen_address("vsock:1:5000", kPort, error);
    REQUIRE(cid.has_value());
    CHECK(std::get<VsockAddress>(*cid).cid == 1u);
    for (const char* bad : {"vsock:", "vsock:ANY", "vsock:x", "vsock:any:", "vsock:any:0", "vsock:any:4294967295",
                            "vsock:any:x", "vsock:4294967296"}) {
      INFO(bad);
      error.clear();
      CHECK_FALSE(parse_listen_address(bad, kPort, error).has_value());
      CHECK_FALSE(error.empty());
    }
  }
  SUBCASE("hv") {
    auto wildcard = parse_listen_address("hv:", kPort, error);
    REQUIRE(wildcard.has_value());
    CHECK(is_zero(std::get<HyperVAddress>(*wildcard).vm));
    CHECK(std::get<HyperVAddress>(*wildcard).service == service_guid_for_port(kPort));
    auto port = parse_listen_address("hv:2761", kPort, error);
    REQUIRE(port.has_value());
    CHECK(format_guid(std::get<HyperVAddress>(*port).service) == "00000ac9-facb-11e6-bd58-64006a7986d3");
    auto service = parse_listen_address("hv:{" + kVm + "}", kPort, error);
    REQUIRE(service.has_value());
    CHECK(std::get<HyperVAddress>(*service).service == guid(kVm));
    CHECK_FALSE(parse_listen_address("hv:x", kPort, error).has_value());
    CHECK_FALSE(parse_listen_address("hv:0", kPort, error).has_value());
  }
  SUBCASE("other forms") {
    for (const char* bad : {"", "local", "3", "tcp:0.0.0.0:80", "hybrid:/x:1", "/run/x.sock"}) {
      INFO(bad);
      error.clear();
      CHECK_FALSE(parse_listen_address(bad, kPort, error).has_value());
      CHECK_FALSE(error.empty());
    }
  }
}

TEST_CASE("describe addresses") {
  CHECK(describe(Address{UnixAddress{"/tmp/s"}}) == "unix:/tmp/s");
  CHECK(describe(Address{VsockAddress{3, 18518}}) == "vsock:3:18518");
  CHECK(describe(Address{VsockAddress{kVsockCidAny, 5}}) == "vsock:any:5");
  CHECK(describe(Address{HybridAddress{"/v.sock", 52}}) == "hybrid:/v.sock:52");
  CHECK(describe(Address{HyperVAddress{Guid{}, service_guid_for_port(2761)}}) ==
        "hv:*:00000ac9-facb-11e6-bd58-64006a7986d3");
  CHECK(describe(Address{HyperVAddress{guid(kVm), service_guid_for_port(1)}}) ==
        "hv:" + kVm + ":00000001-facb-11e6-bd58-64006a7986d3");
}
