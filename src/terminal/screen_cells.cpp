#include "terminal/screen_cells.h"

#include <string_view>

namespace hvterm {
namespace {

// The cell after a wide character: its right half, printed with it.
constexpr uint32_t kWideCharacterTail = 0xffffffff;

bool same_colour(const VTermColor& a, const VTermColor& b) {
  if ((a.type & VTERM_COLOR_DEFAULT_MASK) != (b.type & VTERM_COLOR_DEFAULT_MASK)) return false;
  if (a.type & VTERM_COLOR_DEFAULT_MASK) return true;
  if (VTERM_COLOR_IS_INDEXED(&a) != VTERM_COLOR_IS_INDEXED(&b)) return false;
  if (VTERM_COLOR_IS_INDEXED(&a)) return a.indexed.idx == b.indexed.idx;
  return a.rgb.red == b.rgb.red && a.rgb.green == b.rgb.green && a.rgb.blue == b.rgb.blue;
}

void append_number(std::string& out, unsigned value) { out += std::to_string(value); }

// `base` is 30 for the foreground, 40 for the background: the 8 colours are base + index, the
// bright 8 base + 60 + index, and 38/48 select from the 256 or give RGB.
void append_colour(std::string& out, const VTermColor& colour, unsigned base, uint8_t default_flag) {
  if (colour.type & default_flag) return;
  out += ';';
  if (VTERM_COLOR_IS_INDEXED(&colour)) {
    unsigned index = colour.indexed.idx;
    if (index < 8) {
      append_number(out, base + index);
    } else if (index < 16) {
      append_number(out, base + 60 + index - 8);
    } else {
      append_number(out, base + 8);
      out += ";5;";
      append_number(out, index);
    }
    return;
  }
  append_number(out, base + 8);
  out += ";2;";
  append_number(out, colour.rgb.red);
  out += ';';
  append_number(out, colour.rgb.green);
  out += ';';
  append_number(out, colour.rgb.blue);
}

void append_utf8(std::string& out, uint32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xc0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3f));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xe0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code_point & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code_point & 0x3f));
  }
}

bool is_blank(const VTermScreenCell& cell) {
  return (cell.chars[0] == 0 || (cell.chars[0] == ' ' && cell.chars[1] == 0)) && cell.width == 1;
}

}  // namespace

Pen default_pen() {
  Pen pen;
  pen.fg.type = VTERM_COLOR_DEFAULT_FG;
  pen.bg.type = VTERM_COLOR_DEFAULT_BG;
  return pen;
}

Pen pen_of(const VTermScreenCell& cell) { return Pen{cell.attrs, cell.fg, cell.bg}; }

Pen current_pen(const VTermState* state) {
  Pen pen = default_pen();
  VTermValue value;
  auto get = [&](VTermAttr attr) {
    vterm_state_get_penattr(state, attr, &value);
    return value;
  };
  pen.attrs.bold = get(VTERM_ATTR_BOLD).boolean ? 1 : 0;
  pen.attrs.underline = static_cast<unsigned>(get(VTERM_ATTR_UNDERLINE).number) & 3;
  pen.attrs.italic = get(VTERM_ATTR_ITALIC).boolean ? 1 : 0;
  pen.attrs.blink = get(VTERM_ATTR_BLINK).boolean ? 1 : 0;
  pen.attrs.reverse = get(VTERM_ATTR_REVERSE).boolean ? 1 : 0;
  pen.attrs.strike = get(VTERM_ATTR_STRIKE).boolean ? 1 : 0;
  pen.attrs.font = static_cast<unsigned>(get(VTERM_ATTR_FONT).number) & 15;
  pen.fg = get(VTERM_ATTR_FOREGROUND).color;
  pen.bg = get(VTERM_ATTR_BACKGROUND).color;
  return pen;
}

bool same_pen(const Pen& a, const Pen& b) {
  return a.attrs.bold == b.attrs.bold && a.attrs.underline == b.attrs.underline && a.attrs.italic == b.attrs.italic &&
         a.attrs.blink == b.attrs.blink && a.attrs.reverse == b.attrs.reverse && a.attrs.strike == b.attrs.strike &&
         a.attrs.font == b.attrs.font && same_colour(a.fg, b.fg) && same_colour(a.bg, b.bg);
}

bool is_default_pen(const Pen& pen) {
  const VTermScreenCellAttrs& a = pen.attrs;
  return !a.bold && !a.underline && !a.italic && !a.blink && !a.reverse && !a.strike && !a.font &&
         VTERM_COLOR_IS_DEFAULT_FG(&pen.fg) && VTERM_COLOR_IS_DEFAULT_BG(&pen.bg);
}

void append_sgr(std::string& out, const Pen& pen) {
  out += "\x1b[0";
  const VTermScreenCellAttrs& a = pen.attrs;
  if (a.bold) out += ";1";
  if (a.italic) out += ";3";
  // xterm and libvterm: 4 single, 21 double, 4:3 curly.
  if (a.underline == VTERM_UNDERLINE_SINGLE) out += ";4";
  if (a.underline == VTERM_UNDERLINE_DOUBLE) out += ";21";
  if (a.underline == VTERM_UNDERLINE_CURLY) out += ";4:3";
  if (a.blink) out += ";5";
  if (a.reverse) out += ";7";
  if (a.strike) out += ";9";
  if (a.font) {
    out += ';';
    append_number(out, 10 + a.font);
  }
  append_colour(out, pen.fg, 30, VTERM_COLOR_DEFAULT_FG);
  append_colour(out, pen.bg, 40, VTERM_COLOR_DEFAULT_BG);
  out += 'm';
}

bool append_cells(std::string& out, std::span<const VTermScreenCell> cells) {
  size_t end = cells.size();
  while (end > 0 && is_blank(cells[end - 1]) && is_default_pen(pen_of(cells[end - 1]))) --end;
  Pen pen = default_pen();
  for (size_t i = 0; i < end; ++i) {
    const VTermScreenCell& cell = cells[i];
    if (cell.chars[0] == kWideCharacterTail) continue;
    Pen wanted = pen_of(cell);
    if (!same_pen(wanted, pen)) {
      append_sgr(out, wanted);
      pen = wanted;
    }
    if (cell.chars[0] == 0) {
      out += ' ';
      continue;
    }
    for (size_t c = 0; c < VTERM_MAX_CHARS_PER_CELL && cell.chars[c] != 0; ++c) append_utf8(out, cell.chars[c]);
    // Printed over the left half of a wide character, libvterm 0.1.4 leaves the right half and
    // counts the new character two columns wide; a terminal erases the right half (xterm does).
    if (cell.width == 2 && cell.chars[0] < 0x1100) out += ' ';
    // A wide character whose right half was printed over keeps its cell in libvterm 0.1.4, now one
    // column wide; printed again it would take two and push the rest of the line right. Whether a
    // character is wide is libvterm's table, not in its API: after any character that could be
    // (none below U+1100 is) the next cell is placed by column.
    if (cell.chars[0] >= 0x1100 && cell.width == 1 && i + 1 < end) {
      out += "\x1b[";
      append_number(out, static_cast<unsigned>(i + 2));
      out += 'G';
    }
  }
  if (!is_default_pen(pen)) out += "\x1b[0m";
  return end == cells.size();
}

}  // namespace hvterm
