// Users on POSIX systems: the passwd database.
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>

#include "platform/system.h"

namespace hvterm::platform {
namespace {

std::optional<UserInfo> from_passwd(const passwd* pw) {
  if (pw == nullptr) return std::nullopt;
  return UserInfo{pw->pw_name, pw->pw_dir, pw->pw_shell && *pw->pw_shell ? pw->pw_shell : "/bin/sh",
                  static_cast<uint32_t>(pw->pw_uid), static_cast<uint32_t>(pw->pw_gid)};
}

}  // namespace

std::optional<UserInfo> current_user() {
  auto user = from_passwd(getpwuid(geteuid()));
  if (user) return user;
  // A uid with no passwd entry (containers): still usable.
  const char* home = std::getenv("HOME");
  const char* shell = std::getenv("SHELL");
  return UserInfo{std::to_string(geteuid()), home ? home : "/", shell ? shell : "/bin/sh",
                  static_cast<uint32_t>(geteuid()), static_cast<uint32_t>(getegid())};
}

std::optional<UserInfo> lookup_user(const std::string& name) { return from_passwd(getpwnam(name.c_str())); }

}  // namespace hvterm::platform
