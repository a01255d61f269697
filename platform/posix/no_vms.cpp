// VM names on Linux hosts. Without libvirt support compiled in, names cannot be resolved: the
// user is pointed at the forms that need no lookup.
#include "platform/vms.h"

namespace hvterm::platform {

std::optional<Address> resolve_vm(const std::string& name, uint32_t, std::string& error) {
  error = "cannot resolve VM name '" + name +
          "': this build has no libvirt support; use vsock:CID (see 'virsh dumpxml " + name +
          " | grep cid') or hybrid:PATH:PORT";
  return std::nullopt;
}

bool list_vms(std::vector<VmInfo>&, std::string& error) {
  error = "listing VMs needs Hyper-V (Windows) or libvirt support, which this build does not have";
  return false;
}

}  // namespace hvterm::platform
