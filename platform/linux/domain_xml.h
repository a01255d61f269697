#pragma once
// What hvterm reads from a libvirt domain's XML description: its vsock device.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hvterm::platform::detail {

struct DomainVsock {
  bool present = false;         // the domain has a <vsock> device
  std::optional<uint32_t> cid;  // the guest CID, once assigned (an auto CID only while it runs)
};

// false with `error` when `xml` is not a domain description.
bool read_domain_vsock(std::string_view xml, DomainVsock& out, std::string& error);

}  // namespace hvterm::platform::detail
