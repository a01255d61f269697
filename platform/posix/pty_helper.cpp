// The --pty-exec helper: runs in the child between uv_spawn and the user's command.
#include <grp.h>
#include <pwd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "platform/process.h"

namespace hvterm::platform {

namespace {

// One line on stderr. On a PTY too a plain \n: the terminal's own output processing (ONLCR) adds
// the \r, and one written here would come out as \r\r\n.
int fail(const std::string& message, int status) {
  std::fprintf(stderr, "hvtermd: %s\n", message.c_str());
  return status;
}

}  // namespace

// argv: hvtermd --pty-exec pty|pipes USER WORKDIR FILE ARGV0 ARGS...
// USER empty: stay the agent's user, in the directory uv_spawn chose. Otherwise become USER and
// enter WORKDIR as USER (empty: USER's home, or / when USER may not enter it, as login(1) does).
int pty_helper_main(int argc, char** argv) {
  if (argc < 7) {
    std::fprintf(stderr, "hvtermd: %s is internal to hvtermd\n", kPtyHelperFlag);
    return 2;
  }
  bool pty = std::strcmp(argv[2], "pty") == 0;
  const char* user = argv[3];
  const char* workdir = argv[4];
  const char* file = argv[5];
  // uv_spawn already made us a session leader; the PTY on stdin becomes our controlling terminal.
  if (pty && ioctl(STDIN_FILENO, TIOCSCTTY, 0) != 0)
    return fail(std::string("cannot acquire the terminal: ") + std::strerror(errno), 126);
  if (user[0] != '\0') {
    struct passwd* pw = getpwnam(user);
    if (pw == nullptr) return fail(std::string("no such user: ") + user, 126);
    // An agent that is not root may only be asked for its own user (the agent checked), and is it.
    bool already = geteuid() != 0 && geteuid() == pw->pw_uid;
    if (!already && (initgroups(pw->pw_name, pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0))
      return fail(std::string("cannot switch to user ") + user + ": " + std::strerror(errno), 126);
    if (workdir[0] != '\0') {
      if (chdir(workdir) != 0)
        return fail(std::string("cannot change to directory ") + workdir + ": " + std::strerror(errno), 126);
    } else if (chdir(pw->pw_dir) != 0 && chdir("/") != 0) {
      return fail(std::string("cannot change to directory /: ") + std::strerror(errno), 126);
    }
  }
  execvp(file, argv + 6);
  int err = errno;
  return fail(std::string(file) + ": " + (err == ENOENT ? "command not found" : std::strerror(err)),
              err == ENOENT ? 127 : 126);
}

}  // namespace hvterm::platform
