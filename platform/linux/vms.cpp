// VM names on Linux/KVM hosts, looked up in libvirt: a domain's vsock device gives its CID.
#include <algorithm>

#include "platform/linux/domain_xml.h"
#include "platform/linux/libvirt.h"
#include "platform/vms.h"

namespace hvterm::platform {
namespace {

std::string where(const detail::Libvirt& lv) { return lv.uri().empty() ? "libvirt" : "libvirt (" + lv.uri() + ")"; }

}  // namespace

std::optional<Address> resolve_vm(const std::string& name, uint32_t port, std::string& error) {
  auto lv = detail::Libvirt::connect(error);
  if (!lv) {
    error = "cannot resolve VM name '" + name + "': " + error + "; use vsock:CID";
    return std::nullopt;
  }
  auto domain = lv->find(name, error);
  if (!domain) {
    if (error.empty()) {
      error = "no VM named '" + name + "' in " + where(*lv) + "; 'hvterm vms' lists them";
      // As with virsh, a user's default is their own session, not the system's VMs.
      if (lv->uri().find("/session") != std::string::npos) error += " (or set LIBVIRT_DEFAULT_URI=qemu:///system)";
    }
    return std::nullopt;
  }
  detail::DomainVsock vsock;
  if (!detail::read_domain_vsock(domain->xml, vsock, error)) return std::nullopt;
  if (!vsock.present) {
    error = "VM '" + domain->name +
            "' has no vsock device: add <vsock model='virtio'><cid auto='yes'/></vsock> "
            "to its <devices> (virsh edit " +
            domain->name + ")";
    return std::nullopt;
  }
  if (!vsock.cid) {
    error = "VM '" + domain->name + "' is " + domain->state + ": its vsock CID is assigned when it starts";
    return std::nullopt;
  }
  return Address{VsockAddress{*vsock.cid, port}};
}

bool list_vms(std::vector<VmInfo>& out, std::string& error) {
  auto lv = detail::Libvirt::connect(error);
  if (!lv) return false;
  std::vector<detail::LibvirtDomain> domains;
  if (!lv->list(domains, error)) return false;
  for (const auto& d : domains) {
    detail::DomainVsock vsock;
    std::string ignored;  // a domain whose XML cannot be read is still listed, without a CID
    detail::read_domain_vsock(d.xml, vsock, ignored);
    out.push_back(VmInfo{vsock.cid ? std::to_string(*vsock.cid) : "-", d.name, d.state});
  }
  std::sort(out.begin(), out.end(), [](const VmInfo& a, const VmInfo& b) { return a.name < b.name; });
  return true;
}

}  // namespace hvterm::platform
