// The registration key of a service (platform/windows/service_registration).
#include <doctest/doctest.h>

#include "platform/windows/internal.h"

TEST_CASE("the GuestCommunicationServices key of a port is its vsock-template service GUID") {
  CHECK(hvterm::platform::detail::service_registry_key(2761) ==
        "SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices\\"
        "00000ac9-facb-11e6-bd58-64006a7986d3");
}
