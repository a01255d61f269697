// VM names on a Hyper-V host. Two inventories: the Host Compute Service (no COM, quick, but only
// running systems and, for VMs that Hyper-V Manager created, often no name but the ID) and Hyper-V's
// WMI provider (every VM with the name people gave it). A name is looked up in HCS first and then
// in WMI; the listing merges both.
#include "platform/vms.h"
#include "common/guid.h"
#include "platform/windows/internal.h"
#include "platform/windows/vm_catalog.h"

namespace hvterm::platform {

std::optional<Address> resolve_vm(const std::string& name, uint32_t port, std::string& error) {
  std::vector<std::string> reasons;
  bool searched = false;
  for (auto* source : {detail::hcs_list_vms, detail::wmi_list_vms}) {
    std::vector<VmInfo> vms;
    std::string reason;
    if (!source(vms, reason)) {
      reasons.push_back(reason);
      continue;
    }
    searched = true;
    auto found = detail::find_vm_by_name(vms, name);
    if (!found.error.empty()) {
      error = found.error;
      return std::nullopt;
    }
    if (found.id) return Address{HyperVAddress{*parse_guid(*found.id), service_guid_for_port(port)}};
  }
  if (searched) {
    error = "no VM named '" + name + "' on this host (see 'hvterm vms')";
  } else {
    error = "cannot look up the VM name '" + name + "': ";
    for (size_t i = 0; i < reasons.size(); ++i) error += (i ? "; " : "") + reasons[i];
  }
  return std::nullopt;
}

bool list_vms(std::vector<VmInfo>& out, std::string& error) {
  std::vector<VmInfo> from_wmi, from_hcs;
  std::string wmi_error, hcs_error;
  bool wmi_ok = detail::wmi_list_vms(from_wmi, wmi_error);
  bool hcs_ok = detail::hcs_list_vms(from_hcs, hcs_error);
  if (!wmi_ok && !hcs_ok) {
    error = "cannot list VMs: " + wmi_error + "; " + hcs_error;
    return false;
  }
  out = detail::merge_vms(std::move(from_wmi), from_hcs);
  return true;
}

}  // namespace hvterm::platform
