#include "platform/windows/vm_catalog.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "common/guid.h"
#include "platform/vms.h"
#include "platform/windows/internal.h"

namespace hvterm::platform::detail {
namespace {

constexpr unsigned long kAccessDenied = 0x80070005ul;      // E_ACCESSDENIED
constexpr unsigned long kWbemAccessDenied = 0x80041003ul;  // WBEM_E_ACCESS_DENIED
constexpr unsigned long kWbemInvalidNamespace = 0x8004100Eul;
constexpr unsigned long kWbemInvalidClass = 0x80041010ul;
constexpr unsigned long kModuleNotFound = 0x8007007Eul;  // HRESULT_FROM_WIN32(ERROR_MOD_NOT_FOUND)

constexpr const char* kAdminHint = "run as administrator or as a member of the Hyper-V Administrators group";

std::string lower_ascii(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  return text;
}

std::optional<std::string> canonical_id(const std::string& text) {
  auto guid = parse_guid(text);
  return guid ? std::optional<std::string>(format_guid(*guid)) : std::nullopt;
}

bool name_is_id(const VmInfo& vm) { return vm.name.empty() || canonical_id(vm.name) == vm.id; }

std::string string_member(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

std::string hcs_state_name(const std::string& state) {
  if (state == "SavedAsTemplate") return "saved";
  return state.empty() ? std::string("unknown") : lower_ascii(state);
}

bool parse_hcs_systems(std::string_view json, std::vector<VmInfo>& out, std::string& error) {
  nlohmann::json document;
  try {
    document = nlohmann::json::parse(json);
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for a number like 1e999
    error = std::string("unreadable answer from the Host Compute Service: ") + e.what();
    return false;
  }
  if (document.is_null()) return true;  // no compute systems at all
  if (!document.is_array()) {
    error = "unreadable answer from the Host Compute Service: not a list";
    return false;
  }
  for (const auto& system : document) {
    if (!system.is_object() || string_member(system, "SystemType") != "VirtualMachine") continue;
    auto id = canonical_id(string_member(system, "Id"));
    if (!id) continue;
    out.push_back(VmInfo{*id, string_member(system, "Name"), hcs_state_name(string_member(system, "State"))});
  }
  return true;
}

std::string wmi_state_name(uint32_t enabled_state) {
  switch (enabled_state) {
    case 2: return "running";
    case 3: return "off";
    case 32768: return "paused";
    case 32769: return "saved";
    case 32770: return "starting";
    case 32773: return "saving";
    case 32774: return "stopping";
    case 32776: return "pausing";
    case 32777: return "resuming";
    default: return "state " + std::to_string(enabled_state);
  }
}

std::optional<VmInfo> vm_from_wmi(const std::string& id, const std::string& element_name, uint32_t enabled_state) {
  auto canonical = canonical_id(id);
  if (!canonical) return std::nullopt;  // the host itself is a Msvm_ComputerSystem too, named by its host name
  return VmInfo{*canonical, element_name, wmi_state_name(enabled_state)};
}

std::vector<VmInfo> merge_vms(std::vector<VmInfo> primary, const std::vector<VmInfo>& more) {
  for (const auto& vm : more) {
    auto same = std::find_if(primary.begin(), primary.end(), [&vm](const VmInfo& p) { return p.id == vm.id; });
    if (same == primary.end())
      primary.push_back(vm);
    else if (name_is_id(*same) && !name_is_id(vm))
      same->name = vm.name;
  }
  return primary;
}

VmLookup find_vm_by_name(const std::vector<VmInfo>& vms, const std::string& name) {
  std::vector<const VmInfo*> matches;
  for (const auto& vm : vms)
    if (vm.name == name) matches.push_back(&vm);
  if (matches.empty())
    for (const auto& vm : vms)
      if (lower_ascii(vm.name) == lower_ascii(name)) matches.push_back(&vm);
  if (matches.empty()) return {};
  if (matches.size() == 1) return {matches[0]->id, {}};
  std::string list;
  for (const VmInfo* vm : matches) list += (list.empty() ? "" : ", ") + vm->id + " (" + vm->state + ")";
  return {std::nullopt, "the VM name '" + name + "' is ambiguous: " + std::to_string(matches.size()) +
                            " VMs have it: " + list + "; use hv:VMID"};
}

std::string hcs_error_text(long hresult) {
  auto code = static_cast<unsigned long>(hresult);
  if (code == kModuleNotFound) return "the Host Compute Service is not installed (no computecore.dll)";
  if (code == kAccessDenied) return std::string("access denied by the Host Compute Service: ") + kAdminHint;
  return "the Host Compute Service failed: " + system_error_text(code);
}

std::string wmi_error_text(long hresult) {
  auto code = static_cast<unsigned long>(hresult);
  if (code == kWbemInvalidNamespace || code == kWbemInvalidClass)
    return "Hyper-V is not installed or not enabled on this machine (WMI has no root\\virtualization\\v2)";
  if (code == kAccessDenied || code == kWbemAccessDenied)
    return std::string("access denied by Hyper-V's WMI provider: ") + kAdminHint;
  return "the Hyper-V WMI query failed: " + system_error_text(code);
}

}  // namespace hvterm::platform::detail
