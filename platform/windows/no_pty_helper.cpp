// Windows needs no helper between the agent and the child: ConPTY attaches the console itself.
#include <cstdio>

#include "platform/process.h"

namespace hvterm::platform {

int pty_helper_main(int, char**) {
  std::fprintf(stderr, "hvtermd: %s is not used on Windows\n", kPtyHelperFlag);
  return 2;
}

}  // namespace hvterm::platform
