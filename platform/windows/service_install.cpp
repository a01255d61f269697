// hvtermd --install-service / --uninstall-service: the service created and removed through the
// Service Control Manager's own API, with the settings a hand-typed sc.exe line tends to forget
// (quoting of the program's path, a description, restart after a failure).
#include "platform/service.h"
#include "platform/windows/command_line.h"
#include "platform/windows/internal.h"  // brings windows.h in the order Winsock needs

namespace hvterm::platform {
namespace {

// Closes a Service Control Manager handle when it goes.
struct ScHandle {
  SC_HANDLE handle;
  explicit ScHandle(SC_HANDLE h) : handle(h) {}
  ~ScHandle() {
    if (handle != nullptr) CloseServiceHandle(handle);
  }
  ScHandle(const ScHandle&) = delete;
  ScHandle& operator=(const ScHandle&) = delete;
  explicit operator bool() const { return handle != nullptr; }
};

std::string scm_error(const std::string& what, DWORD code) {
  std::string text = what + ": " + detail::system_error_text(code);
  if (code == ERROR_ACCESS_DENIED) text += " (run it as administrator)";
  return text;
}

}  // namespace

bool install_service(const ServiceSpec& spec, std::string& error, std::string& note) {
  ScHandle scm(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CREATE_SERVICE));
  if (!scm) {
    error = scm_error("cannot open the Service Control Manager", GetLastError());
    return false;
  }
  std::wstring name = detail::widen(spec.name), display = detail::widen(spec.display_name);
  std::wstring command = detail::widen(detail::windows_command_line(spec.argv));
  ScHandle service(CreateServiceW(scm.handle, name.c_str(), display.c_str(), SERVICE_ALL_ACCESS,
                                  SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START, SERVICE_ERROR_NORMAL, command.c_str(),
                                  nullptr, nullptr, nullptr, nullptr, nullptr));
  if (!service) {
    DWORD code = GetLastError();
    error = code == ERROR_SERVICE_EXISTS
                ? "a service named " + spec.name + " exists already (hvtermd --uninstall-service removes it)"
                : scm_error("cannot create the service " + spec.name, code);
    return false;
  }
  std::wstring description = detail::widen(spec.description);
  SERVICE_DESCRIPTIONW about{description.data()};
  // Restarted after 1 s, 5 s, then every 30 s; a day without a failure starts the count again.
  SC_ACTION actions[] = {{SC_ACTION_RESTART, 1000}, {SC_ACTION_RESTART, 5000}, {SC_ACTION_RESTART, 30000}};
  SERVICE_FAILURE_ACTIONSW failure{};
  failure.dwResetPeriod = 24 * 60 * 60;
  failure.cActions = static_cast<DWORD>(std::size(actions));
  failure.lpsaActions = actions;
  SERVICE_FAILURE_ACTIONS_FLAG on_error_exit{TRUE};  // an exit with an error counts, not only a crash
  const char* setting = nullptr;
  if (!ChangeServiceConfig2W(service.handle, SERVICE_CONFIG_DESCRIPTION, &about))
    setting = "its description";
  else if (!ChangeServiceConfig2W(service.handle, SERVICE_CONFIG_FAILURE_ACTIONS, &failure))
    setting = "restart after a failure";
  else if (!ChangeServiceConfig2W(service.handle, SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, &on_error_exit)) {
    if (GetLastError() == ERROR_INVALID_LEVEL)  // an SCM that does not know the setting (Wine's)
      note = "this Service Control Manager cannot restart a service after an exit with an error, only after a crash";
    else
      setting = "restart after an exit with an error";
  }
  if (setting != nullptr) {
    error = scm_error(std::string("cannot give the service ") + spec.name + " " + setting, GetLastError());
    DeleteService(service.handle);
    return false;
  }
  return true;
}

bool uninstall_service(const std::string& name, uint64_t stop_timeout_ms, std::string& error) {
  ScHandle scm(OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT));
  if (!scm) {
    error = scm_error("cannot open the Service Control Manager", GetLastError());
    return false;
  }
  std::wstring wide = detail::widen(name);
  ScHandle service(OpenServiceW(scm.handle, wide.c_str(), SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE));
  if (!service) {
    DWORD code = GetLastError();
    error = code == ERROR_SERVICE_DOES_NOT_EXIST ? "there is no service named " + name
                                                 : scm_error("cannot open the service " + name, code);
    return false;
  }
  SERVICE_STATUS status{};
  if (ControlService(service.handle, SERVICE_CONTROL_STOP, &status)) {
    // It hangs up its sessions first: wait for it, so the program file is free when we return.
    for (uint64_t waited = 0; status.dwCurrentState != SERVICE_STOPPED && waited < stop_timeout_ms; waited += 100) {
      Sleep(100);
      if (!QueryServiceStatus(service.handle, &status)) break;
    }
    if (status.dwCurrentState != SERVICE_STOPPED) {
      error = "the service " + name + " did not stop within " + std::to_string(stop_timeout_ms / 1000) + " s";
      return false;
    }
  } else if (GetLastError() != ERROR_SERVICE_NOT_ACTIVE) {
    error = scm_error("cannot stop the service " + name, GetLastError());
    return false;
  }
  if (!DeleteService(service.handle)) {
    error = scm_error("cannot delete the service " + name, GetLastError());
    return false;
  }
  return true;
}

}  // namespace hvterm::platform
