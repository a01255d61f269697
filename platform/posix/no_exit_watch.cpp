// No pidfd on this system: children stay with libuv's SIGCHLD handler (platform/posix/internal.h).
#include "platform/posix/internal.h"

namespace hvterm::platform::detail {

std::unique_ptr<ExitWatch> watch_exit(uv_loop_t*, int, std::function<void(int64_t, int)>) { return nullptr; }

}  // namespace hvterm::platform::detail
