#pragma once
// Named targets and their defaults, read from TOML files (hvterm-config(5)), as ssh_config does:
//
//   [defaults]               # for every target
//   escape = "%"
//   [web1]                   # `hvterm shell web1`
//   target = "vsock:3"       # default: the name itself (a VM name)
//   user = "alice"
//   env = ["EDITOR=vim"]
//
// Files are added most important first (the user's, then the system's); within a file a name's own
// table comes before [defaults]. The first value found for a key wins, and the command line beats
// them all. Every value is checked when its file is read: a mistake anywhere is an error that names
// the file and line, even in a table the command at hand does not use.
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace hvterm {

// A value and where it was set ("FILE:LINE").
struct ConfigValue {
  std::string text;
  std::string origin;
};

// What applies to one name. `values` holds every key but env, in the text form the matching
// command-line option takes (booleans as "true"/"false").
struct ResolvedConfig {
  std::map<std::string, ConfigValue> values;
  std::vector<ConfigValue> env;  // KEY=VALUE, one per variable, the winning definition of each
  bool named = false;            // the name has a table of its own
};

// A value's items: one for most keys, each entry of a list key (the forwards).
std::vector<std::string> config_list_items(const ConfigValue& value);

// The keys a table may hold, in the order `hvterm config NAME` shows them.
const std::vector<std::string>& config_keys();

class ConfigFiles {
 public:
  // Adds a file. One that cannot be opened adds nothing, unless `must_exist` (-F FILE): then it is
  // an error. What it says is checked either way.
  bool add_file(const std::string& path, bool must_exist, std::string& error);
  // Adds TOML text as if read from `path` (relative paths in it resolve against its directory).
  bool add_text(const std::string& text, const std::string& path, std::string& error);

  // The configured names (tables other than [defaults]), sorted, each once.
  std::vector<std::string> names() const;
  ResolvedConfig resolve(const std::string& name) const;
  // The files asked for so far, in order: read, or why not ("absent", "Permission denied").
  struct Source {
    std::string path;
    bool present;
    std::string problem;
  };
  const std::vector<Source>& sources() const { return sources_; }

 private:
  struct Table {
    std::map<std::string, ConfigValue> values;
    std::vector<ConfigValue> env;
  };
  struct File {
    std::map<std::string, Table> named;
    std::optional<Table> defaults;
  };
  std::vector<File> layers_;
  std::vector<Source> sources_;
};

// "~/x" with the home directory; a relative path against `base_dir`.
std::string expand_config_path(const std::string& path, const std::string& base_dir, const std::string& home);

}  // namespace hvterm
