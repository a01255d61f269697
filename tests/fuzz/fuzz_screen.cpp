// libFuzzer target: a program's output, whatever its bytes, through the agent's Screen, fed in two
// parts (split where the input chooses) with a resize between them. Must never crash or hang, must
// leave exactly the state a Screen without batched scrolling leaves, and what render() sends must
// make a fresh Screen show the same cells, cursor and screen.
#include <vterm.h>

#include <cstdint>
#include <string>

#include "terminal/screen.h"

using namespace hvterm;

// libvterm's own tables (unicode.c), not in its header: present in its static library.
extern "C" int vterm_unicode_is_combining(uint32_t codepoint);
extern "C" int vterm_unicode_width(uint32_t codepoint);

namespace {

// What render() cannot reproduce (known limitations), for which the comparison is skipped: a
// combining character with nothing before it gets a cell of its own, but two such cells printed one
// after the other become one.
bool has_cells_render_cannot_reproduce(const Screen& screen, std::string_view rendered) {
  for (int row = 0; row < screen.rows(); ++row) {
    for (int col = 0; col < screen.cols(); ++col) {
      VTermScreenCell cell;
      vterm_screen_get_cell(screen.vterm_screen(), VTermPos{row, col}, &cell);
      if (cell.chars[0] != 0 && cell.chars[0] != 0xffffffff && vterm_unicode_is_combining(cell.chars[0])) return true;
      // Likewise a character of one column printed over the left half of a wide one: libvterm
      // counts it two columns wide; render() can tell only below U+1100, where none is wide.
      if (cell.width == 2 && cell.chars[0] >= 0x1100 && vterm_unicode_width(cell.chars[0]) == 1) return true;
    }
  }
  // In a scrollback line: right after a line start, an SGR or a space-less start of the render.
  for (size_t at = 0; at + 1 < rendered.size(); ++at) {
    if (rendered[at] != '\n' && rendered[at] != 'm' && rendered[at] != '\r') continue;
    uint32_t code_point = 0;
    auto lead = static_cast<unsigned char>(rendered[at + 1]);
    if (lead >= 0xc0 && lead < 0xe0 && at + 2 < rendered.size())
      code_point = ((lead & 0x1fu) << 6) | (static_cast<unsigned char>(rendered[at + 2]) & 0x3fu);
    else if (lead >= 0xe0 && lead < 0xf0 && at + 3 < rendered.size())
      code_point = ((lead & 0x0fu) << 12) | ((static_cast<unsigned char>(rendered[at + 2]) & 0x3fu) << 6) |
                   (static_cast<unsigned char>(rendered[at + 3]) & 0x3fu);
    if (code_point != 0 && vterm_unicode_is_combining(code_point)) return true;
  }
  return false;
}

bool same_colour(const VTermColor& a, const VTermColor& b) {
  if ((a.type & VTERM_COLOR_DEFAULT_MASK) != (b.type & VTERM_COLOR_DEFAULT_MASK)) return false;
  if (a.type & VTERM_COLOR_DEFAULT_MASK) return true;
  return vterm_color_is_equal(&a, &b) != 0;
}

// As a terminal shows them: an erased cell reads as a space, the right half of a wide character
// as its left half.
bool same_cell(const VTermScreenCell& a, const VTermScreenCell& b) {
  if (a.chars[0] == 0xffffffff || b.chars[0] == 0xffffffff) return a.chars[0] == b.chars[0];
  // libvterm copies characters up to the first 0: after an erased cell's 0 nothing is set.
  bool a_erased = a.chars[0] == 0, b_erased = b.chars[0] == 0;
  if (a_erased || b_erased) {
    uint32_t ca = a_erased ? ' ' : a.chars[0], cb = b_erased ? ' ' : b.chars[0];
    if (ca != cb || (!a_erased && a.chars[1] != 0) || (!b_erased && b.chars[1] != 0)) return false;
  } else {
    for (size_t i = 0; i < VTERM_MAX_CHARS_PER_CELL; ++i) {
      if (a.chars[i] != b.chars[i]) return false;
      if (a.chars[i] == 0) break;
    }
  }
  return a.width == b.width && a.attrs.bold == b.attrs.bold && a.attrs.underline == b.attrs.underline &&
         a.attrs.italic == b.attrs.italic && a.attrs.blink == b.attrs.blink && a.attrs.reverse == b.attrs.reverse &&
         a.attrs.strike == b.attrs.strike && a.attrs.font == b.attrs.font && same_colour(a.fg, b.fg) &&
         same_colour(a.bg, b.bg);
}

// A character of one column printed over the left half of a wide one: render() prints the blank
// that follows it as a space, which B holds as a printed cell where A held half a character, so the
// two renders differ in that space alone (the views are compared cell by cell all the same).
bool has_narrow_over_wide(const Screen& screen) {
  for (int row = 0; row < screen.rows(); ++row) {
    for (int col = 0; col < screen.cols(); ++col) {
      VTermScreenCell cell;
      vterm_screen_get_cell(screen.vterm_screen(), VTermPos{row, col}, &cell);
      if (cell.width == 2 && cell.chars[0] != 0 && cell.chars[0] != 0xffffffff &&
          vterm_unicode_width(cell.chars[0]) == 1)
        return true;
    }
  }
  return false;
}

void check_same_view(const Screen& a, const Screen& b) {
  for (int row = 0; row < a.rows(); ++row) {
    bool after_orphan = false;
    for (int col = 0; col < a.cols(); ++col) {
      VTermScreenCell cell_a, cell_b;
      vterm_screen_get_cell(a.vterm_screen(), VTermPos{row, col}, &cell_a);
      vterm_screen_get_cell(b.vterm_screen(), VTermPos{row, col}, &cell_b);
      // A character of one column over a wide one's left half shows as itself and a blank.
      if (after_orphan) {
        if (cell_b.chars[0] != ' ' || cell_b.width != 1) __builtin_trap();
        after_orphan = false;
        continue;
      }
      if (cell_a.width == 2 && cell_a.chars[0] < 0x1100) {
        cell_a.width = 1;
        after_orphan = true;
      }
      if (!same_cell(cell_a, cell_b)) __builtin_trap();
    }
  }
  VTermPos cursor_a, cursor_b;
  vterm_state_get_cursorpos(a.vterm_state(), &cursor_a);
  vterm_state_get_cursorpos(b.vterm_state(), &cursor_b);
  if (cursor_a.row != cursor_b.row || cursor_a.col != cursor_b.col) __builtin_trap();
  if (a.alternate_screen() != b.alternate_screen() || a.cursor_visible() != b.cursor_visible()) __builtin_trap();
}

// The batched scrolling of line floods against libvterm fed byte by byte: the same cells, cursor,
// scrollback and count, exactly.
void check_same_state(const Screen& fast, const Screen& reference) {
  if (fast.lines_scrolled() != reference.lines_scrolled()) __builtin_trap();
  VTermPos cursor_a, cursor_b;
  vterm_state_get_cursorpos(fast.vterm_state(), &cursor_a);
  vterm_state_get_cursorpos(reference.vterm_state(), &cursor_b);
  if (cursor_a.row != cursor_b.row || cursor_a.col != cursor_b.col) __builtin_trap();
  for (int row = 0; row < fast.rows(); ++row) {
    for (int col = 0; col < fast.cols(); ++col) {
      VTermScreenCell a, b;
      vterm_screen_get_cell(fast.vterm_screen(), VTermPos{row, col}, &a);
      vterm_screen_get_cell(reference.vterm_screen(), VTermPos{row, col}, &b);
      for (size_t i = 0; i < VTERM_MAX_CHARS_PER_CELL; ++i) {
        if (a.chars[i] != b.chars[i]) __builtin_trap();
        if (a.chars[i] == 0) break;
      }
      if (a.width != b.width || !same_colour(a.fg, b.fg) || !same_colour(a.bg, b.bg) || a.attrs.bold != b.attrs.bold ||
          a.attrs.reverse != b.attrs.reverse || a.attrs.underline != b.attrs.underline)
        __builtin_trap();
    }
  }
  if (fast.render(0) != reference.render(0)) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 5) return 0;
  // Sizes from 2 rows and 3 columns, where libvterm 0.1.4 is sound: a screen of 1 row scrolls
  // without handing the line to sb_pushline, one of 2 columns leaves the cursor past the last
  // column after a wide character.
  auto rows = static_cast<uint16_t>(2 + data[0] % 40);
  auto cols = static_cast<uint16_t>(3 + data[1] % 120);
  auto new_rows = static_cast<uint16_t>(2 + data[2] % 40);
  auto new_cols = static_cast<uint16_t>(3 + data[3] % 120);
  std::string_view output(reinterpret_cast<const char*>(data) + 5, size - 5);
  size_t split = std::min<size_t>(data[4] * output.size() / 255, output.size());

  Screen a(rows, cols, 20);
  Screen reference(rows, cols, 20, false);
  // Without a scrollback (a client attached), lines that only scroll by are not even written.
  bool keep = (data[3] & 0x80) == 0;
  a.keep_scrollback(keep);
  reference.keep_scrollback(keep);
  a.feed(output.substr(0, split));
  reference.feed(output.substr(0, split));
  check_same_state(a, reference);
  a.resize(new_rows, new_cols);
  reference.resize(new_rows, new_cols);
  a.feed(output.substr(split));
  reference.feed(output.substr(split));
  check_same_state(a, reference);
  std::string rendered = a.render(0);

  Screen b(a.rows(), a.cols(), 20);
  b.feed(rendered);
  // After the screen narrowed, neither compares: a wide character cut in two by the new edge stays
  // in the last column as half of itself, which no terminal can be made to print, and lines that
  // left the screen before are wider than B, so that printed they wrap in two.
  if (new_cols < cols || has_cells_render_cannot_reproduce(a, rendered)) return 0;
  check_same_view(a, b);
  if (!has_narrow_over_wide(a) && b.render(0) != rendered) __builtin_trap();
  return 0;
}
