#include "platform/linux/domain_xml.h"

#include <charconv>

#include <pugixml.hpp>

#include "common/address.h"

namespace hvterm::platform::detail {

bool read_domain_vsock(std::string_view xml, DomainVsock& out, std::string& error) {
  out = DomainVsock{};
  pugi::xml_document document;
  pugi::xml_parse_result parsed = document.load_buffer(xml.data(), xml.size());
  if (!parsed) {
    error = std::string("unreadable domain XML from libvirt: ") + parsed.description();
    return false;
  }
  pugi::xml_node domain = document.child("domain");
  if (!domain) {
    error = "unreadable domain XML from libvirt: no <domain> element";
    return false;
  }
  pugi::xml_node vsock = domain.child("devices").child("vsock");
  if (!vsock) return true;
  out.present = true;
  // <cid auto='yes' address='3'/>: libvirt writes the address once the CID is assigned; it is
  // absent (or 0) for an auto CID of a domain that is not running.
  std::string_view address = vsock.child("cid").attribute("address").value();
  uint32_t cid = 0;
  auto [end, ec] = std::from_chars(address.data(), address.data() + address.size(), cid);
  if (ec == std::errc() && end == address.data() + address.size() && cid > kVsockCidHost) out.cid = cid;
  return true;
}

}  // namespace hvterm::platform::detail
