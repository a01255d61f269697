#pragma once
// The platform seam, running as a system service: the Windows Service Control Manager; elsewhere
// systemd and friends run hvtermd in the foreground and these refuse with the command to use.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace hvterm::platform {

// Windows: hand the main thread to the Service Control Manager and run `body` as the service;
// `request_stop` is called (from another thread) when the SCM asks us to stop. Returns body's exit
// code, or -1 with `error` where this is not possible (not started by the SCM; not Windows).
int run_service(const std::string& name, std::function<int()> body, std::function<void()> request_stop,
                std::string& error);
// Windows: create the service `name` running `argv` (quoted as CommandLineToArgvW splits it): it
// starts with the machine, as LocalSystem, and is restarted when it fails. Elsewhere, and when
// that is refused (not an administrator, a service of that name exists), false with `error`.
// `note` says what it could not set but did without (a setting this SCM does not know).
struct ServiceSpec {
  std::string name, display_name, description;
  std::vector<std::string> argv;
};
bool install_service(const ServiceSpec& spec, std::string& error, std::string& note);
// Windows: stop the service `name` if it runs (waiting up to `stop_timeout_ms`), then delete it.
bool uninstall_service(const std::string& name, uint64_t stop_timeout_ms, std::string& error);

}  // namespace hvterm::platform
