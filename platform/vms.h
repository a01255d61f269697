#pragma once
// The platform seam, virtual machines: the VMs this host runs, by name, and registering hvterm's
// service with the hypervisor.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/address.h"

namespace hvterm::platform {

struct VmInfo {
  std::string id;  // Hyper-V VM ID (GUID) or vsock CID
  std::string name;
  std::string state;  // running, off, paused, saved, ...
};
// Resolve a VM name to an address for `port` (Hyper-V: VM ID + service GUID of the port).
std::optional<Address> resolve_vm(const std::string& name, uint32_t port, std::string& error);
// VMs this host can reach; false with `error` when this platform cannot enumerate them.
bool list_vms(std::vector<VmInfo>& out, std::string& error);
// Register the hvterm service GUID for `port` with the hypervisor (Hyper-V host: registry key
// GuestCommunicationServices). False with `error` where that is not possible here.
bool register_service(uint32_t port, const std::string& name, std::string& error);

}  // namespace hvterm::platform
