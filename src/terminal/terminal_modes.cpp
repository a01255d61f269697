#include "terminal/terminal_modes.h"

#include <cstring>

namespace hvterm {
namespace {

// One bit per mode followed, in the order restore() turns them off: input modes first (a mouse
// report arriving in the user's shell is garbage on its command line), the alternate screen after
// them, and the cursor shown last, on the screen the user is back to.
enum Bit : uint32_t {
  kColours = 1u << 0,
  kMouseX10 = 1u << 1,
  kMouseNormal = 1u << 2,
  kMouseHighlight = 1u << 3,
  kMouseButtons = 1u << 4,
  kMouseAny = 1u << 5,
  kMouseUtf8 = 1u << 6,
  kMouseSgr = 1u << 7,
  kMouseUrxvt = 1u << 8,
  kMouseSgrPixels = 1u << 9,
  kFocusEvents = 1u << 10,
  kBracketedPaste = 1u << 11,
  kModifyOtherKeys = 1u << 12,
  kKeypad = 1u << 13,
  kCursorKeys = 1u << 14,
  kAltScreen47 = 1u << 15,
  kAltScreen1047 = 1u << 16,
  kAltScreen1049 = 1u << 17,
  kCursorHidden = 1u << 18,
  kReverseScreen = 1u << 19,  // DECSCNM: the whole screen in reverse video
};

// What undoes each mode, and what turns it on again when a fresh terminal is to show the program
// as it is (nullptr: not an input mode, left to whoever redraws the screen; modifyOtherKeys takes
// its level, see reapply_input_modes).
struct Sequences {
  Bit bit;
  const char* restore;
  const char* reapply;
};
constexpr Sequences kSequences[] = {
    {kColours, "\x1b[0m", nullptr},
    {kMouseX10, "\x1b[?9l", "\x1b[?9h"},
    {kMouseNormal, "\x1b[?1000l", "\x1b[?1000h"},
    {kMouseHighlight, "\x1b[?1001l", "\x1b[?1001h"},
    {kMouseButtons, "\x1b[?1002l", "\x1b[?1002h"},
    {kMouseAny, "\x1b[?1003l", "\x1b[?1003h"},
    {kMouseUtf8, "\x1b[?1005l", "\x1b[?1005h"},
    {kMouseSgr, "\x1b[?1006l", "\x1b[?1006h"},
    {kMouseUrxvt, "\x1b[?1015l", "\x1b[?1015h"},
    {kMouseSgrPixels, "\x1b[?1016l", "\x1b[?1016h"},
    {kFocusEvents, "\x1b[?1004l", "\x1b[?1004h"},
    {kBracketedPaste, "\x1b[?2004l", "\x1b[?2004h"},
    {kModifyOtherKeys, "\x1b[>4m", nullptr},
    {kKeypad, "\x1b>", "\x1b="},
    {kCursorKeys, "\x1b[?1l", "\x1b[?1h"},
    {kAltScreen47, "\x1b[?47l", nullptr},
    {kAltScreen1047, "\x1b[?1047l", nullptr},
    {kAltScreen1049, "\x1b[?1049l", nullptr},
    {kCursorHidden, "\x1b[?25h", "\x1b[?25l"},
    {kReverseScreen, "\x1b[?5l", nullptr},
};

// DECSET/DECRST numbers and the bit each sets when on (25's bit is "hidden": ?25l sets it).
struct PrivateMode {
  unsigned number;
  Bit bit;
};
constexpr PrivateMode kPrivateModes[] = {
    {1, kCursorKeys},        {9, kMouseX10},         {47, kAltScreen47},      {1000, kMouseNormal},
    {1001, kMouseHighlight}, {1002, kMouseButtons},  {1003, kMouseAny},       {1004, kFocusEvents},
    {1005, kMouseUtf8},      {1006, kMouseSgr},      {1015, kMouseUrxvt},     {1016, kMouseSgrPixels},
    {1047, kAltScreen1047},  {1049, kAltScreen1049}, {2004, kBracketedPaste}, {25, kCursorHidden},
    {5, kReverseScreen},
};

constexpr char kEsc = 0x1b;

// "12;0;3" as numbers, one call each; an empty parameter is 0, as ECMA-48 has it.
template <typename Each>
void for_each_parameter(std::string_view params, Each each) {
  while (true) {
    size_t end = params.find(';');
    std::string_view one = params.substr(0, end);
    unsigned value = 0;
    for (char c : one) {
      if (c < '0' || c > '9' || value > 100000) {
        value = ~0u;  // a sub-parameter (38:2:…) or nonsense: matches no mode
        break;
      }
      value = value * 10 + static_cast<unsigned>(c - '0');
    }
    each(value);
    if (end == std::string_view::npos) return;
    params.remove_prefix(end + 1);
  }
}

}  // namespace

void TerminalModes::feed(std::string_view bytes) {
  const char* p = bytes.data();
  const char* end = p + bytes.size();
  while (p < end) {
    if (state_ == State::Ground) {
      const void* escape = std::memchr(p, kEsc, static_cast<size_t>(end - p));
      if (escape == nullptr) return;
      p = static_cast<const char*>(escape) + 1;
      state_ = State::Escape;
      continue;
    }
    char c = *p++;
    switch (state_) {
      case State::Ground: break;  // handled above
      case State::Escape:
        state_ = State::Ground;
        switch (c) {
          case '[':
            state_ = State::Csi;
            params_size_ = 0;
            params_overflow_ = false;
            intermediate_ = 0;
            break;
          case ']':  // OSC, DCS, APC, PM, SOS: a string up to BEL or ST, whatever it holds
          case 'P':
          case '_':
          case '^':
          case 'X': state_ = State::String; break;
          case '=': on_ |= kKeypad; break;
          case '>': on_ &= ~kKeypad; break;
          case 'c':  // RIS: the terminal resets itself
            on_ = 0;
            modify_other_keys_level_ = 0;
            break;
          case kEsc: state_ = State::Escape; break;
          default: break;
        }
        break;
      case State::Csi:
        if (c >= 0x30 && c <= 0x3f) {
          if (params_size_ < sizeof params_)
            params_[params_size_++] = c;
          else
            params_overflow_ = true;
        } else if (c >= 0x20 && c <= 0x2f) {
          intermediate_ = c;
        } else if (c >= 0x40 && c <= 0x7e) {
          state_ = State::Ground;
          if (!params_overflow_) csi_final(c);
        } else if (c == kEsc) {
          state_ = State::Escape;  // the sequence was cut short
        } else if (c == 0x18 || c == 0x1a) {
          state_ = State::Ground;  // CAN, SUB: cancelled
        }
        break;
      case State::String:
        if (c == 0x07)
          state_ = State::Ground;
        else if (c == kEsc)
          state_ = State::StringEscape;
        break;
      case State::StringEscape:
        if (c == '\\')
          state_ = State::Ground;
        else if (c != kEsc)
          state_ = State::String;
        break;
    }
  }
}

void TerminalModes::csi_final(char final) {
  std::string_view params(params_, params_size_);
  if (intermediate_ != 0) {
    if (intermediate_ == '!' && final == 'p' && params.empty())
      on_ &= ~(kKeypad | kCursorKeys | kColours | kCursorHidden);  // DECSTR
    return;
  }
  if (!params.empty() && params.front() == '?') {
    if (final != 'h' && final != 'l') return;
    for_each_parameter(params.substr(1), [&](unsigned mode) { private_mode(mode, final == 'h'); });
    return;
  }
  if (final != 'm') return;
  if (!params.empty() && params.front() == '>') {
    // xterm's modifyOtherKeys: CSI > 4 ; N m, off with N = 0 or none.
    bool resource = true, first = true;
    unsigned level = 0;
    for_each_parameter(params.substr(1), [&](unsigned value) {
      if (first)
        resource = value == 4;
      else
        level = value;
      first = false;
    });
    if (!resource) return;
    if (level == 0) {
      on_ &= ~kModifyOtherKeys;
      modify_other_keys_level_ = 0;
    } else {
      on_ |= kModifyOtherKeys;
      modify_other_keys_level_ = level == 1 ? 1 : 2;  // xterm knows no level above 2
    }
    return;
  }
  if (params.find_first_not_of("0;") == std::string_view::npos)
    on_ &= ~kColours;  // SGR 0 (or none): default colours and attributes
  else if (params.front() >= '0' && params.front() <= '9')
    on_ |= kColours;
}

void TerminalModes::private_mode(unsigned mode, bool on) {
  if (mode == 25) on = !on;  // ?25l hides the cursor: that is what needs undoing
  for (const auto& known : kPrivateModes) {
    if (known.number != mode) continue;
    if (on)
      on_ |= known.bit;
    else
      on_ &= ~known.bit;
    return;
  }
}

std::string TerminalModes::restore() {
  std::string sequence;
  for (const auto& mode : kSequences)
    if (on_ & mode.bit) sequence += mode.restore;
  on_ = 0;
  modify_other_keys_level_ = 0;
  return sequence;
}

std::string TerminalModes::reapply_input_modes(CursorVisibility cursor) const {
  std::string sequence;
  uint32_t on = cursor == CursorVisibility::Included ? on_ : on_ & ~kCursorHidden;
  for (const auto& mode : kSequences)
    if ((on & mode.bit) && mode.reapply != nullptr) sequence += mode.reapply;
  if (on_ & kModifyOtherKeys) sequence += "\x1b[>4;" + std::to_string(modify_other_keys_level_) + "m";
  return sequence;
}

bool TerminalModes::alternate_screen() const { return (on_ & (kAltScreen47 | kAltScreen1047 | kAltScreen1049)) != 0; }

}  // namespace hvterm
