#pragma once
// What a Windows child is started with: one command line, one environment block, and how its exit
// code reads as an exit status. Pure functions (tested in tests/windows).
#include <cstdint>
#include <string>
#include <vector>

#include "platform/process.h"

namespace hvterm::platform::detail {

// argv joined so that CommandLineToArgvW and the C runtime split it back into the same strings.
std::string windows_command_line(const std::vector<std::string>& argv);

// `base` with each KEY=VALUE of `overrides` replacing the entry of the same key, compared without
// regard to ASCII case as Windows does ("Path" and "PATH" are one variable).
std::vector<std::string> merge_environment(std::vector<std::string> base, const std::vector<std::string>& overrides);

// The UTF-16 block CreateProcessW takes: entries sorted without regard to case, each NUL-terminated,
// and a final NUL.
std::wstring environment_block(const std::vector<std::string>& environment);

// A Windows exit code as an exit status. `signal_sent` is the signal (sig::) we terminated the process
// for (0 if none); a process ended by Ctrl+C (STATUS_CONTROL_C_EXIT) reads as killed by SIGINT.
ExitStatus exit_status_from_code(uint32_t code, int signal_sent);

}  // namespace hvterm::platform::detail
