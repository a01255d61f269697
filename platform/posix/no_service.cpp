// POSIX systems have no service control protocol: systemd and friends run hvtermd in the foreground.
#include "platform/service.h"

namespace hvterm::platform {

int run_service(const std::string&, std::function<int()>, std::function<void()>, std::string& error) {
  error = "--service is for Windows; systemd (hvtermd.service) runs hvtermd in the foreground";
  return -1;
}

}  // namespace hvterm::platform
