#pragma once
// What of the user's environment a session gets without being asked (--no-env-forward: nothing):
// the locale and the terminal's colour support, as Debian's ssh sends LANG and LC_* (SendEnv). A
// service's agent runs with an empty environment, where programs would fall back to ASCII. TERM
// has a field of its own in OPEN.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hvterm {

// LANG, LC_ALL, LC_CTYPE and the other LC_ variables, COLORTERM.
bool forwarded_variable(std::string_view name);

// NAME=VALUE of each forwarded variable of `environment`, sorted by name (a request that does not
// depend on the order the system lists them in).
std::vector<std::string> forwarded_environment(const std::vector<std::pair<std::string, std::string>>& environment);

// This process's environment.
std::vector<std::pair<std::string, std::string>> local_environment();

}  // namespace hvterm
