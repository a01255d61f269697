// The --pty-exec helper: runs in the child between uv_spawn and the user's command.
#include <grp.h>
#include <pwd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "platform/platform.h"

namespace hvterm::platform {

// argv: hvtermd --pty-exec pty|pipes USER FILE ARGV0 ARGS...
int pty_helper_main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "hvtermd: %s is internal to hvtermd\n", kPtyHelperFlag);
    return 2;
  }
  bool pty = std::strcmp(argv[2], "pty") == 0;
  const char* user = argv[3];
  const char* file = argv[4];
  // uv_spawn already made us a session leader; the PTY on stdin becomes our controlling terminal.
  if (pty && ioctl(STDIN_FILENO, TIOCSCTTY, 0) != 0) {
    std::fprintf(stderr, "hvtermd: cannot acquire the terminal: %s\r\n", std::strerror(errno));
    return 126;
  }
  if (user[0] != '\0') {
    struct passwd* pw = getpwnam(user);
    if (pw == nullptr) {
      std::fprintf(stderr, "hvtermd: no such user: %s\r\n", user);
      return 126;
    }
    if (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0) {
      std::fprintf(stderr, "hvtermd: cannot switch to user %s: %s\r\n", user, std::strerror(errno));
      return 126;
    }
  }
  execvp(file, argv + 5);
  int err = errno;
  std::fprintf(stderr, "hvtermd: %s: %s%s", file, err == ENOENT ? "command not found" : std::strerror(err),
               pty ? "\r\n" : "\n");
  return err == ENOENT ? 127 : 126;
}

}  // namespace hvterm::platform
