#pragma once
// Finding the config files, applying what they say to a command line, and `hvterm config`.
#include <string>
#include <vector>

#include "client/config_file.h"

namespace hvterm {

// -F FILE alone when given; else the user's file, then the system's (HVTERM_CONFIG_SYSTEM names
// another system file, as GIT_CONFIG_SYSTEM does for git; empty: none).
bool load_config(const std::string& explicit_file, ConfigFiles& config, std::string& error);

// A row of `hvterm config NAME` for a key no file sets: the built-in value and what it means.
struct BuiltinValue {
  std::string key, text;
};

// `hvterm config`: the names and their targets. With NAME: every key, its value and where it came
// from. With names_only: the names, one per line (for shell completion).
int command_config(const ConfigFiles& config, const std::string& name, bool names_only,
                   const std::vector<BuiltinValue>& builtins);

}  // namespace hvterm
