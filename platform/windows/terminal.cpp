// The client's console. Raw input with VT key sequences, VT output, UTF-8 code pages; the saved
// modes come back on every exit path: restore(), the destructor, exit() (atexit) and the console
// events after which Windows ends the process (window closed, logoff, shutdown, Ctrl+Break).
#include <cstdlib>
#include <mutex>

#include "platform/terminal.h"
#include "platform/windows/console_modes.h"
#include "platform/windows/internal.h"

namespace hvterm::platform {
namespace {

class Console final : public detail::ConsoleAccess {
 public:
  Console(HANDLE input, HANDLE output) : input_(input), output_(output) {}

  bool read(detail::ConsoleModes& modes) override {
    DWORD input = 0, output = 0;
    if (!GetConsoleMode(input_, &input)) return false;
    modes.input = input;
    modes.has_output = output_ != INVALID_HANDLE_VALUE && GetConsoleMode(output_, &output);
    modes.output = output;
    modes.input_cp = GetConsoleCP();
    modes.output_cp = GetConsoleOutputCP();
    return true;
  }
  bool set_input_mode(uint32_t mode) override { return SetConsoleMode(input_, mode) != 0; }
  bool set_output_mode(uint32_t mode) override { return SetConsoleMode(output_, mode) != 0; }
  void set_code_pages(uint32_t input_cp, uint32_t output_cp) override {
    SetConsoleCP(input_cp);
    SetConsoleOutputCP(output_cp);
  }

 private:
  HANDLE input_, output_;
};

class WindowsTerminal;
std::mutex g_mutex;  // the console handler runs on a thread of its own
WindowsTerminal* g_raw = nullptr;

void restore_raw_terminal();

BOOL WINAPI on_console_event(DWORD event) {
  // Ctrl+C is a byte in raw mode; these end the process once the handlers have run.
  if (event == CTRL_CLOSE_EVENT || event == CTRL_LOGOFF_EVENT || event == CTRL_SHUTDOWN_EVENT ||
      event == CTRL_BREAK_EVENT)
    restore_raw_terminal();
  return FALSE;  // the next handler (libuv's signals) and the default action still run
}

class WindowsTerminal final : public Terminal {
 public:
  WindowsTerminal(HANDLE input, HANDLE output) : output_(output), console_(input, output), keeper_(console_) {}
  ~WindowsTerminal() override {
    restore();
    std::lock_guard<std::mutex> lock(g_mutex);
    if (g_raw == this) g_raw = nullptr;
    if (output_ != INVALID_HANDLE_VALUE) CloseHandle(output_);
  }

  bool make_raw(std::string& error) override {
    static std::once_flag handlers;
    std::call_once(handlers, [] {
      SetConsoleCtrlHandler(on_console_event, TRUE);
      std::atexit(restore_raw_terminal);
    });
    std::lock_guard<std::mutex> lock(g_mutex);
    if (!keeper_.make_raw(error)) return false;
    g_raw = this;
    return true;
  }

  void restore() override {
    std::lock_guard<std::mutex> lock(g_mutex);
    keeper_.restore();
  }
  void restore_locked() { keeper_.restore(); }

  TerminalSize size() override {
    TerminalSize s;
    CONSOLE_SCREEN_BUFFER_INFO info;
    if (output_ != INVALID_HANDLE_VALUE && GetConsoleScreenBufferInfo(output_, &info)) {
      s.cols = static_cast<uint16_t>(info.srWindow.Right - info.srWindow.Left + 1);
      s.rows = static_cast<uint16_t>(info.srWindow.Bottom - info.srWindow.Top + 1);
    }
    return s;
  }

  // A Windows console has no job control to stop us for.
  void suspend() override {}

 private:
  HANDLE output_;
  Console console_;
  detail::RawModeKeeper keeper_;
};

void restore_raw_terminal() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_raw != nullptr) g_raw->restore_locked();
}

}  // namespace

bool is_terminal(int fd) { return uv_guess_handle(fd) == UV_TTY; }

std::unique_ptr<Terminal> open_terminal(int fd) {
  // CONOUT$ is the console's screen buffer even when stdout is redirected: size and VT output.
  HANDLE output = CreateFileW(L"CONOUT$", GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                              OPEN_EXISTING, 0, nullptr);
  return std::make_unique<WindowsTerminal>(uv_get_osfhandle(fd), output);
}

}  // namespace hvterm::platform
