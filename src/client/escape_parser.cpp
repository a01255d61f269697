#include "client/escape_parser.h"

namespace hvterm {

std::vector<EscapeParser::Event> EscapeParser::feed(std::string_view typed) {
  std::vector<Event> events;
  std::string forward;
  auto command = [&](Command c) {
    if (!forward.empty()) events.push_back({Event::Kind::Data, std::move(forward), {}});
    forward.clear();
    events.push_back({Event::Kind::Command, {}, c});
  };
  for (char c : typed) {
    if (escape_ == 0) {
      forward.push_back(c);
      continue;
    }
    if (pending_escape_) {
      pending_escape_ = false;
      switch (c) {
        case '.': command(Command::Detach); continue;
        case '?': command(Command::Help); continue;
        case '#': command(Command::Status); continue;
        case 0x1A: command(Command::Suspend); continue;  // ^Z
        default:
          if (c != escape_) forward.push_back(escape_);  // not a command: the escape was literal
          forward.push_back(c);
          line_start_ = c == '\r' || c == '\n';
          continue;
      }
    }
    if (line_start_ && c == escape_) {
      pending_escape_ = true;  // held back until we see what follows
      continue;
    }
    forward.push_back(c);
    line_start_ = c == '\r' || c == '\n';
  }
  if (!forward.empty()) events.push_back({Event::Kind::Data, std::move(forward), {}});
  return events;
}

std::string escape_help_text(char e) {
  std::string esc(1, e);
  return "\r\nSupported escape sequences (after Enter):\r\n"
         " " +
         esc +
         ".   detach (the session keeps running; 'hvterm attach' resumes it)\r\n"
         " " +
         esc +
         "#   show the session id and connection state\r\n"
         " " +
         esc +
         "^Z  suspend hvterm\r\n"
         " " +
         esc +
         "?   this help\r\n"
         " " +
         esc + esc + "   send a literal " + esc + "\r\n";
}

std::optional<char> parse_escape_char(const std::string& text) {
  if (text == "none") return '\0';
  if (text.size() == 1) return text[0];
  if (text.size() == 2 && text[0] == '^' && text[1] >= '@' && text[1] <= '_') return static_cast<char>(text[1] - '@');
  return std::nullopt;
}

}  // namespace hvterm
