#include "terminal/screen.h"

#include <vterm.h>

#include <algorithm>
#include <cstdlib>
#include <new>
#include <span>
#include <vector>

#include "terminal/screen_cells.h"

namespace hvterm {
namespace {

// libvterm allocates through these, so memory_bytes() can count what it really holds. Each block
// carries its size in front, as free() is not told it.
constexpr size_t kSizeHeader = alignof(std::max_align_t);

void* counted_calloc(size_t size, void* counter) {
  // libvterm relies on zeroed memory.
  auto* block = static_cast<char*>(std::calloc(1, kSizeHeader + size));
  if (block == nullptr) throw std::bad_alloc();
  *reinterpret_cast<size_t*>(block) = size;
  *static_cast<size_t*>(counter) += size;
  return block + kSizeHeader;
}

void counted_free(void* pointer, void* counter) {
  if (pointer == nullptr) return;
  char* block = static_cast<char*>(pointer) - kSizeHeader;
  *static_cast<size_t*>(counter) -= *reinterpret_cast<size_t*>(block);
  std::free(block);
}

VTermAllocatorFunctions counted_allocator{counted_calloc, counted_free};

// A malloc'd block's bookkeeping and rounding, for the estimate of the scrollback's strings.
constexpr size_t kHeapBlockOverhead = 16;

size_t string_bytes(const std::string& text) {
  // Up to 15 bytes fit inside std::string itself (libstdc++'s short-string buffer).
  size_t heap = text.capacity() > 15 ? text.capacity() + 1 + kHeapBlockOverhead : 0;
  return sizeof(std::string) + heap;
}

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

}  // namespace

struct Screen::Callbacks {
  static Screen& self(void* user) { return *static_cast<Screen*>(user); }

  static int settermprop(VTermProp prop, VTermValue* value, void* user) {
    Screen& screen = self(user);
    switch (prop) {
      case VTERM_PROP_CURSORVISIBLE: screen.cursor_visible_ = value->boolean != 0; break;
      case VTERM_PROP_ALTSCREEN: screen.alternate_screen_ = value->boolean != 0; break;
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
    append_cells(line, std::span(cells, static_cast<size_t>(cols)));
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

const VTermScreenCallbacks kScreenCallbacks = {
    .damage = nullptr,
    .moverect = nullptr,
    .movecursor = nullptr,
    .settermprop = &Screen::Callbacks::settermprop,
    .bell = nullptr,
    .resize = nullptr,
    .sb_pushline = &Screen::Callbacks::sb_pushline,
    .sb_popline = &Screen::Callbacks::sb_popline,
};

}  // namespace

Screen::Screen(uint16_t rows, uint16_t cols, size_t scrollback_lines)
    : rows_(std::max<uint16_t>(rows, 1)), cols_(std::max<uint16_t>(cols, 1)), scrollback_limit_(scrollback_lines) {
  vterm_ = vterm_new_with_allocator(rows_, cols_, &counted_allocator, &vterm_bytes_);
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

void Screen::feed(std::string_view bytes) {
  std::string_view whole = utf8_repair_.repair(bytes, repaired_);
  // libvterm 0.1.4 decodes text into an array on the stack as long as all the bytes it is given
  // (4 bytes each): a megabyte of output in one call overflows the stack.
  constexpr size_t kMaxWrite = 4096;
  for (size_t at = 0; at < whole.size(); at += kMaxWrite) {
    std::string_view piece = whole.substr(at, kMaxWrite);
    vterm_input_write(vterm_, piece.data(), piece.size());
  }
  modes_.feed(whole);
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

std::vector<VTermScreenCell> row_cells(const VTermScreen* screen, int row, int cols) {
  std::vector<VTermScreenCell> cells(static_cast<size_t>(cols));
  for (int col = 0; col < cols; ++col) vterm_screen_get_cell(screen, VTermPos{row, col}, &cells[col]);
  return cells;
}

}  // namespace

// Rows printed as lines, not placed: whatever the terminal showed scrolls up into its scrollback
// and the screen lands on rows 1..rows() whichever row the cursor started on.
void Screen::render_main_screen(std::string& out) const {
  for (int row = 0; row < rows_; ++row) {
    if (row > 0) out += "\r\n";
    bool filled = append_cells(out, row_cells(screen_, row, cols_));
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
    append_cells(out, row_cells(screen_, row, cols_));
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
  out += cursor_visible_ ? "\x1b[?25h" : "\x1b[?25l";
  if (!title_.empty()) out += "\x1b]2;" + printable_title(title_) + "\x1b\\";
}

size_t Screen::memory_bytes() const {
  size_t bytes = sizeof(Screen) + vterm_bytes_;
  for (const std::string& line : scrollback_) bytes += string_bytes(line);
  // std::deque's map: a pointer per block of 512 bytes of strings.
  bytes += (scrollback_.size() * sizeof(std::string) / 512 + 1) * sizeof(void*);
  bytes += title_.capacity();
  return bytes;
}

}  // namespace hvterm
