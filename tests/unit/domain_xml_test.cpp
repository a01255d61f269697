// A libvirt domain's vsock CID, read from its XML description (platform/linux/domain_xml).
#include <doctest/doctest.h>

#include "platform/linux/domain_xml.h"

using hvterm::platform::detail::DomainVsock;
using hvterm::platform::detail::read_domain_vsock;

namespace {

std::string domain(const std::string& devices) {
  return "<domain type='kvm' id='4'>\n  <name>build-01</name>\n  <devices>\n" + devices + "\n  </devices>\n</domain>\n";
}

}  // namespace

TEST_CASE("domain XML: the vsock CID, when there is one") {
  DomainVsock v;
  std::string error;
  REQUIRE(read_domain_vsock(domain("<vsock model='virtio'>\n <cid auto='yes' address='3'/>\n</vsock>"), v, error));
  CHECK(v.present);
  CHECK(v.cid == 3u);
  REQUIRE(read_domain_vsock(domain("<vsock model=\"virtio\"><cid auto=\"no\" address=\"4294967294\"/></vsock>"), v,
                            error));
  CHECK(v.cid == 4294967294u);

  SUBCASE("an auto CID of a domain that is not running has no address yet") {
    REQUIRE(read_domain_vsock(domain("<vsock model='virtio'><cid auto='yes'/></vsock>"), v, error));
    CHECK(v.present);
    CHECK_FALSE(v.cid);
  }
  SUBCASE("addresses that are no guest CID") {
    for (const char* address : {"0", "1", "2", "", "x3", "3x", "-3", "4294967296"}) {
      CAPTURE(address);
      REQUIRE(read_domain_vsock(domain(std::string("<vsock><cid address='") + address + "'/></vsock>"), v, error));
      CHECK(v.present);
      CHECK_FALSE(v.cid);
    }
  }
  SUBCASE("no vsock device") {
    REQUIRE(read_domain_vsock(domain("<disk type='file'/>"), v, error));
    CHECK_FALSE(v.present);
    CHECK_FALSE(v.cid);
    REQUIRE(read_domain_vsock("<domain><name>x</name></domain>", v, error));
    CHECK_FALSE(v.present);
  }
}

TEST_CASE("domain XML: what is not a domain description is an error") {
  DomainVsock v;
  v.present = true;
  std::string error;
  CHECK_FALSE(read_domain_vsock("<domain><devices>", v, error));
  CHECK(error.find("unreadable domain XML") == 0);
  CHECK_FALSE(v.present);
  error.clear();
  CHECK_FALSE(read_domain_vsock("<network><name>default</name></network>", v, error));
  CHECK(error.find("no <domain>") != std::string::npos);
  CHECK_FALSE(read_domain_vsock("", v, error));
}
