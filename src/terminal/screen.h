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

// libvterm 0.1.4 tells neither its parser's state nor its scroll region; the batched scrolling in
// Screen::feed needs both. This follows them from the bytes, and where it cannot be sure (bytes
// libvterm's parser takes its own way) it says no until a reset makes it sure again.
class VtermTracker {
 public:
  void feed(std::string_view bytes, uint16_t rows);
  // Bytes written to libvterm that this did not see: sure only if they started in ground state.
  void lose_track();
  // Plain text and CR LF would print and scroll as on a plain terminal: the parser is in ground
  // state, the scroll region is the whole screen, no left/right margins, no insert mode.
  bool plain() const { return state_ == State::Ground && region_full_ && !insert_ && !lr_margins_; }

 private:
  enum class State : uint8_t { Ground, Escape, EscapeIntermediate, Csi, Osc, OtherString, StringEscape, Unknown };
  bool control_in_sequence(unsigned char c);
  void unsure();
  void reset_modes();
  void csi_done(char final_byte, uint16_t rows);

  State state_ = State::Ground;
  bool region_full_ = true;
  bool insert_ = false;
  bool lr_margins_ = false;
  // The CSI being read.
  static constexpr size_t kMaxParams = 16;
  static constexpr uint32_t kMissing = 0xffffffff;
  uint32_t params_[kMaxParams] = {};
  size_t param_count_ = 0;
  uint32_t current_ = kMissing;
  char leader_ = 0;
  char intermediate_ = 0;
  bool odd_ = false;  // anything this does not read for certain: sub-parameters, overflow, ...
};

class Screen {
 public:
  // `batch_line_floods` false gives libvterm the bytes exactly as they come: the reference the
  // batched scrolling is tested against.
  Screen(uint16_t rows, uint16_t cols, size_t scrollback_lines, bool batch_line_floods = true);
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
  // Whether lines that leave the top are kept and counted (they are from the start). Off, libvterm
  // does not even read them out of its cells, which is most of the cost of a flood of lines: the
  // agent turns it off while a client is attached, which has shown them already. Off also forgets
  // the lines kept.
  void keep_scrollback(bool keep);
  // The number of the oldest scrollback line still kept (lines_scrolled() when none is).
  uint64_t first_kept_line() const { return lines_scrolled_ - scrollback_.size(); }

  // The bytes that make a terminal of rows() x cols(), on its main screen with default modes and
  // attributes and the cursor anywhere, show this screen: the kept scrollback lines numbered
  // from_line and above printed as lines (so they reach the terminal's own scrollback), the screen,
  // the alternate screen if the program is on it, the cursor, the pen, the input modes and the title.
  std::string render(uint64_t from_line) const;

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
  void write_to_vterm(std::string_view bytes);
  void feed_batching(std::string_view bytes);
  bool no_double_size_rows() const;
  void feed_plain_lines(std::string_view lines);
  void scroll_plain_lines(std::string_view lines);
  void scroll_blank_rows(uint64_t count);

  void render_main_screen(std::string& out) const;
  void render_alternate_screen(std::string& out, bool printed_lines) const;
  void render_cursor_and_modes(std::string& out) const;

  uint16_t rows_;
  uint16_t cols_;
  size_t scrollback_limit_;
  bool batch_line_floods_;
  VtermTracker tracker_;
  // Lines about to be pushed that later pushes of the same feed drop from the scrollback again:
  // counted, not converted.
  uint64_t unneeded_pushes_ = 0;
  bool keeping_scrollback_ = true;
  uint64_t lines_scrolled_ = 0;
  std::deque<std::string> scrollback_;

  Utf8Repair utf8_repair_;
  std::string repaired_;  // where repaired output is put together, kept for its buffer
  TerminalModes modes_;
  bool alternate_screen_ = false;
  bool reverse_screen_ = false;  // DECSCNM
  bool cursor_visible_ = true;
  std::string title_;

  VTerm* vterm_ = nullptr;
  VTermScreen* screen_ = nullptr;
  VTermState* state_ = nullptr;
};

}  // namespace hvterm
