#include "client/config_command.h"

#include "platform/system.h"
#include <algorithm>
#include <cstdlib>
#include <iostream>

namespace hvterm {
namespace {

void print_row(const std::string& a, const std::string& b, const std::string& c, size_t width_a, size_t width_b) {
  std::string line = a + std::string(width_a > a.size() ? width_a - a.size() : 0, ' ') + "  " + b;
  if (!c.empty()) line += std::string(width_b > b.size() ? width_b - b.size() : 0, ' ') + "  " + c;
  std::cout << line << "\n";
}

struct Row {
  std::string a, b, c;
};

void print_table(const std::vector<Row>& rows) {
  size_t wa = 0, wb = 0;
  for (const auto& r : rows) {
    wa = std::max(wa, r.a.size());
    wb = std::max(wb, r.b.size());
  }
  for (const auto& r : rows) print_row(r.a, r.b, r.c, wa, wb);
}

std::string files_line(const ConfigFiles& config) {
  std::string line = "Files:";
  for (const auto& source : config.sources())
    line += " " + source.path + (source.present ? "" : " (" + source.problem + ")") + ";";
  if (config.sources().empty()) return "Files: none";
  line.pop_back();
  return line;
}

}  // namespace

bool load_config(const std::string& explicit_file, ConfigFiles& config, std::string& error) {
  if (!explicit_file.empty()) return config.add_file(explicit_file, true, error);
  std::string user = platform::user_config_file();
  if (!user.empty() && !config.add_file(user, false, error)) return false;
  const char* system_override = std::getenv("HVTERM_CONFIG_SYSTEM");
  std::string system = system_override != nullptr ? system_override : platform::system_config_file();
  return system.empty() || config.add_file(system, false, error);
}

int command_config(const ConfigFiles& config, const std::string& name, bool names_only,
                   const std::vector<BuiltinValue>& builtins) {
  if (names_only) {
    for (const auto& n : config.names()) std::cout << n << "\n";
    return 0;
  }
  if (name.empty()) {
    std::vector<Row> rows{{"NAME", "TARGET", "FROM"}};
    for (const auto& n : config.names()) {
      auto resolved = config.resolve(n);
      auto target = resolved.values.find("target");
      if (target != resolved.values.end())
        rows.push_back({n, target->second.text, target->second.origin});
      else
        rows.push_back({n, n, "(the name itself)"});
    }
    if (rows.size() == 1)
      std::cout << "No named targets.\n";
    else
      print_table(rows);
    std::cout << files_line(config) << "\n";
    return 0;
  }
  auto resolved = config.resolve(name);
  std::vector<Row> rows{{"KEY", "VALUE", "FROM"}};
  for (const auto& key : config_keys()) {
    if (key == "env") {
      for (const auto& kv : resolved.env) rows.push_back({key, kv.text, kv.origin});
      if (resolved.env.empty()) rows.push_back({key, "-", "built-in"});
      continue;
    }
    if (auto it = resolved.values.find(key); it != resolved.values.end()) {
      for (auto& item : config_list_items(it->second)) rows.push_back({key, std::move(item), it->second.origin});
    } else if (key == "target") {
      rows.push_back({key, name, resolved.named ? "(the name itself)" : "(not a configured name: taken as a TARGET)"});
    } else {
      auto builtin = std::find_if(builtins.begin(), builtins.end(),
                                  [&](const BuiltinValue& b) { return b.key == key; });
      rows.push_back({key, builtin != builtins.end() ? builtin->text : "-", "built-in"});
    }
  }
  print_table(rows);
  std::cout << files_line(config) << "\n";
  return 0;
}

}  // namespace hvterm
