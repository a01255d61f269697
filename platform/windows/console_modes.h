#pragma once
// Raw mode for a Windows console, as logic apart from the console calls so tests can drive it with
// a fake console: what to save, what to set, and putting back exactly what was saved, once.
#include <cstdint>
#include <string>

namespace hvterm::platform::detail {

struct ConsoleModes {
  uint32_t input = 0, output = 0;  // GetConsoleMode of the input handle and of the screen buffer
  uint32_t input_cp = 0, output_cp = 0;
  bool has_output = false;  // no screen buffer: input alone is made raw
};

// Input: no line editing, echo or ^C processing (^C arrives as a byte); keys as VT sequences.
uint32_t raw_input_mode(uint32_t saved);
// Output: VT sequences interpreted, and LF only moves down (the remote PTY sends CR LF itself).
uint32_t vt_output_mode(uint32_t saved, bool exact_newlines);

// The console calls, replaceable in tests.
class ConsoleAccess {
 public:
  virtual ~ConsoleAccess() = default;
  virtual bool read(ConsoleModes& modes) = 0;
  virtual bool set_input_mode(uint32_t mode) = 0;
  virtual bool set_output_mode(uint32_t mode) = 0;
  virtual void set_code_pages(uint32_t input_cp, uint32_t output_cp) = 0;
};

class RawModeKeeper {
 public:
  explicit RawModeKeeper(ConsoleAccess& console) : console_(console) {}
  // Saves the modes the first time only, so raw -> restore -> raw ends in the original modes.
  bool make_raw(std::string& error);
  // Back to the saved modes and code pages; does nothing unless raw.
  void restore();
  bool raw() const { return raw_; }

 private:
  ConsoleAccess& console_;
  ConsoleModes saved_;
  bool saved_valid_ = false;
  bool raw_ = false;
};

}  // namespace hvterm::platform::detail
