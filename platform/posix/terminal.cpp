// The local terminal of the client: raw mode exactly like ssh's, restored byte for byte.
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "platform/terminal.h"

namespace hvterm::platform {
namespace {

class PosixTerminal final : public Terminal {
 public:
  explicit PosixTerminal(int fd) : fd_(fd) {}
  ~PosixTerminal() override { restore(); }

  bool make_raw(std::string& error) override {
    if (!saved_valid_) {
      if (tcgetattr(fd_, &saved_) != 0) {
        error = std::string("cannot read the terminal mode: ") + std::strerror(errno);
        return false;
      }
      saved_valid_ = true;
    }
    termios raw = saved_;
    raw.c_iflag |= IGNPAR;
    raw.c_iflag &= ~static_cast<tcflag_t>(ISTRIP | INLCR | IGNCR | ICRNL | IXON | IXANY | IXOFF);
#ifdef IUCLC
    raw.c_iflag &= ~static_cast<tcflag_t>(IUCLC);
#endif
    raw.c_lflag &= ~static_cast<tcflag_t>(ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHONL | IEXTEN);
    // Output passes through untouched: the remote PTY already did its own output processing.
    raw.c_oflag &= ~static_cast<tcflag_t>(OPOST);
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    if (tcsetattr(fd_, TCSADRAIN, &raw) != 0) {
      error = std::string("cannot set the terminal to raw mode: ") + std::strerror(errno);
      return false;
    }
    raw_ = true;
    return true;
  }

  void restore() override {
    if (!raw_) return;
    tcsetattr(fd_, TCSADRAIN, &saved_);
    raw_ = false;
  }

  TerminalSize size() override {
    winsize w{};
    TerminalSize s;
    if (ioctl(fd_, TIOCGWINSZ, &w) == 0 && w.ws_row > 0 && w.ws_col > 0) {
      s.rows = w.ws_row;
      s.cols = w.ws_col;
      s.xpixel = w.ws_xpixel;
      s.ypixel = w.ws_ypixel;
    }
    return s;
  }

  void suspend() override {
    bool was_raw = raw_;
    restore();
    // Stop like ^Z: default action of SIGTSTP for our whole process group (the shell sees it).
    struct sigaction previous {
    }, dfl{};
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGTSTP, &dfl, &previous);
    kill(0, SIGTSTP);
    sigaction(SIGTSTP, &previous, nullptr);
    std::string ignored;
    if (was_raw) make_raw(ignored);
  }

 private:
  int fd_;
  termios saved_{};
  bool saved_valid_ = false;
  bool raw_ = false;
};

}  // namespace

bool is_terminal(int fd) { return isatty(fd) == 1; }

std::unique_ptr<Terminal> open_terminal(int fd) { return std::make_unique<PosixTerminal>(fd); }

}  // namespace hvterm::platform
