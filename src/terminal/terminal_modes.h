#pragma once
// The modes a session's program switched on in the user's terminal (alternate screen, mouse
// reporting, bracketed paste, application keypad and cursor keys, a hidden cursor, colours), as
// seen in the output the terminal was actually given. When hvterm leaves while the program still
// runs (a detach, a lost connection) or after it died without cleaning up, restore() is what turns
// them off again, so the shell the user returns to gets a terminal in the state it left it.
//
// Only the escape sequences that set or reset these modes are followed (ECMA-48 CSI and ESC,
// strings skipped whole); text is skipped with memchr, so following output costs next to nothing.
// Loop-free: bytes in, a restoring sequence out. The agent's Screen uses the same record the other
// way round: reapply_input_modes() turns the modes on again in a terminal that starts afresh.
#include <cstdint>
#include <string>
#include <string_view>

namespace hvterm {

class TerminalModes {
 public:
  void feed(std::string_view bytes);
  // The sequence that undoes every mode still on (empty when none is); the modes then count as off.
  std::string restore();
  // The sequence that turns every input mode still on on again (keys, keypad, mouse and its
  // encodings, focus events, bracketed paste, modifyOtherKeys) and hides the cursor if it is
  // hidden (unless told to leave the cursor to the caller, who knows better). Not the alternate
  // screen nor colours: whoever redraws the screen sets those itself.
  enum class CursorVisibility : uint8_t { Included, LeftOut };
  std::string reapply_input_modes(CursorVisibility cursor = CursorVisibility::Included) const;
  bool alternate_screen() const;

 private:
  enum class State : uint8_t { Ground, Escape, Csi, String, StringEscape };
  void csi_final(char final);
  void private_mode(unsigned mode, bool on);

  State state_ = State::Ground;
  // The parameter bytes of the CSI sequence being read; one too long for any mode we follow is
  // marked and ignored.
  char params_[32] = {};
  uint8_t params_size_ = 0;
  bool params_overflow_ = false;
  char intermediate_ = 0;  // the last intermediate byte (DECSTR is CSI ! p), 0 for none

  // What is on, as a bit per followed mode (see terminal_modes.cpp).
  uint32_t on_ = 0;
  // modifyOtherKeys' level (1 or 2) while it is on: vim asks for 2, which reapplying must keep.
  uint8_t modify_other_keys_level_ = 0;
};

}  // namespace hvterm
