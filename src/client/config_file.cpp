#include "client/config_file.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <toml++/toml.h>

#include "client/escape_parser.h"
#include "client/forward_spec.h"
#include "common/target.h"
#include "common/units.h"
#include "protocol/wire.h"

namespace hvterm {
namespace {

enum class Kind { Target, Port, Text, Path, Duration, Escape, Bool, Env, LocalForwards, RemoteForwards };

struct KeySpec {
  const char* name;
  Kind kind;
};

// The long option each key stands for has the same name (reconnect: --no-reconnect).
constexpr KeySpec kKeys[] = {
    {"target", Kind::Target},
    {"port", Kind::Port},
    {"user", Kind::Text},
    {"workdir", Kind::Text},
    {"env", Kind::Env},
    {"escape", Kind::Escape},
    {"token-file", Kind::Path},
    {"connect-timeout", Kind::Duration},
    {"keepalive", Kind::Duration},
    {"dead-timeout", Kind::Duration},
    {"reconnect-timeout", Kind::Duration},
    {"reconnect", Kind::Bool},
    {"quiet", Kind::Bool},
    {"env-forward", Kind::Bool},               // --no-env-forward of shell and exec
    {"local-forward", Kind::LocalForwards},    // --local (-L) of forward, shell and exec
    {"remote-forward", Kind::RemoteForwards},  // --remote (-R)
};

const KeySpec* find_key(std::string_view name) {
  for (const auto& k : kKeys)
    if (name == k.name) return &k;
  return nullptr;
}

std::string known_keys() {
  std::string list;
  for (const auto& k : kKeys) list += (list.empty() ? "" : ", ") + std::string(k.name);
  return list;
}

// Names are what people type as a TARGET: no ':' (that would read as unix:/vsock:...), no spaces.
bool valid_name(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '@' || c == '+';
  });
}

std::string directory_of(const std::string& path) {
  auto slash = path.find_last_of("/\\");
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash == 0 ? 1 : slash);
}

std::string home_directory() {
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0') home = std::getenv("USERPROFILE");
  return home != nullptr ? home : "";
}

class TableReader {
 public:
  TableReader(const std::string& path, std::string& error) : path_(path), error_(error) {}

  bool read(const toml::table& table, bool is_defaults, std::map<std::string, ConfigValue>& values,
            std::vector<ConfigValue>& env) {
    for (auto&& [key, node] : table) {
      std::string name(key.str());
      const KeySpec* spec = find_key(name);
      if (spec == nullptr) return fail(key.source(), "unknown key '" + name + "' (known: " + known_keys() + ")");
      if (is_defaults && spec->kind == Kind::Target)
        return fail(key.source(), "'target' belongs in a named table such as [web1], not in [defaults]");
      if (spec->kind == Kind::Env) {
        if (!read_env(node, env)) return false;
        continue;
      }
      std::string text;
      if (!read_value(*spec, node, text)) return false;
      values[name] = {text, origin(node.source())};
    }
    return true;
  }

  std::string origin(const toml::source_region& where) const { return path_ + ":" + std::to_string(where.begin.line); }

  bool fail(const toml::source_region& where, const std::string& why) {
    error_ = origin(where) + ": " + why;
    return false;
  }

 private:
  bool read_value(const KeySpec& spec, const toml::node& node, std::string& text) {
    std::string key = spec.name;
    if (spec.kind == Kind::LocalForwards || spec.kind == Kind::RemoteForwards) return read_forwards(spec, node, text);
    if (spec.kind == Kind::Bool) {
      auto b = node.value_exact<bool>();
      if (!b) return fail(node.source(), key + " is true or false");
      text = *b ? "true" : "false";
      return true;
    }
    if (spec.kind == Kind::Port) {
      auto n = node.value_exact<int64_t>();
      auto port = n && *n > 0 ? parse_port(std::to_string(*n)) : std::nullopt;
      if (!port) return fail(node.source(), "port is a number from 1 to 4294967294");
      text = std::to_string(*port);
      return true;
    }
    auto s = node.value_exact<std::string>();
    if (!s) {
      std::string example = spec.kind == Kind::Duration ? "\"30s\"" : "\"...\"";
      return fail(node.source(), key + " is a quoted string, such as " + key + " = " + example);
    }
    text = *s;
    std::string why;
    switch (spec.kind) {
      case Kind::Target:
        if (!parse_target(text, wire::kDefaultPort, why)) return fail(node.source(), why);
        break;
      case Kind::Duration:
        if (auto ms = parse_duration_ms(text); !ms || *ms == 0)
          return fail(node.source(), key + ": '" + text + "' is not a duration such as 10s or 5m");
        break;
      case Kind::Escape:
        if (!parse_escape_char(text))
          return fail(node.source(), "escape is one character, ^X for a control character, or \"none\"");
        break;
      case Kind::Path:
        if (text.empty()) return fail(node.source(), key + " is empty");
        text = expand_config_path(text, directory_of(path_), home_directory());
        break;
      case Kind::Text:
        if (text.empty()) return fail(node.source(), key + " is empty (leave it out for the default)");
        break;
      default: break;
    }
    return true;
  }

  // A list of -L or -R values, each checked as the command line checks it; kept one per line
  // (config_list_items reads them back).
  bool read_forwards(const KeySpec& spec, const toml::node& node, std::string& text) {
    std::string key = spec.name;
    const toml::array* list = node.as_array();
    std::string shape = key + " is a list of \"[BIND:]PORT:DESTINATION\" strings, such as [\"8080:80\"]";
    if (list == nullptr) return fail(node.source(), shape);
    for (const toml::node& item : *list) {
      auto spec_text = item.value_exact<std::string>();
      if (!spec_text) return fail(item.source(), shape);
      std::string why;
      bool ok = spec.kind == Kind::LocalForwards ? parse_local_forward(*spec_text, why).has_value()
                                                 : parse_remote_forward(*spec_text, why).has_value();
      if (!ok) return fail(item.source(), key + ": " + why);
      text += (text.empty() ? "" : "\n") + *spec_text;
    }
    return true;
  }

  bool read_env(const toml::node& node, std::vector<ConfigValue>& env) {
    const toml::array* list = node.as_array();
    if (list == nullptr) return fail(node.source(), "env is a list of \"KEY=VALUE\" strings");
    for (const toml::node& item : *list) {
      auto kv = item.value_exact<std::string>();
      if (!kv) return fail(item.source(), "env is a list of \"KEY=VALUE\" strings");
      if (kv->find('=') == std::string::npos || (*kv)[0] == '=')
        return fail(item.source(), "env takes KEY=VALUE, got '" + *kv + "'");
      env.push_back({*kv, origin(item.source())});
    }
    return true;
  }

  const std::string& path_;
  std::string& error_;
};

std::string env_name(const std::string& kv) { return kv.substr(0, kv.find('=')); }

}  // namespace

std::vector<std::string> config_list_items(const ConfigValue& value) {
  std::vector<std::string> items;
  for (size_t start = 0; start <= value.text.size();) {
    size_t end = std::min(value.text.find('\n', start), value.text.size());
    items.push_back(value.text.substr(start, end - start));
    start = end + 1;
  }
  return items;
}

const std::vector<std::string>& config_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k;
    for (const auto& spec : kKeys) k.emplace_back(spec.name);
    return k;
  }();
  return keys;
}

std::string expand_config_path(const std::string& path, const std::string& base_dir, const std::string& home) {
  if (path == "~") return home;
  if (path.rfind("~/", 0) == 0) return home + path.substr(1);
  bool absolute = path[0] == '/' || path[0] == '\\' || (path.size() > 1 && path[1] == ':');
  if (absolute) return path;
  return base_dir + "/" + path;
}

bool ConfigFiles::add_file(const std::string& path, bool must_exist, std::string& error) {
  // A file hvterm only looks for and cannot open (absent; another user's home in $HOME; a system
  // file kept from users) counts as none, as ssh treats its own; `hvterm config` says which.
  auto unusable = [&](const std::string& why) {
    if (must_exist) {
      error = "cannot read the config file " + path + ": " + why;
      return false;
    }
    sources_.push_back({path, false, why});
    return true;
  };
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return unusable("it is a directory");  // an ifstream reads it as empty
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    int err = errno;
    return unusable(err == ENOENT && !must_exist ? std::string("absent") : std::strerror(err));
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return unusable("read error");
  return add_text(text.str(), path, error);
}

bool ConfigFiles::add_text(const std::string& text, const std::string& path, std::string& error) {
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    std::string why(e.description());
    std::replace(why.begin(), why.end(), '\n', ' ');
    error = path + ":" + std::to_string(e.source().begin.line) + ": " + why;
    return false;
  }
  File file;
  TableReader reader(path, error);
  for (auto&& [key, node] : root) {
    std::string name(key.str());
    const toml::table* table = node.as_table();
    if (table == nullptr)
      return reader.fail(key.source(), "'" + name + "' is outside a table: put settings under [defaults] or [NAME]");
    bool is_defaults = name == "defaults";
    if (!is_defaults && !valid_name(name))
      return reader.fail(key.source(), "'" + name + "' is not a usable name (letters, digits, '-', '_', '.'; no ':')");
    Table read;
    if (!reader.read(*table, is_defaults, read.values, read.env)) return false;
    if (is_defaults)
      file.defaults = std::move(read);
    else
      file.named[name] = std::move(read);
  }
  layers_.push_back(std::move(file));
  sources_.push_back({path, true, {}});
  return true;
}

std::vector<std::string> ConfigFiles::names() const {
  std::vector<std::string> out;
  for (const auto& layer : layers_)
    for (const auto& [name, table] : layer.named) out.push_back(name);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

ResolvedConfig ConfigFiles::resolve(const std::string& name) const {
  ResolvedConfig out;
  std::vector<std::string> env_seen;
  auto take = [&](const Table& table) {
    for (const auto& [key, value] : table.values) out.values.emplace(key, value);  // the first one stays
    for (const auto& kv : table.env) {
      std::string var = env_name(kv.text);
      if (std::find(env_seen.begin(), env_seen.end(), var) != env_seen.end()) continue;
      env_seen.push_back(var);
      out.env.push_back(kv);
    }
  };
  for (const auto& layer : layers_) {
    if (auto it = layer.named.find(name); it != layer.named.end()) {
      out.named = true;
      take(it->second);
    }
    if (layer.defaults) take(*layer.defaults);
  }
  return out;
}

}  // namespace hvterm
