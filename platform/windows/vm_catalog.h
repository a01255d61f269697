#pragma once
// The Hyper-V host's VMs as two inventories report them (HCS JSON, WMI Msvm_ComputerSystem rows),
// and finding a VM by name in them. Pure functions: tests/windows feeds them canned data.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "platform/vms.h"

namespace hvterm::platform::detail {

// HcsEnumerateComputeSystems' result: the VirtualMachine entries (not containers), IDs as lower-case
// GUIDs, states as "running", "paused", ... False with `error` when the document does not parse.
bool parse_hcs_systems(std::string_view json, std::vector<VmInfo>& out, std::string& error);
std::string hcs_state_name(const std::string& state);

// One Msvm_ComputerSystem row: Name (the VM ID), ElementName (the name people see), EnabledState.
std::optional<VmInfo> vm_from_wmi(const std::string& id, const std::string& element_name, uint32_t enabled_state);
std::string wmi_state_name(uint32_t enabled_state);

// `primary` plus the VMs of `more` it lacks (same ID); a name that is only the ID gives way to a real one.
std::vector<VmInfo> merge_vms(std::vector<VmInfo> primary, const std::vector<VmInfo>& more);

// Find a VM by name: exact matches first, then ignoring case (as Hyper-V does). Several matches
// are an error that lists their IDs. No match: no id and no error.
struct VmLookup {
  std::optional<std::string> id;
  std::string error;
};
VmLookup find_vm_by_name(const std::vector<VmInfo>& vms, const std::string& name);

// HRESULTs of the two inventories as reasons a person can act on.
std::string hcs_error_text(long hresult);
std::string wmi_error_text(long hresult);

}  // namespace hvterm::platform::detail
