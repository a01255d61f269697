#pragma once
// The wire's terminal sizes, exit statuses and signal numbers as the platform layer's own types
// and back: the platform knows nothing of the protocol, so the two meet here.
#include <cstdint>

#include "platform/process.h"
#include "platform/terminal.h"
#include "protocol/wire.h"

namespace hvterm {

platform::TerminalSize to_platform(const wire::WinSize& size);
wire::WinSize to_wire(const platform::TerminalSize& size);
wire::Exit to_wire(const platform::ExitStatus& status);
// Wire signal numbers are the classic POSIX numbers, which is also how the platform names signals.
int to_platform_signal(uint8_t wire_signal);

}  // namespace hvterm
