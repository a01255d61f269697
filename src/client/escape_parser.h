#pragma once
// ssh-style escapes on typed input: recognised only right after Enter (or at the very start),
// so a '~' inside a line is just a '~'. Pure logic; the bridge acts on the commands.
#include <optional>
#include <string>
#include <vector>

namespace hvterm {

class EscapeParser {
 public:
  enum class Command { Detach, Help, Suspend, Status };
  struct Event {
    enum class Kind { Data, Command } kind;
    std::string data;   // Kind::Data
    Command command{};  // Kind::Command
  };

  // escape = 0 disables escapes entirely.
  explicit EscapeParser(char escape) : escape_(escape) {}
  // Typed bytes in, forwarded bytes and commands out, in the order they occurred.
  std::vector<Event> feed(std::string_view typed);
  char escape() const { return escape_; }

 private:
  char escape_;
  bool line_start_ = true;
  bool pending_escape_ = false;
};

std::string escape_help_text(char escape);

// The escape character as --escape and the config file write it: one character, ^X for a control
// character, or "none" (0: no escapes). Empty when the text is none of these.
std::optional<char> parse_escape_char(const std::string& text);  // the ~? screen, with \r\n line ends

}  // namespace hvterm
