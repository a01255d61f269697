#include "platform/windows/socket_errors.h"

#include "common/guid.h"
#include "platform/windows/internal.h"

namespace hvterm::platform::detail {
namespace {

std::string service_text(const Guid& service) {
  auto port = port_of_service_guid(service);
  return "service " + format_guid(service) + (port ? " (port " + std::to_string(*port) + ")" : std::string());
}

std::string vm_text(const Guid& vm) { return is_zero(vm) ? std::string("any VM") : "VM " + format_guid(vm); }

constexpr const char* kAdminHint = "run as administrator or as a member of the Hyper-V Administrators group";

}  // namespace

bool family_unavailable(int wsa_error) {
  switch (wsa_error) {
    case WSAEAFNOSUPPORT:
    case WSAEPFNOSUPPORT:
    case WSAEPROTONOSUPPORT:
    case WSAESOCKTNOSUPPORT:
    case WSAEPROTOTYPE:
    case WSAEOPNOTSUPP:
    case WSAVERNOTSUPPORTED: return true;
    default: return false;
  }
}

std::string describe_hyperv(const HyperVAddress& address) {
  return vm_text(address.vm) + " " + service_text(address.service);
}

std::string hyperv_connect_error(int wsa_error, const HyperVAddress& address) {
  std::string vm = vm_text(address.vm);
  std::string service = service_text(address.service);
  if (family_unavailable(wsa_error))
    return "Hyper-V sockets are not available on this machine (they need Windows 10 or Windows Server 2016 "
           "or later with Hyper-V enabled)";
  switch (wsa_error) {
    case WSAEACCES: return "access denied connecting to " + vm + ": " + kAdminHint;
    case WSAENETUNREACH:
    case WSAEHOSTUNREACH:
    case WSAENETDOWN:
    case WSAEHOSTDOWN:
    case WSAEADDRNOTAVAIL: return vm + " is not running, or no VM on this host has that ID (see 'hvterm vms')";
    case WSAECONNREFUSED:
    case WSAECONNRESET:
      return "nothing is listening on " + service + " in " + vm + " (is hvtermd running in the guest?)";
    case WSAETIMEDOUT:
      // Hyper-V lets a connect to a service nobody listens on run into the timeout.
      return "timed out connecting to " + vm + ": nothing answered on " + service +
             " (is hvtermd running in the guest, and the service registered with 'hvterm register'?)";
    default:
      return "cannot connect to " + vm + " " + service + ": " +
             system_error_text(static_cast<unsigned long>(wsa_error));
  }
}

std::string hyperv_listen_error(int wsa_error, const HyperVAddress& address) {
  std::string where = "cannot listen on Hyper-V " + service_text(address.service) + ": ";
  if (family_unavailable(wsa_error))
    return where + "Hyper-V sockets are not available on this machine (run hvtermd inside a Hyper-V VM with "
                   "Windows 10 or Windows Server 2016 or later)";
  switch (wsa_error) {
    case WSAEADDRINUSE: return where + "another program (another hvtermd?) is already listening on it";
    case WSAEACCES: return where + "access denied; " + kAdminHint;
    default: return where + system_error_text(static_cast<unsigned long>(wsa_error));
  }
}

std::string unix_socket_error(int wsa_error, const std::string& path, bool listening) {
  if (family_unavailable(wsa_error))
    return "Unix-domain sockets are not available on this system (Windows has them from Windows 10 version 1803; "
           "Wine has none); use a named pipe instead, such as unix:\\\\.\\pipe\\hvterm";
  std::string where = (listening ? "cannot listen on " : "cannot connect to ") + path + ": ";
  switch (wsa_error) {
    case WSAECONNREFUSED:
    case WSAECONNRESET: return "no agent is listening on " + path;
    case WSAETIMEDOUT: return "timed out connecting to " + path;
    case WSAEADDRINUSE: return where + "the address is in use";
    case WSAEACCES: return where + "access denied";
    default: return where + system_error_text(static_cast<unsigned long>(wsa_error));
  }
}

}  // namespace hvterm::platform::detail
