// hvtermd --service: run under the Service Control Manager. The dispatcher takes over the main
// thread and runs the agent on its service thread; a stop or shutdown from the SCM reaches the
// agent's loop through the caller's thread-safe stop hook.
#include "platform/service.h"
#include "platform/windows/internal.h"  // brings windows.h in the order Winsock needs

namespace hvterm::platform {
namespace {

std::wstring g_name;
std::function<int()> g_body;
std::function<void()> g_stop;
SERVICE_STATUS_HANDLE g_handle = nullptr;
SERVICE_STATUS g_status{};
int g_exit_code = 0;

void report(DWORD state, int exit_code = 0) {
  g_status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
  g_status.dwCurrentState = state;
  g_status.dwControlsAccepted = state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
  g_status.dwWin32ExitCode = exit_code == 0 ? NO_ERROR : ERROR_SERVICE_SPECIFIC_ERROR;
  g_status.dwServiceSpecificExitCode = static_cast<DWORD>(exit_code);
  // Hanging up sessions takes a moment; the SCM waits this long before it gives up on us.
  g_status.dwWaitHint = state == SERVICE_STOP_PENDING ? 15000 : 0;
  SetServiceStatus(g_handle, &g_status);
}

DWORD WINAPI on_control(DWORD code, DWORD, LPVOID, LPVOID) {
  switch (code) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
      report(SERVICE_STOP_PENDING);
      if (g_stop) g_stop();
      return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE: return NO_ERROR;
    default: return ERROR_CALL_NOT_IMPLEMENTED;
  }
}

void WINAPI service_main(DWORD, LPWSTR*) {
  g_handle = RegisterServiceCtrlHandlerExW(g_name.c_str(), on_control, nullptr);
  if (g_handle == nullptr) return;
  report(SERVICE_RUNNING);
  g_exit_code = g_body();
  report(SERVICE_STOPPED, g_exit_code);
}

}  // namespace

int run_service(const std::string& name, std::function<int()> body, std::function<void()> request_stop,
                std::string& error) {
  g_name = detail::widen(name);
  g_body = std::move(body);
  g_stop = std::move(request_stop);
  SERVICE_TABLE_ENTRYW table[] = {{g_name.data(), service_main}, {nullptr, nullptr}};
  if (!StartServiceCtrlDispatcherW(table)) {
    DWORD err = GetLastError();
    error = err == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT
                ? "--service is for the Service Control Manager (hvtermd --install-service sets that up); "
                  "in a console run hvtermd without it"
                : "cannot start as a service (Windows error " + std::to_string(err) + ")";
    return -1;
  }
  return g_exit_code;
}

}  // namespace hvterm::platform
