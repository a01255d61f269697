#pragma once
// libvterm's cells as the bytes that print them: SGR-coded UTF-8, the one encoding behind both a
// scrollback line (kept as bytes the moment it leaves the screen) and a row of the screen as it is
// drawn for a client that attaches. Encoding a line twice gives the same bytes, so a terminal fed
// what the Screen renders keeps lines equal to the Screen's own.
#include <vterm.h>

#include <span>
#include <string>

namespace hvterm {

// What SGR sets: attributes and colours.
struct Pen {
  VTermScreenCellAttrs attrs{};
  VTermColor fg{};
  VTermColor bg{};
};

Pen default_pen();
Pen pen_of(const VTermScreenCell& cell);
// The pen libvterm prints the next character with (CSI m and friends so far).
Pen current_pen(const VTermState* state);
bool same_pen(const Pen& a, const Pen& b);
bool is_default_pen(const Pen& pen);

// CSI 0;…m: the whole pen from the defaults, so it does not depend on what was set before.
void append_sgr(std::string& out, const Pen& pen);

// Appends the cells as text, trailing blanks with the default pen left out, and returns the pen
// back to the defaults if it changed. Returns whether the text reaches the last cell: a terminal
// that printed it is then waiting to wrap, where erasing to the end of the line would take the
// last character away.
bool append_cells(std::string& out, std::span<const VTermScreenCell> cells);

}  // namespace hvterm
