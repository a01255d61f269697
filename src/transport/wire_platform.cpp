#include "transport/wire_platform.h"

namespace hvterm {

platform::TerminalSize to_platform(const wire::WinSize& size) {
  return {size.rows, size.cols, size.xpixel, size.ypixel};
}

wire::WinSize to_wire(const platform::TerminalSize& size) { return {size.rows, size.cols, size.xpixel, size.ypixel}; }

wire::Exit to_wire(const platform::ExitStatus& status) {
  wire::ExitKind kind = wire::ExitKind::Exited;
  switch (status.kind) {
    case platform::ExitKind::Exited: kind = wire::ExitKind::Exited; break;
    case platform::ExitKind::Signaled: kind = wire::ExitKind::Signaled; break;
    case platform::ExitKind::NotFound: kind = wire::ExitKind::NotFound; break;
    case platform::ExitKind::CannotExecute: kind = wire::ExitKind::CannotExecute; break;
  }
  return wire::Exit{kind, status.code, status.message};
}

int to_platform_signal(uint8_t wire_signal) { return wire_signal; }

}  // namespace hvterm
