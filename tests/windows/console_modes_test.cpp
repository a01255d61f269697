// Raw console mode: what is set, and that exactly the saved state comes back (platform/windows/console_modes).
#include <doctest/doctest.h>

#include <vector>

#include "platform/windows/console_modes.h"
#include "platform/windows/internal.h"

using namespace hvterm::platform::detail;

namespace {

class FakeConsole final : public ConsoleAccess {
 public:
  ConsoleModes now{0x1F7, 0x3, 437, 850, true};  // a classic cmd.exe console
  bool refuse_vt_input = false, refuse_exact_newlines = false, refuse_vt_output = false;
  int writes = 0;

  bool read(ConsoleModes& modes) override {
    modes = now;
    return true;
  }
  bool set_input_mode(uint32_t mode) override {
    if (refuse_vt_input && (mode & ENABLE_VIRTUAL_TERMINAL_INPUT)) return false;
    ++writes;
    now.input = mode;
    return true;
  }
  bool set_output_mode(uint32_t mode) override {
    if (refuse_vt_output || (refuse_exact_newlines && (mode & DISABLE_NEWLINE_AUTO_RETURN))) return false;
    ++writes;
    now.output = mode;
    return true;
  }
  void set_code_pages(uint32_t in, uint32_t out) override {
    ++writes;
    now.input_cp = in;
    now.output_cp = out;
  }
};

}  // namespace

TEST_CASE("raw input: no line editing, echo or Ctrl+C processing; VT keys; other bits kept") {
  uint32_t raw = raw_input_mode(0x1F7);
  CHECK((raw & (ENABLE_LINE_INPUT | ENABLE_ECHO_INPUT | ENABLE_PROCESSED_INPUT)) == 0);
  CHECK((raw & ENABLE_VIRTUAL_TERMINAL_INPUT) != 0);
  CHECK((raw & ENABLE_QUICK_EDIT_MODE) != 0);
  CHECK((raw & ENABLE_EXTENDED_FLAGS) != 0);
  uint32_t out = vt_output_mode(0x3, true);
  CHECK((out & ENABLE_VIRTUAL_TERMINAL_PROCESSING) != 0);
  CHECK((out & DISABLE_NEWLINE_AUTO_RETURN) != 0);
  CHECK((vt_output_mode(0x3, false) & DISABLE_NEWLINE_AUTO_RETURN) == 0);
}

TEST_CASE("make_raw then restore leaves exactly the saved modes and code pages") {
  FakeConsole console;
  ConsoleModes before = console.now;
  RawModeKeeper keeper(console);
  std::string error;
  REQUIRE(keeper.make_raw(error));
  CHECK(console.now.input == raw_input_mode(before.input));
  CHECK(console.now.output == vt_output_mode(before.output, true));
  CHECK(console.now.input_cp == 65001);
  CHECK(console.now.output_cp == 65001);
  keeper.restore();
  CHECK(console.now.input == before.input);
  CHECK(console.now.output == before.output);
  CHECK(console.now.input_cp == 437);
  CHECK(console.now.output_cp == 850);
}

TEST_CASE("restore is idempotent; raw again after restore still returns to the first saved state") {
  FakeConsole console;
  ConsoleModes before = console.now;
  RawModeKeeper keeper(console);
  std::string error;
  keeper.restore();
  CHECK(console.writes == 0);  // never raw: nothing to put back
  REQUIRE(keeper.make_raw(error));
  keeper.restore();
  int writes = console.writes;
  keeper.restore();
  CHECK(console.writes == writes);
  console.now.input = 0x0;  // someone else changed it meanwhile
  REQUIRE(keeper.make_raw(error));
  keeper.restore();
  CHECK(console.now.input == before.input);
}

TEST_CASE(
    "older consoles: VT output without exact newlines is accepted; no VT input is an error that changes nothing") {
  FakeConsole old;
  old.refuse_exact_newlines = true;
  RawModeKeeper keeper(old);
  std::string error;
  REQUIRE(keeper.make_raw(error));
  CHECK(old.now.output == vt_output_mode(0x3, false));

  FakeConsole ancient;
  ancient.refuse_vt_input = true;
  ConsoleModes before = ancient.now;
  RawModeKeeper refused(ancient);
  CHECK_FALSE(refused.make_raw(error));
  CHECK(error.find("VT sequences") != std::string::npos);
  CHECK_FALSE(refused.raw());
  CHECK(ancient.now.input == before.input);
  CHECK(ancient.now.input_cp == before.input_cp);

  FakeConsole no_vt_output;
  no_vt_output.refuse_vt_output = true;
  RawModeKeeper rolled_back(no_vt_output);
  CHECK_FALSE(rolled_back.make_raw(error));
  CHECK(no_vt_output.now.input == 0x1F7);  // the input mode was put back
}

TEST_CASE("a console without a screen buffer (output redirected) has only its input made raw") {
  FakeConsole console;
  console.now.has_output = false;
  RawModeKeeper keeper(console);
  std::string error;
  REQUIRE(keeper.make_raw(error));
  CHECK(console.now.output == 0x3);
}
