// Where hvterm's config files are on POSIX systems: the XDG base directory for the user's,
// the build's SYSCONFDIR for the system's.
#include <cstdlib>

#include "platform/system.h"

namespace hvterm::platform {

std::string user_config_file() {
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg != nullptr && xdg[0] == '/')
    return std::string(xdg) + "/hvterm/config";  // relative: ignored, as the spec says
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home != '\0') return std::string(home) + "/.config/hvterm/config";
  auto user = current_user();
  return user && !user->home.empty() ? user->home + "/.config/hvterm/config" : std::string();
}

std::string system_config_file() { return HVTERM_SYSCONFDIR "/hvterm/config"; }

}  // namespace hvterm::platform
