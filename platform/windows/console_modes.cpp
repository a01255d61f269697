#include "platform/windows/console_modes.h"

#include "platform/windows/internal.h"

namespace hvterm::platform::detail {

uint32_t raw_input_mode(uint32_t saved) {
  uint32_t mode = saved & ~static_cast<uint32_t>(ENABLE_LINE_INPUT | ENABLE_ECHO_INPUT | ENABLE_PROCESSED_INPUT);
  return mode | ENABLE_VIRTUAL_TERMINAL_INPUT;
}

uint32_t vt_output_mode(uint32_t saved, bool exact_newlines) {
  uint32_t mode = saved | ENABLE_PROCESSED_OUTPUT | ENABLE_VIRTUAL_TERMINAL_PROCESSING;
  return exact_newlines ? mode | DISABLE_NEWLINE_AUTO_RETURN : mode;
}

bool RawModeKeeper::make_raw(std::string& error) {
  if (raw_) return true;
  if (!saved_valid_) {
    if (!console_.read(saved_)) {
      error = "cannot read the console mode: " + system_error_text(GetLastError());
      return false;
    }
    saved_valid_ = true;
  }
  if (!console_.set_input_mode(raw_input_mode(saved_.input))) {
    error = "this console cannot send keys as VT sequences (it needs Windows 10 1809 or later): " +
            system_error_text(GetLastError());
    return false;
  }
  // Consoles before Windows 10 1809 refuse DISABLE_NEWLINE_AUTO_RETURN but still do VT output.
  if (saved_.has_output && !console_.set_output_mode(vt_output_mode(saved_.output, true)) &&
      !console_.set_output_mode(vt_output_mode(saved_.output, false))) {
    error = "this console cannot interpret VT sequences: " + system_error_text(GetLastError());
    console_.set_input_mode(saved_.input);
    return false;
  }
  console_.set_code_pages(CP_UTF8, CP_UTF8);
  raw_ = true;
  return true;
}

void RawModeKeeper::restore() {
  if (!raw_) return;
  raw_ = false;
  console_.set_input_mode(saved_.input);
  if (saved_.has_output) console_.set_output_mode(saved_.output);
  console_.set_code_pages(saved_.input_cp, saved_.output_cp);
}

}  // namespace hvterm::platform::detail
