#pragma once
// PTY sessions on a Windows pseudo console (ConPTY, Windows 10 1809 and later).
#include "platform/process.h"
#include "platform/terminal.h"

namespace hvterm::platform::detail {

// Start argv[0] attached to a new pseudo console of `size`; nullptr with `failure` filled when the
// console or the process cannot be created (or this Windows has no ConPTY).
std::unique_ptr<Child> spawn_conpty(uv_loop_t* loop, const std::vector<std::string>& argv,
                                    const std::vector<std::string>& env, const std::string& cwd,
                                    const TerminalSize& size, ExitCallback on_exit, ExitStatus& failure);

}  // namespace hvterm::platform::detail
