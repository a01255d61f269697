#pragma once
// The screen of one session's program, kept by the agent: libvterm emulates a terminal fed the
// program's output, so that the program never waits on a client, and a client that attaches is
// sent what is on the screen now (render) instead of every byte since the start.
//
// Lines that leave the top of the main screen are numbered from 0 in the order they leave
// (lines_scrolled() is the next number) and the last `scrollback_lines` of them are kept, each as
// the bytes that print it. A client that already has lines below n asks for render(n).
//
// Loop-free and single-threaded: bytes in, bytes out.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "terminal/terminal_modes.h"
#include "terminal/utf8_repair.h"

struct VTerm;
struct VTermScreen;
struct VTermState;

namespace hvterm {

class Screen {
 public:
  Screen(uint16_t rows, uint16_t cols, size_t scrollback_lines);
  ~Screen();
  // libvterm calls back into this object: it stays where it was made.
  Screen(const Screen&) = delete;
  Screen& operator=(const Screen&) = delete;

  // The program's output, in order; any bytes (UTF-8 is assumed, as the client's terminal does).
  void feed(std::string_view bytes);
  // The terminal's new size. When the screen loses rows above the cursor they become scrollback
  // lines; when it gains rows they are blank (see sb_popline in screen.cpp).
  void resize(uint16_t rows, uint16_t cols);
  uint16_t rows() const { return rows_; }
  uint16_t cols() const { return cols_; }

  // Lines that have left the top of the main screen since the start, the ones no longer kept too.
  uint64_t lines_scrolled() const { return lines_scrolled_; }
  // The number of the oldest scrollback line still kept (lines_scrolled() when none is).
  uint64_t first_kept_line() const { return lines_scrolled_ - scrollback_.size(); }

  // The bytes that make a terminal of rows() x cols(), on its main screen with default modes and
  // attributes and the cursor anywhere, show this screen: the kept scrollback lines numbered
  // from_line and above printed as lines (so they reach the terminal's own scrollback), the screen,
  // the alternate screen if the program is on it, the cursor, the pen, the input modes and the title.
  std::string render(uint64_t from_line) const;

  // What this Screen holds in memory: the scrollback's strings and libvterm's allocations.
  size_t memory_bytes() const;

  bool alternate_screen() const { return alternate_screen_; }
  bool cursor_visible() const { return cursor_visible_; }
  const std::string& title() const { return title_; }
  const TerminalModes& modes() const { return modes_; }
  // Read access to the emulation itself, for what libvterm's API answers (cells, the cursor).
  const VTermScreen* vterm_screen() const { return screen_; }
  const VTermState* vterm_state() const { return state_; }

  // libvterm's callbacks (screen.cpp); public only so that they can be plain functions.
  struct Callbacks;

 private:
  void render_main_screen(std::string& out) const;
  void render_alternate_screen(std::string& out, bool printed_lines) const;
  void render_cursor_and_modes(std::string& out) const;

  uint16_t rows_;
  uint16_t cols_;
  size_t scrollback_limit_;
  uint64_t lines_scrolled_ = 0;
  std::deque<std::string> scrollback_;

  Utf8Repair utf8_repair_;
  std::string repaired_;  // where repaired output is put together, kept for its buffer
  TerminalModes modes_;
  bool alternate_screen_ = false;
  bool cursor_visible_ = true;
  std::string title_;

  size_t vterm_bytes_ = 0;  // what libvterm has allocated, counted by our allocator
  VTerm* vterm_ = nullptr;
  VTermScreen* screen_ = nullptr;
  VTermState* state_ = nullptr;
};

}  // namespace hvterm
