#include "protocol/validate.h"

#include <algorithm>
#include <cstring>

namespace hvterm::wire {
namespace {

bool has_nul(const std::string& s) { return s.find('\0') != std::string::npos; }

bool letter_or_digit(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

}  // namespace

std::string hello_problem(std::string_view payload) {
  if (payload.size() < sizeof kMagic || std::memcmp(payload.data(), kMagic, sizeof kMagic) != 0)
    return "not an hvterm HELLO (the magic is not HVTM)";
  return "HELLO of " + std::to_string(payload.size()) + " bytes is cut short";
}

uint16_t common_version(uint16_t peer_version) {
  if (peer_version < kMinVersion) return 0;
  return std::min(peer_version, kVersion);
}

std::string answered_version_problem(uint16_t answered) {
  if (answered >= kMinVersion && answered <= kVersion) return "";
  return "the agent answered in protocol version " + std::to_string(answered) + "; this hvterm speaks " +
         (kMinVersion == kVersion ? "only version " + std::to_string(kVersion)
                                  : "versions " + std::to_string(kMinVersion) + " to " + std::to_string(kVersion));
}

std::string session_name_problem(const std::string& name) {
  const std::string rule = "a session name is 1-" + std::to_string(kMaxSessionNameBytes) +
                           " letters, digits, '.', '_' or '-', starting with a letter or digit";
  // Said as a code when it would not print: the message is one line whatever the name holds.
  auto shown = [](char c) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == ' ') return std::string("a space");
    return u >= 0x21 && u < 0x7f ? "'" + std::string(1, c) + "'" : "byte " + std::to_string(u);
  };
  if (name.empty()) return rule + "; this one is empty";
  if (name.size() > kMaxSessionNameBytes) return rule + "; this one has " + std::to_string(name.size()) + " characters";
  if (!letter_or_digit(name[0])) return rule + "; this one starts with " + shown(name[0]);
  for (char c : name)
    if (!letter_or_digit(c) && c != '.' && c != '_' && c != '-') return rule + "; this one has " + shown(c);
  return {};
}

std::string open_problem(const Open& open) {
  // Every one of these reaches the program as a C string: a NUL would silently cut it short.
  if (has_nul(open.term)) return "OPEN: TERM contains a NUL byte";
  if (has_nul(open.cwd)) return "OPEN: the working directory contains a NUL byte";
  if (has_nul(open.user)) return "OPEN: the user name contains a NUL byte";
  for (size_t i = 0; i < open.argv.size(); ++i)
    if (has_nul(open.argv[i])) return "OPEN: argv[" + std::to_string(i) + "] contains a NUL byte";
  if (!open.name.empty()) {
    if (!runs_program(open.mode)) return "OPEN: only a session that runs a program takes a name";
    if (auto problem = session_name_problem(open.name); !problem.empty()) return "OPEN: " + problem;
  }
  if (open.mode == SessionMode::Copy) {
    if (!open.argv.empty() || !open.env.empty() || !open.user.empty() || !open.cwd.empty() || !open.term.empty())
      return "OPEN: a copy takes no command, environment, user, working directory or TERM";
    if ((open.copy.flags & ~CopySpec::kKnownFlags) != 0) return "OPEN: unknown copy flags";
    if (open.copy.paths.empty()) return "OPEN: a copy names no path";
    if (open.copy.direction == CopySpec::Direction::IntoGuest && open.copy.paths.size() != 1)
      return "OPEN: a copy into the guest names one destination";
    for (const auto& path : open.copy.paths) {
      if (path.empty()) return "OPEN: a copy names an empty path";
      if (has_nul(path)) return "OPEN: a copy path contains a NUL byte";
    }
  }
  if (carries_socket(open.mode)) {
    // A connection or listener runs no program: fields that would shape one have nothing to apply to.
    if (!open.argv.empty() || !open.env.empty() || !open.user.empty() || !open.cwd.empty())
      return std::string("OPEN: a ") + session_mode_name(open.mode) +
             " takes no command, environment, user or working directory";
    const Destination& d = open.destination;
    if (has_nul(d.host)) return "OPEN: the destination contains a NUL byte";
    if (d.kind == Destination::Kind::Tcp) {
      if (d.port == 0)
        return open.mode == SessionMode::Connection ? "OPEN: TCP port 0 is no port to connect to"
                                                    : "OPEN: TCP port 0 is no port to listen on";
      if (d.host.size() > 255) return "OPEN: the host name is longer than 255 bytes";
    } else {
      if (d.host.empty()) return "OPEN: the destination path is empty";
      if (d.port != 0) return "OPEN: a socket path or pipe takes no port";
    }
  }
  for (size_t i = 0; i < open.env.size(); ++i) {
    const std::string& entry = open.env[i];
    if (has_nul(entry)) return "OPEN: environment entry " + std::to_string(i) + " contains a NUL byte";
    // Without a name, or without "=", the entry is no assignment (and would unset an inherited variable).
    size_t equals = entry.find('=');
    if (equals == std::string::npos || equals == 0)
      return "OPEN: environment entry " + std::to_string(i) + " is not NAME=VALUE";
  }
  return {};
}

}  // namespace hvterm::wire
