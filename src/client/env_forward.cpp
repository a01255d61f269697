#include "client/env_forward.h"

#include <uv.h>

#include <algorithm>

namespace hvterm {

bool forwarded_variable(std::string_view name) {
  return name == "LANG" || name == "COLORTERM" || (name.size() > 3 && name.substr(0, 3) == "LC_");
}

std::vector<std::string> forwarded_environment(const std::vector<std::pair<std::string, std::string>>& environment) {
  std::vector<std::pair<std::string, std::string>> kept;
  for (const auto& variable : environment)
    if (forwarded_variable(variable.first)) kept.push_back(variable);
  std::sort(kept.begin(), kept.end());
  std::vector<std::string> out;
  for (const auto& [name, value] : kept) out.push_back(name + "=" + value);
  return out;
}

std::vector<std::pair<std::string, std::string>> local_environment() {
  std::vector<std::pair<std::string, std::string>> out;
  uv_env_item_t* items = nullptr;
  int count = 0;
  if (uv_os_environ(&items, &count) != 0) return out;  // out of memory: nothing is forwarded
  for (int i = 0; i < count; ++i) out.emplace_back(items[i].name, items[i].value);
  uv_os_free_environ(items, count);
  return out;
}

}  // namespace hvterm
