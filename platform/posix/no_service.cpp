// POSIX systems have no service control protocol: systemd and friends run hvtermd in the foreground.
#include "platform/service.h"

namespace hvterm::platform {

int run_service(const std::string&, std::function<int()>, std::function<void()>, std::string& error) {
  error = "--service is for Windows; systemd (hvtermd.service) runs hvtermd in the foreground";
  return -1;
}

bool install_service(const ServiceSpec&, std::string& error, std::string&) {
  error = "--install-service is for Windows; here systemd runs the agent: systemctl enable --now hvtermd.socket";
  return false;
}

bool uninstall_service(const std::string&, uint64_t, std::string& error) {
  error = "--uninstall-service is for Windows; here: systemctl disable --now hvtermd.socket hvtermd.service";
  return false;
}

}  // namespace hvterm::platform
