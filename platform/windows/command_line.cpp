#include "platform/windows/command_line.h"

#include <algorithm>

#include "platform/process.h"
#include "platform/windows/internal.h"

namespace hvterm::platform::detail {
namespace {

constexpr uint32_t kStatusControlCExit = 0xC000013Au;

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// "=C:=C:\dir" (the per-drive current directories) has its key after the leading '='.
std::string key_of(const std::string& entry) {
  size_t equals = entry.find('=', 1);
  std::string key = entry.substr(0, equals == std::string::npos ? entry.size() : equals);
  std::transform(key.begin(), key.end(), key.begin(), lower);
  return key;
}

}  // namespace

std::string windows_command_line(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& arg : argv) {
    if (!line.empty()) line.push_back(' ');
    if (!arg.empty() && arg.find_first_of(" \t\n\v\"") == std::string::npos) {
      line += arg;
      continue;
    }
    // Backslashes are literal except before a quote: there they double, plus one to escape it.
    line.push_back('"');
    size_t backslashes = 0;
    for (char c : arg) {
      if (c == '\\') {
        ++backslashes;
        continue;
      }
      line.append(c == '"' ? backslashes * 2 + 1 : backslashes, '\\');
      backslashes = 0;
      line.push_back(c);
    }
    line.append(backslashes * 2, '\\');
    line.push_back('"');
  }
  return line;
}

std::vector<std::string> merge_environment(std::vector<std::string> base, const std::vector<std::string>& overrides) {
  for (const auto& entry : overrides) {
    std::string key = key_of(entry);
    auto same = [&key](const std::string& existing) { return key_of(existing) == key; };
    auto it = std::find_if(base.begin(), base.end(), same);
    if (it != base.end())
      *it = entry;
    else
      base.push_back(entry);
  }
  return base;
}

std::wstring environment_block(const std::vector<std::string>& environment) {
  std::vector<std::string> sorted = environment;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const std::string& a, const std::string& b) { return key_of(a) < key_of(b); });
  std::wstring block;
  for (const auto& entry : sorted) {
    if (entry.empty()) continue;  // an empty entry would end the block early
    block += widen(entry);
    block.push_back(L'\0');
  }
  block.push_back(L'\0');
  return block;
}

ExitStatus exit_status_from_code(uint32_t code, int signal_sent) {
  ExitStatus status;
  if (signal_sent != 0 || code == kStatusControlCExit) {
    status.kind = ExitKind::Signaled;
    status.code = signal_sent != 0 ? signal_sent : sig::kInt;
  } else {
    status.code = static_cast<int>(code);
  }
  return status;
}

}  // namespace hvterm::platform::detail
