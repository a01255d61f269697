// Where hvterm's config files are on Windows: the roaming application data of the user, and
// ProgramData for the machine.
#include <cstdlib>

#include "platform/system.h"

namespace hvterm::platform {

namespace {
std::string under(const char* variable) {
  const char* base = std::getenv(variable);
  return base != nullptr && *base != '\0' ? std::string(base) + "\\hvterm\\config" : std::string();
}
}  // namespace

std::string user_config_file() { return under("APPDATA"); }
std::string system_config_file() { return under("ProgramData"); }

}  // namespace hvterm::platform
