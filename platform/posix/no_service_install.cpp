// POSIX systems have no service control manager to install into: the agent's systemd units do that.
#include "platform/service.h"

namespace hvterm::platform {

bool install_service(const ServiceSpec&, std::string& error, std::string&) {
  error = "--install-service is for Windows; here systemd runs the agent: systemctl enable --now hvtermd.socket";
  return false;
}

bool uninstall_service(const std::string&, uint64_t, std::string& error) {
  error = "--uninstall-service is for Windows; here: systemctl disable --now hvtermd.socket hvtermd.service";
  return false;
}

}  // namespace hvterm::platform
