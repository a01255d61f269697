// hvtermd --install-service / --uninstall-service (platform/windows/service_install.cpp) against
// the real Service Control Manager (Wine's, in the cross build): what it creates is read back.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "platform/service.h"
#include "platform/windows/internal.h"

using namespace hvterm;

namespace {

struct Handle {
  SC_HANDLE h;
  ~Handle() {
    if (h != nullptr) CloseServiceHandle(h);
  }
};

// The setting at `level`, or nothing when this SCM cannot report it (Wine's knows no failure actions).
std::vector<BYTE> query_config2(SC_HANDLE service, DWORD level) {
  DWORD needed = 0;
  if (!QueryServiceConfig2W(service, level, nullptr, 0, &needed) && GetLastError() == ERROR_INVALID_LEVEL) return {};
  std::vector<BYTE> buffer(needed);
  INFO("level " << level << ", error " << GetLastError());
  REQUIRE(QueryServiceConfig2W(service, level, buffer.data(), needed, &needed));
  return buffer;
}

}  // namespace

TEST_CASE("install_service: the quoted command line, automatic start, a description, restart after failure") {
  std::string name = "hvterm-install-test-" + std::to_string(GetCurrentProcessId());
  platform::ServiceSpec spec{name,
                             "hvterm install test",
                             "made by tests/windows",
                             {"C:\\Program Files\\hvterm\\hvtermd.exe", "--service", "--listen", "unix:C:\\two words"}};
  std::string error, note;
  platform::uninstall_service(name, 30000, error);  // one an earlier, failed run left behind
  REQUIRE_MESSAGE(platform::install_service(spec, error, note), error);
  {
    Handle scm{OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT)};
    REQUIRE(scm.h != nullptr);
    std::wstring wide = platform::detail::widen(name);
    Handle service{OpenServiceW(scm.h, wide.c_str(), SERVICE_QUERY_CONFIG)};
    REQUIRE(service.h != nullptr);
    DWORD needed = 0;
    QueryServiceConfigW(service.h, nullptr, 0, &needed);
    std::vector<BYTE> buffer(needed);
    auto* config = reinterpret_cast<QUERY_SERVICE_CONFIGW*>(buffer.data());
    REQUIRE(QueryServiceConfigW(service.h, config, needed, &needed));
    CHECK(platform::detail::narrow(config->lpBinaryPathName) ==
          "\"C:\\Program Files\\hvterm\\hvtermd.exe\" --service --listen \"unix:C:\\two words\"");
    CHECK(config->dwStartType == SERVICE_AUTO_START);
    CHECK(config->dwServiceType == SERVICE_WIN32_OWN_PROCESS);
    CHECK(platform::detail::narrow(config->lpDisplayName) == "hvterm install test");

    auto about = query_config2(service.h, SERVICE_CONFIG_DESCRIPTION);
    REQUIRE(!about.empty());
    CHECK(platform::detail::narrow(reinterpret_cast<SERVICE_DESCRIPTIONW*>(about.data())->lpDescription) ==
          "made by tests/windows");
    auto failure_buffer = query_config2(service.h, SERVICE_CONFIG_FAILURE_ACTIONS);
    if (failure_buffer.empty()) {
      MESSAGE("this Service Control Manager cannot report failure actions (Wine's): not checked here");
    } else {
      auto* failure = reinterpret_cast<SERVICE_FAILURE_ACTIONSW*>(failure_buffer.data());
      REQUIRE(failure->cActions == 3);
      CHECK(failure->dwResetPeriod == 24 * 60 * 60);
      const DWORD delays[] = {1000, 5000, 30000};
      for (DWORD i = 0; i < 3; ++i) {
        CHECK(failure->lpsaActions[i].Type == SC_ACTION_RESTART);
        CHECK(failure->lpsaActions[i].Delay == delays[i]);
      }
    }
  }
  CHECK_FALSE(platform::install_service(spec, error, note));
  CHECK(error == "a service named " + name + " exists already (hvtermd --uninstall-service removes it)");
  REQUIRE_MESSAGE(platform::uninstall_service(name, 30000, error), error);
  CHECK_FALSE(platform::uninstall_service(name, 30000, error));
  CHECK(error == "there is no service named " + name);
}
