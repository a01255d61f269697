// Hyper-V sockets need a registered service GUID on the host; vsock ports need nothing.
#include "platform/vms.h"

namespace hvterm::platform {

bool register_service(uint32_t, const std::string&, std::string& error) {
  error = "service registration is done on the Hyper-V host (Windows)";
  return false;
}

}  // namespace hvterm::platform
