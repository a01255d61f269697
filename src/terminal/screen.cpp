#include "terminal/screen.h"

#include <vterm.h>

#include <algorithm>
#include <new>
#include <span>
#include <vector>

#include "terminal/screen_cells.h"

namespace hvterm {
namespace {

void append_cursor_position(std::string& out, int row, int col) {
  out += "\x1b[" + std::to_string(row + 1) + ';' + std::to_string(col + 1) + 'H';
}

// A title is printed between OSC 2 and ST: a control character in it would end or break that.
std::string printable_title(std::string_view title) {
  std::string printable;
  for (char c : title)
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) printable += c;
  return printable;
}

// While the whole screen is reversed (DECSCNM) libvterm hands out every cell with its reverse
// flag flipped; the program wrote them otherwise.
std::vector<VTermScreenCell> unflipped(const VTermScreenCell* cells, int cols) {
  std::vector<VTermScreenCell> copy(cells, cells + cols);
  for (auto& cell : copy) cell.attrs.reverse ^= 1;
  return copy;
}

}  // namespace

struct Screen::Callbacks {
  static Screen& self(void* user) { return *static_cast<Screen*>(user); }

  static int settermprop(VTermProp prop, VTermValue* value, void* user) {
    Screen& screen = self(user);
    switch (prop) {
      case VTERM_PROP_CURSORVISIBLE: screen.cursor_visible_ = value->boolean != 0; break;
      case VTERM_PROP_ALTSCREEN: screen.alternate_screen_ = value->boolean != 0; break;
      case VTERM_PROP_REVERSE: screen.reverse_screen_ = value->boolean != 0; break;
      case VTERM_PROP_TITLE: screen.title_ = value->string != nullptr ? value->string : ""; break;
      default: break;
    }
    return 1;
  }

  // A line leaves the top of the main screen: kept at once as the bytes that print it, a few
  // dozen bytes where libvterm's cells would take sizeof(VTermScreenCell) (~40 bytes) a column.
  static int sb_pushline(int cols, const VTermScreenCell* cells, void* user) {
    Screen& screen = self(user);
    ++screen.lines_scrolled_;
    if (screen.scrollback_limit_ == 0) return 1;
    std::string line;
    if (screen.scrollback_.size() == screen.scrollback_limit_) {
      line = std::move(screen.scrollback_.front());  // its buffer is reused
      screen.scrollback_.pop_front();
      line.clear();
    }
    if (screen.unneeded_pushes_ > 0)
      --screen.unneeded_pushes_;  // pushed out again before feed() returns: its bytes are never read
    else if (!screen.reverse_screen_)
      append_cells(line, std::span(cells, static_cast<size_t>(cols)));
    else
      append_cells(line, unflipped(cells, cols));
    screen.scrollback_.push_back(std::move(line));
    return 1;
  }

  // libvterm asks for scrollback lines back when the screen grows taller. We decline: a line once
  // numbered has gone to the clients' own scrollback, and a client that later asks for lines from
  // n on would get it twice if it came back onto the screen. The new rows are blank instead.
  static int sb_popline(int, VTermScreenCell*, void*) { return 0; }

  // Answers to the program's queries (device attributes, cursor reports) come from the user's
  // terminal, which sees the same output; the Screen answering too would send each answer twice.
  static void discard_output(const char*, size_t, void*) {}
};

namespace {

constexpr VTermScreenCallbacks kScreenCallbacks = {
    .damage = nullptr,
    .moverect = nullptr,
    .movecursor = nullptr,
    .settermprop = &Screen::Callbacks::settermprop,
    .bell = nullptr,
    .resize = nullptr,
    .sb_pushline = &Screen::Callbacks::sb_pushline,
    .sb_popline = &Screen::Callbacks::sb_popline,
};

constexpr VTermScreenCallbacks without_scrollback(VTermScreenCallbacks callbacks) {
  callbacks.sb_pushline = nullptr;
  return callbacks;
}
constexpr VTermScreenCallbacks kScreenCallbacksWithoutScrollback = without_scrollback(kScreenCallbacks);

}  // namespace

Screen::Screen(uint16_t rows, uint16_t cols, size_t scrollback_lines, bool batch_line_floods)
    : rows_(std::max<uint16_t>(rows, 1)),
      cols_(std::max<uint16_t>(cols, 1)),
      scrollback_limit_(scrollback_lines),
      batch_line_floods_(batch_line_floods) {
  vterm_ = vterm_new(rows_, cols_);
  if (vterm_ == nullptr) throw std::bad_alloc();
  // libvterm starts in a mode where bytes are ISO 8859-1 characters.
  vterm_set_utf8(vterm_, 1);
  vterm_output_set_callback(vterm_, &Callbacks::discard_output, nullptr);
  state_ = vterm_obtain_state(vterm_);
  screen_ = vterm_obtain_screen(vterm_);
  // Without this libvterm ignores ?47, ?1047 and ?1049 and full-screen programs draw over the shell.
  vterm_screen_enable_altscreen(screen_, 1);
  vterm_screen_set_callbacks(screen_, &kScreenCallbacks, this);
  vterm_screen_reset(screen_, 1);
}

Screen::~Screen() { vterm_free(vterm_); }

void Screen::write_to_vterm(std::string_view bytes) {
  // libvterm 0.1.4 decodes text into an array on the stack as long as all the bytes it is given
  // (4 bytes each): a megabyte of output in one call overflows the stack.
  constexpr size_t kMaxWrite = 4096;
  for (size_t at = 0; at < bytes.size(); at += kMaxWrite) {
    std::string_view piece = bytes.substr(at, kMaxWrite);
    vterm_input_write(vterm_, piece.data(), piece.size());
  }
}

void Screen::feed(std::string_view bytes) {
  std::string_view whole = utf8_repair_.repair(bytes, repaired_);
  if (batch_line_floods_)
    feed_batching(whole);
  else
    write_to_vterm(whole);
  modes_.feed(whole);
}

namespace {

// The end of the line starting at `at` (after its LF) if it is printable ASCII that fits in `cols`
// columns followed by CR LF, npos otherwise. Such a line prints the same on any row.
size_t plain_line_end(std::string_view bytes, size_t at, size_t cols) {
  size_t end = std::min(bytes.size(), at + cols);
  size_t i = at;
  while (i < end && bytes[i] >= 0x20 && bytes[i] <= 0x7e) ++i;
  if (i + 1 < bytes.size() && bytes[i] == '\r' && bytes[i + 1] == '\n') return i + 2;
  return std::string_view::npos;
}

size_t next_line(std::string_view lines, size_t at) { return lines.find('\n', at) + 1; }

}  // namespace

// libvterm's screen moves all its cells up for every line that scrolls. A flood of plain lines is
// given to it as the same text with the scrolling batched instead: up to rows - 1 lines at a time,
// one CSI n S pushes the rows off (sb_pushline sees the same rows, in the same order) and blanks
// rows with the pen as each line feed would, and the lines are printed into them without scrolling.
void Screen::feed_batching(std::string_view bytes) {
  size_t written = 0;
  size_t at = 0;
  while (at < bytes.size()) {
    size_t end = rows_ >= 3 && cols_ >= 2 ? plain_line_end(bytes, at, cols_) : std::string_view::npos;
    if (end != std::string_view::npos) {
      tracker_.feed(bytes.substr(written, at - written), rows_);
      write_to_vterm(bytes.substr(written, at - written));
      written = at;
      VTermPos cursor;
      vterm_state_get_cursorpos(state_, &cursor);
      // At column 0 of 2 or more there is no pending wrap.
      if (tracker_.plain() && !alternate_screen_ && cursor.col == 0 && no_double_size_rows()) {
        while (end < bytes.size()) {
          size_t next = plain_line_end(bytes, end, cols_);
          if (next == std::string_view::npos) break;
          end = next;
        }
        feed_plain_lines(bytes.substr(at, end - at));
        written = end;
        at = end;
        continue;
      }
    }
    size_t newline = bytes.find('\n', at);
    if (newline == std::string_view::npos) break;
    at = newline + 1;
  }
  tracker_.feed(bytes.substr(written), rows_);
  write_to_vterm(bytes.substr(written));
}

// A line of double width (ESC # 6) holds half as many characters: a line would wrap on one row and
// not on another. Rows scrolled in are single-size again, so none turns up during a flood.
bool Screen::no_double_size_rows() const {
  for (int row = 0; row < rows_; ++row) {
    const VTermLineInfo* info = vterm_state_get_lineinfo(state_, row);
    if (info->doublewidth || info->doubleheight) return false;
  }
  return true;
}

// Whole plain lines, the cursor at column 0, the scroll region the whole main screen.
void Screen::keep_scrollback(bool keep) {
  vterm_screen_set_callbacks(screen_, keep ? &kScreenCallbacks : &kScreenCallbacksWithoutScrollback, this);
  keeping_scrollback_ = keep;
  if (!keep) scrollback_ = {};
}

void Screen::feed_plain_lines(std::string_view lines) {
  VTermPos cursor;
  vterm_state_get_cursorpos(state_, &cursor);
  size_t fitting = 0;  // the lines that fit below the cursor do not scroll: as they are
  for (int row = cursor.row; row < rows_ - 1 && fitting < lines.size(); ++row) fitting = next_line(lines, fitting);
  write_to_vterm(lines.substr(0, fitting));
  lines.remove_prefix(fitting);
  if (lines.empty()) return;
  // Each of these lines pushes one: first the rows above the cursor, then these lines themselves.
  auto pushes = static_cast<uint64_t>(std::count(lines.begin(), lines.end(), '\n'));
  uint64_t kept = keeping_scrollback_ ? std::min<uint64_t>(pushes, scrollback_limit_) : 0;
  // A line pushed off again before feed() returns, and not kept, need not be written at all:
  // scrolling a blank row in its place pushes as many rows, and the ones that are kept (the last)
  // and the screen come out the same.
  uint64_t above = static_cast<uint64_t>(rows_ - 1);
  uint64_t unwritten = pushes - kept > above ? pushes - kept - above : 0;
  if (unwritten > 0) {
    size_t skip = 0;
    for (uint64_t n = 0; n < unwritten; ++n) skip = next_line(lines, skip);
    scroll_blank_rows(unwritten);
    lines.remove_prefix(skip);
  }
  unneeded_pushes_ = pushes - kept - unwritten;
  // The last line with text is printed on the bottom row, where the plain feed prints it: libvterm
  // joins a combining character to the last character printed only if the cursor is still right
  // after the cell that character was printed in.
  size_t last_text = std::string_view::npos;
  for (size_t line = 0; line < lines.size(); line = next_line(lines, line))
    if (lines[line] != '\r') last_text = line;
  if (last_text == std::string_view::npos) {
    scroll_plain_lines(lines);
  } else {
    size_t after = next_line(lines, last_text);
    scroll_plain_lines(lines.substr(0, last_text));
    write_to_vterm(lines.substr(last_text, after - last_text));
    scroll_plain_lines(lines.substr(after));
  }
  unneeded_pushes_ = 0;
}

// The cursor at column 0 of the bottom row: as many line feeds would, without moving it.
void Screen::scroll_blank_rows(uint64_t count) {
  // CSI n S of n >= rows erases the screen without pushing a line: all one when nobody counts the
  // pushes (libvterm erases every cell of the rows it scrolls in, which was most of a flood's cost).
  const uint64_t most = keeping_scrollback_ ? static_cast<uint64_t>(rows_ - 1) : static_cast<uint64_t>(rows_);
  if (!keeping_scrollback_) count = std::min(count, most);
  for (uint64_t left = count; left > 0;) {
    uint64_t n = std::min(left, most);
    std::string scroll = "\x1b[" + std::to_string(n) + "S";
    write_to_vterm(scroll);
    left -= n;
  }
}

// Whole plain lines, the cursor at column 0 of the bottom row.
void Screen::scroll_plain_lines(std::string_view lines) {
  while (!lines.empty()) {
    size_t first_end = next_line(lines, 0);
    size_t end = first_end;
    int count = 1;
    // CSI n S of n >= rows erases the screen without pushing a line.
    for (; count < rows_ - 1 && end < lines.size(); ++count) end = next_line(lines, end);
    if (count == 1) {
      write_to_vterm(lines.substr(0, end));
    } else {
      // The first line goes on the bottom row over what is there, as the plain feed prints it.
      write_to_vterm(lines.substr(0, first_end - 1));  // without its LF
      std::string scroll = "\x1b[" + std::to_string(count) + "S\x1b[" + std::to_string(count - 1) + "A";
      write_to_vterm(scroll);
      write_to_vterm(lines.substr(first_end, end - first_end));
    }
    lines.remove_prefix(end);
  }
}

void Screen::resize(uint16_t rows, uint16_t cols) {
  rows_ = std::max<uint16_t>(rows, 1);
  cols_ = std::max<uint16_t>(cols, 1);
  vterm_set_size(vterm_, rows_, cols_);
  // libvterm 0.1.4 can leave the cursor above the screen when it loses rows (row -1 seen): put it
  // back on the screen, as xterm keeps it, before more output is written at that position.
  VTermPos cursor;
  vterm_state_get_cursorpos(state_, &cursor);
  if (cursor.row < 0 || cursor.row >= rows_ || cursor.col < 0 || cursor.col >= cols_) {
    std::string move;
    append_cursor_position(move, std::clamp(cursor.row, 0, rows_ - 1), std::clamp(cursor.col, 0, cols_ - 1));
    vterm_input_write(vterm_, move.data(), move.size());
    tracker_.lose_track();
  }
}

std::string Screen::render(uint64_t from_line) const {
  // From the start of the line the cursor is on, wherever it was left.
  std::string out = "\x1b[0m\r";
  uint64_t first = std::max(from_line, first_kept_line());
  bool printed_lines = false;
  for (uint64_t n = first; n < lines_scrolled_; ++n) {
    out += scrollback_[n - first_kept_line()];
    out += "\r\n";
    printed_lines = true;
  }
  if (alternate_screen_)
    render_alternate_screen(out, printed_lines);
  else
    render_main_screen(out);
  render_cursor_and_modes(out);
  return out;
}

namespace {

// `reverse_screen` (DECSCNM): the cells are drawn as the program wrote them (unflipped), and ?5h
// follows.
std::vector<VTermScreenCell> row_cells(const VTermScreen* screen, int row, int cols, bool reverse_screen) {
  std::vector<VTermScreenCell> cells(static_cast<size_t>(cols));
  for (int col = 0; col < cols; ++col) vterm_screen_get_cell(screen, VTermPos{row, col}, &cells[col]);
  return reverse_screen ? unflipped(cells.data(), cols) : cells;
}

}  // namespace

// Rows printed as lines, not placed: whatever the terminal showed scrolls up into its scrollback
// and the screen lands on rows 1..rows() whichever row the cursor started on.
void Screen::render_main_screen(std::string& out) const {
  for (int row = 0; row < rows_; ++row) {
    if (row > 0) out += "\r\n";
    bool filled = append_cells(out, row_cells(screen_, row, cols_, reverse_screen_));
    if (!filled) out += "\x1b[K";  // what the terminal had there; with the default background
  }
}

// libvterm 0.1.4 gives no access to the main screen while the alternate one is shown, so the main
// screen the program returns to is blank. The scrollback lines printed are pushed off it first
// (rows - 1 line feeds), so they reach the terminal's scrollback as they do from the main screen.
void Screen::render_alternate_screen(std::string& out, bool printed_lines) const {
  if (printed_lines) out.append(rows_ - 1u, '\n');
  out += "\x1b[?1049h";  // switches and clears
  for (int row = 0; row < rows_; ++row) {
    append_cursor_position(out, row, 0);
    append_cells(out, row_cells(screen_, row, cols_, reverse_screen_));
  }
}

void Screen::render_cursor_and_modes(std::string& out) const {
  VTermPos cursor;
  vterm_state_get_cursorpos(state_, &cursor);
  append_cursor_position(out, cursor.row, cursor.col);
  append_sgr(out, current_pen(state_));
  // The cursor as libvterm has it, the one the screen was drawn with (TerminalModes, which parses
  // less, can differ on output that is no terminal's).
  out += modes_.reapply_input_modes(TerminalModes::CursorVisibility::LeftOut);
  if (reverse_screen_) out += "\x1b[?5h";
  out += cursor_visible_ ? "\x1b[?25h" : "\x1b[?25l";
  if (!title_.empty()) out += "\x1b]2;" + printable_title(title_) + "\x1b\\";
}

}  // namespace hvterm

namespace hvterm {

// What libvterm 0.1.4's parser does with each byte, as far as it decides the state: CAN and SUB
// end any sequence, ESC starts one from any state (in a string only ESC \ is certain to end it),
// C0 controls inside a sequence are executed without ending it, and in UTF-8 mode bytes of 0x80 and
// above are text, never C1 controls.
void VtermTracker::feed(std::string_view bytes, uint16_t rows) {
  for (char byte : bytes) {
    auto c = static_cast<unsigned char>(byte);
    if (c == 0x18 || c == 0x1a) {
      state_ = State::Ground;
      continue;
    }
    switch (state_) {
      case State::Ground:
        if (c == 0x1b) state_ = State::Escape;
        break;
      case State::Escape:
      case State::EscapeIntermediate:
        if (control_in_sequence(c)) {
        } else if (c < 0x30) {
          state_ = State::EscapeIntermediate;
        } else if (state_ == State::EscapeIntermediate) {
          state_ = State::Ground;
        } else if (c == '[') {
          state_ = State::Csi;
          param_count_ = 0;
          current_ = kMissing;
          leader_ = 0;
          intermediate_ = 0;
          odd_ = false;
        } else if (c == ']') {
          state_ = State::Osc;
        } else if (c == 'P' || c == 'X' || c == '^' || c == '_') {
          state_ = State::OtherString;
        } else {
          if (c == 'c') reset_modes();  // RIS
          state_ = State::Ground;
        }
        break;
      case State::Csi:
        if (control_in_sequence(c)) {
        } else if (c >= '0' && c <= '9') {
          if (intermediate_ != 0) odd_ = true;
          if (current_ == kMissing) current_ = 0;
          if (current_ > 100000)
            odd_ = true;
          else
            current_ = current_ * 10 + (c - '0');
        } else if (c == ';') {
          if (param_count_ == kMaxParams) odd_ = true;
          if (param_count_ < kMaxParams) params_[param_count_++] = current_;
          current_ = kMissing;
        } else if (c == ':') {
          odd_ = true;
        } else if (c >= 0x3c && c <= 0x3f) {
          if (leader_ != 0 || param_count_ > 0 || current_ != kMissing || intermediate_ != 0) odd_ = true;
          leader_ = static_cast<char>(c);
        } else if (c < 0x30) {
          if (intermediate_ != 0) odd_ = true;
          intermediate_ = static_cast<char>(c);
        } else {
          if (param_count_ == kMaxParams) odd_ = true;
          if (param_count_ < kMaxParams) params_[param_count_++] = current_;
          csi_done(static_cast<char>(c), rows);
          state_ = State::Ground;
        }
        break;
      case State::Osc:
      case State::OtherString:
        if (c == 0x1b)
          state_ = State::StringEscape;
        else if (c == 0x07 && state_ == State::Osc)
          state_ = State::Ground;
        else if (c == 0x07)
          unsure();
        break;
      case State::StringEscape:
        if (c == '\\')
          state_ = State::Ground;
        else
          unsure();
        break;
      case State::Unknown: break;
    }
  }
}

// ESC starts another sequence, C0 controls are executed or ignored and the sequence goes on, bytes of
// 0x80 and above this does not follow. Returns whether `c` was one of them.
bool VtermTracker::control_in_sequence(unsigned char c) {
  if (c == 0x1b)
    state_ = State::Escape;
  else if (c >= 0x80)
    unsure();
  else if (c >= 0x20 && c != 0x7f)
    return false;
  return true;
}

void VtermTracker::lose_track() {
  if (state_ != State::Ground) unsure();
}

// Whatever libvterm made of the bytes may have set a scroll region or a mode: until a reset says
// otherwise, assume it did.
void VtermTracker::unsure() {
  state_ = State::Unknown;
  region_full_ = false;
  insert_ = true;
  lr_margins_ = true;
}

// RIS.
void VtermTracker::reset_modes() {
  region_full_ = true;
  insert_ = false;
  lr_margins_ = false;
}

void VtermTracker::csi_done(char final_byte, uint16_t rows) {
  auto has = [&](uint32_t mode) { return std::find(params_, params_ + param_count_, mode) != params_ + param_count_; };
  if (final_byte == 'r') {
    // DECSTBM: the whole screen only as libvterm counts it the whole screen for any later size.
    bool full = !odd_ && leader_ == 0 && intermediate_ == 0 && param_count_ <= 2 &&
                (params_[0] == kMissing || params_[0] <= 1) &&
                (param_count_ < 2 || params_[1] == kMissing || params_[1] == rows);
    region_full_ = full;
  } else if (final_byte == 'h' || final_byte == 'l') {
    bool set = final_byte == 'h';
    if (odd_) {
      if (set) insert_ = lr_margins_ = true;
    } else if (leader_ == 0 && intermediate_ == 0 && has(4)) {
      insert_ = set;  // IRM
    } else if (leader_ == '?' && intermediate_ == 0 && has(69)) {
      lr_margins_ = set;  // DECLRMM
    }
  }
  // DECSTR is left out: libvterm 0.1.4's soft reset keeps the scroll region (tested).
}

}  // namespace hvterm
