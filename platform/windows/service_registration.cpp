// Registering the hvterm service with Hyper-V: a host accepts Hyper-V socket connections only for
// service GUIDs listed under GuestCommunicationServices. Writing the key again changes nothing.
#include "common/guid.h"
#include "platform/vms.h"
#include "platform/windows/internal.h"

namespace hvterm::platform {

namespace detail {

std::string service_registry_key(uint32_t port) {
  return "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices\\" +
         format_guid(service_guid_for_port(port));
}

}  // namespace detail

bool register_service(uint32_t port, const std::string& name, std::string& error) {
  std::wstring key_path = detail::widen(detail::service_registry_key(port));
  std::wstring value = detail::widen(name);
  HKEY key = nullptr;
  // KEY_WOW64_64KEY: a 32-bit build must still write where Hyper-V (64-bit) reads.
  LSTATUS rc = RegCreateKeyExW(HKEY_LOCAL_MACHINE, key_path.c_str(), 0, nullptr, REG_OPTION_NON_VOLATILE,
                               KEY_SET_VALUE | KEY_WOW64_64KEY, nullptr, &key, nullptr);
  if (rc == ERROR_SUCCESS) {
    rc = RegSetValueExW(key, L"ElementName", 0, REG_SZ, reinterpret_cast<const BYTE*>(value.c_str()),
                        static_cast<DWORD>((value.size() + 1) * sizeof(wchar_t)));
    RegCloseKey(key);
  }
  if (rc == ERROR_SUCCESS) return true;
  error = rc == ERROR_ACCESS_DENIED
              ? "registering the service needs administrator rights (run hvterm register from an elevated prompt)"
              : "cannot write HKLM\\" + detail::narrow(key_path) + ": " +
                    detail::system_error_text(static_cast<unsigned long>(rc));
  return false;
}

}  // namespace hvterm::platform
