#pragma once
// Text from a peer (command lines, error messages, paths) before it reaches a terminal or a log: a
// command line may hold any bytes, and raw escape sequences or newlines in it would retitle the
// window, clear the screen, fake rows of `hvterm ls` or forge a record of the agent's log.
#include <string>
#include <string_view>
#include <vector>

namespace hvterm {

// Control characters as \n, \r, \t, \e or \xHH (C1 controls and the Unicode line separators and
// bidirectional overrides as \uHHHH); a byte that is not part of valid UTF-8 as \xHH. The rest
// (printable UTF-8, backslashes included) is kept as it is.
std::string printable(std::string_view text);

// At most `columns` characters (code points) of `text`: a text longer than that keeps its first
// columns - 1 characters and ends in "…". `columns` below 1 counts as 1.
std::string shorten(std::string_view text, size_t columns);

// Words joined by single spaces, as a command line reads in a message (no quoting).
std::string join_words(const std::vector<std::string>& words);

}  // namespace hvterm
