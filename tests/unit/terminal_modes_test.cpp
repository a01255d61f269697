// TerminalModes: which modes a program left on, from its output, and the sequence that undoes them.
#include "terminal/terminal_modes.h"

#include <doctest/doctest.h>

#include <string>

using namespace hvterm;

namespace {

std::string restore_after(std::string_view output) {
  TerminalModes modes;
  modes.feed(output);
  return modes.restore();
}

}  // namespace

TEST_CASE("plain text and modes turned off again need no restoring") {
  CHECK(restore_after("hello\r\nworld\r\n") == "");
  CHECK(restore_after("\x1b[?1049h\x1b[?1049l") == "");
  CHECK(restore_after("\x1b[1;31mred\x1b[0m") == "");
  CHECK(restore_after("\x1b[1mbold\x1b[m") == "");
  CHECK(restore_after("\x1b[?25l\x1b[?25h") == "");
  CHECK(restore_after("\x1b=\x1b>") == "");
}

TEST_CASE("what vim turns on is turned off, input modes before the alternate screen, the cursor last") {
  std::string vim = "\x1b[?1049h\x1b[>4;2m\x1b[?1h\x1b=\x1b[?2004h\x1b[?1000h\x1b[?1006h\x1b[?25l\x1b[38;5;12mx";
  CHECK(restore_after(vim) == "\x1b[0m\x1b[?1000l\x1b[?1006l\x1b[?2004l\x1b[>4m\x1b>\x1b[?1l\x1b[?1049l\x1b[?25h");
}

TEST_CASE("several modes in one sequence, and each alternate screen with its own reset") {
  CHECK(restore_after("\x1b[?1002;1004;47h") == "\x1b[?1002l\x1b[?1004l\x1b[?47l");
  CHECK(restore_after("\x1b[?1047h") == "\x1b[?1047l");
  CHECK(restore_after("\x1b[?1003;1015h\x1b[?1015l") == "\x1b[?1003l");
}

TEST_CASE("a sequence split across pieces of output is still seen") {
  std::string vim = "text\x1b[?1049htext\x1b[?2004h";
  for (size_t cut = 0; cut <= vim.size(); ++cut) {
    TerminalModes modes;
    modes.feed(std::string_view(vim).substr(0, cut));
    modes.feed(std::string_view(vim).substr(cut));
    CHECK(modes.restore() == "\x1b[?2004l\x1b[?1049l");
  }
}

TEST_CASE("after restore() the modes count as off") {
  TerminalModes modes;
  modes.feed("\x1b[?1049h");
  CHECK(modes.restore() == "\x1b[?1049l");
  CHECK(modes.restore() == "");
}

TEST_CASE("strings are skipped whole: a title that looks like a sequence changes nothing") {
  CHECK(restore_after("\x1b]0;\x1b[?1049h is not a mode\x07") == "");
  CHECK(restore_after("\x1b]2;title\x1b\\\x1b[?1049h") == "\x1b[?1049l");
  CHECK(restore_after("\x1bPq#0;2;0;0;0\x1b\\") == "");
}

TEST_CASE("resets: RIS clears everything, DECSTR what it resets") {
  CHECK(restore_after("\x1b[?1049h\x1b[?25l\x1b"
                      "c") == "");
  CHECK(restore_after("\x1b[?1049h\x1b[?25l\x1b=\x1b[1m\x1b[!p") == "\x1b[?1049l");
}

TEST_CASE("cut-short, cancelled, overlong and unknown sequences are ignored") {
  CHECK(restore_after("\x1b[?10\x1b[?2004h") == "\x1b[?2004l");  // an ESC starts over
  CHECK(restore_after("\x1b[?1049\x18h") == "");                 // CAN cancels
  CHECK(restore_after("\x1b[?" + std::string(100, '1') + "h") == "");
  CHECK(restore_after("\x1b[?12345h\x1b[?7h\x1b[4h") == "");  // modes not followed
  CHECK(restore_after("\x1b[>1;2m") == "");                   // another xterm resource
  CHECK(restore_after("\x1b[>4;0m") == "");
  CHECK(restore_after("\x1b[38:2:1:2:3m") == "\x1b[0m");  // colours with sub-parameters
}

namespace {

TerminalModes modes_after(std::string_view output) {
  TerminalModes modes;
  modes.feed(output);
  return modes;
}

}  // namespace

TEST_CASE("the input modes still on are turned on again; the alternate screen and colours are not") {
  std::string vim = "\x1b[?1049h\x1b[>4;2m\x1b[?1h\x1b=\x1b[?2004h\x1b[?1000h\x1b[?1006h\x1b[?25l\x1b[38;5;12mx";
  CHECK(modes_after(vim).reapply_input_modes() == "\x1b[?1000h\x1b[?1006h\x1b[?2004h\x1b=\x1b[?1h\x1b[?25l\x1b[>4;2m");
  CHECK(modes_after("\x1b[?1002;1004;1015h\x1b[>4;1m").reapply_input_modes() ==
        "\x1b[?1002h\x1b[?1015h\x1b[?1004h\x1b[>4;1m");
  CHECK(modes_after("\x1b[?9h\x1b[?1001;1003;1005;1016h").reapply_input_modes() ==
        "\x1b[?9h\x1b[?1001h\x1b[?1003h\x1b[?1005h\x1b[?1016h");
  CHECK(modes_after("\x1b[?1049h\x1b[1m\x1b[?47h\x1b[?1047h").reapply_input_modes() == "");
  CHECK(modes_after(vim).reapply_input_modes(TerminalModes::CursorVisibility::LeftOut) ==
        "\x1b[?1000h\x1b[?1006h\x1b[?2004h\x1b=\x1b[?1h\x1b[>4;2m");
  CHECK(modes_after(vim + "\x1b[?1000l\x1b[>4;0m\x1b>\x1b[?25h").reapply_input_modes() ==
        "\x1b[?1006h\x1b[?2004h\x1b[?1h");
}

TEST_CASE("reapplying changes nothing: restore() still undoes the same modes") {
  TerminalModes modes = modes_after("\x1b[?2004h\x1b[?1049h");
  CHECK(modes.reapply_input_modes() == "\x1b[?2004h");
  CHECK(modes.reapply_input_modes() == "\x1b[?2004h");
  CHECK(modes.restore() == "\x1b[?2004l\x1b[?1049l");
  CHECK(modes.reapply_input_modes() == "");
}

TEST_CASE("the alternate screen is on while any of its three modes is") {
  CHECK_FALSE(modes_after("plain").alternate_screen());
  CHECK(modes_after("\x1b[?1049h").alternate_screen());
  CHECK(modes_after("\x1b[?47h").alternate_screen());
  CHECK(modes_after("\x1b[?1047h").alternate_screen());
  CHECK_FALSE(modes_after("\x1b[?1049h\x1b[?1049l").alternate_screen());
  CHECK_FALSE(modes_after("\x1b[?1049h\x1b"
                          "c")
                  .alternate_screen());
}

TEST_CASE("reverse screen mode (DECSCNM) is turned off again") {
  CHECK(restore_after("\x1b[?5h") == "\x1b[?5l");
  CHECK(restore_after("\x1b[?5h\x1b[?5l").empty());
}
