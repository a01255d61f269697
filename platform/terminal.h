#pragma once
// The platform seam, terminals: the user's own terminal on the client side (raw mode, size,
// suspend) and the size of any terminal, a session's PTY included.
#include <uv.h>  // on Windows, SIGHUP and SIGWINCH: libuv defines them

#include <csignal>
#include <cstdint>
#include <memory>
#include <string>

namespace hvterm::platform {

// A terminal's size in character cells (and pixels, where known; 0 otherwise).
struct TerminalSize {
  uint16_t rows = 24, cols = 80, xpixel = 0, ypixel = 0;
  bool operator==(const TerminalSize&) const = default;
};

class Terminal {
 public:
  virtual ~Terminal() = default;
  virtual bool make_raw(std::string& error) = 0;  // saves the current mode first
  virtual void restore() = 0;                     // back to exactly the saved mode; idempotent
  virtual TerminalSize size() = 0;
  // Stop this process like ^Z would (terminal restored meanwhile, raw again after resume).
  virtual void suspend() = 0;
};
bool is_terminal(int fd);
std::unique_ptr<Terminal> open_terminal(int fd);

// The terminal signals hvterm passes on to the remote program, in this OS's own numbering
// (Windows has no SIGQUIT; libuv makes the others from console events there).
#ifdef _WIN32
inline constexpr int kForwardedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGWINCH};
#else
inline constexpr int kForwardedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGWINCH, SIGQUIT};
#endif

}  // namespace hvterm::platform
