// Winsock errors as one-line reasons (platform/windows/socket_errors).
#include <doctest/doctest.h>

#include "common/guid.h"
#include "platform/windows/internal.h"
#include "platform/windows/socket_errors.h"

using namespace hvterm::platform::detail;

namespace {
hvterm::HyperVAddress target() {
  return {*hvterm::parse_guid("4a3f1c2e-0000-4000-8000-123456789abc"), hvterm::service_guid_for_port(18518)};
}
}  // namespace

TEST_CASE("Hyper-V connect errors name the VM, the service and what to do") {
  auto t = target();
  CHECK(describe_hyperv(t) ==
        "VM 4a3f1c2e-0000-4000-8000-123456789abc service 00004856-facb-11e6-bd58-64006a7986d3 (port 18518)");
  CHECK(hyperv_connect_error(WSAEAFNOSUPPORT, t).find("Hyper-V sockets are not available on this machine") == 0);
  CHECK(hyperv_connect_error(WSAEACCES, t) ==
        "access denied connecting to VM 4a3f1c2e-0000-4000-8000-123456789abc: run as administrator or as a "
        "member of the Hyper-V Administrators group");
  CHECK(hyperv_connect_error(WSAENETUNREACH, t).find("is not running") != std::string::npos);
  CHECK(hyperv_connect_error(WSAEHOSTUNREACH, t).find("is not running") != std::string::npos);
  CHECK(hyperv_connect_error(WSAECONNREFUSED, t) ==
        "nothing is listening on service 00004856-facb-11e6-bd58-64006a7986d3 (port 18518) in VM "
        "4a3f1c2e-0000-4000-8000-123456789abc (is hvtermd running in the guest?)");
  CHECK(hyperv_connect_error(WSAETIMEDOUT, t).find("timed out connecting to VM") == 0);
  CHECK(hyperv_connect_error(WSAETIMEDOUT, t).find("hvterm register") != std::string::npos);
}

TEST_CASE("every Hyper-V reason is one line") {
  for (int err :
       {WSAEAFNOSUPPORT, WSAEACCES, WSAENETUNREACH, WSAECONNREFUSED, WSAETIMEDOUT, WSAEADDRINUSE, WSAENOBUFS, 12345}) {
    CHECK(hyperv_connect_error(err, target()).find('\n') == std::string::npos);
    CHECK(hyperv_listen_error(err, target()).find('\n') == std::string::npos);
  }
}

TEST_CASE("a service GUID that is not a vsock port is shown without a port") {
  hvterm::HyperVAddress t = target();
  t.service = *hvterm::parse_guid("12345678-1234-1234-1234-123456789abc");
  CHECK(describe_hyperv(t) == "VM 4a3f1c2e-0000-4000-8000-123456789abc service 12345678-1234-1234-1234-123456789abc");
  t.vm = {};
  CHECK(describe_hyperv(t).find("any VM") == 0);
}

TEST_CASE("Hyper-V listen errors") {
  auto t = target();
  CHECK(hyperv_listen_error(WSAEADDRINUSE, t).find("already listening") != std::string::npos);
  CHECK(hyperv_listen_error(WSAEACCES, t).find("administrator") != std::string::npos);
  CHECK(hyperv_listen_error(WSAEAFNOSUPPORT, t).find("inside a Hyper-V VM") != std::string::npos);
}

TEST_CASE("AF_UNIX errors") {
  CHECK(unix_socket_error(WSAEAFNOSUPPORT, "C:\\x\\a.sock", false).find("unix:\\\\.\\pipe\\hvterm") !=
        std::string::npos);
  CHECK(unix_socket_error(WSAECONNREFUSED, "C:\\x\\a.sock", false) == "no agent is listening on C:\\x\\a.sock");
  CHECK(unix_socket_error(WSAETIMEDOUT, "C:\\x\\a.sock", false) == "timed out connecting to C:\\x\\a.sock");
  CHECK(unix_socket_error(WSAEADDRINUSE, "C:\\x\\a.sock", true) ==
        "cannot listen on C:\\x\\a.sock: the address is in use");
}

TEST_CASE("Windows GUID structs and the core's GUIDs convert both ways") {
  auto guid = hvterm::service_guid_for_port(2761);  // 00000ac9-facb-11e6-bd58-64006a7986d3
  GUID native = to_native_guid(guid);
  CHECK(native.Data1 == 0x00000ac9u);
  CHECK(native.Data2 == 0xfacb);
  CHECK(native.Data3 == 0x11e6);
  CHECK(native.Data4[0] == 0xbd);
  CHECK(native.Data4[7] == 0xd3);
  CHECK(from_native_guid(native) == guid);
}
