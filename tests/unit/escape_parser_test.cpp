// EscapeParser (client/escape_parser.h): ssh-style escapes recognised only at the start of a line.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "client/escape_parser.h"

using namespace hvterm;
using Command = EscapeParser::Command;
using EventKind = EscapeParser::Event::Kind;

namespace {

// A compact rendering of events: data as-is, commands as <detach>, <help>, <suspend>, <status>.
std::string render(const std::vector<EscapeParser::Event>& events) {
  std::string out;
  for (const auto& e : events) {
    if (e.kind == EventKind::Data) {
      CHECK_FALSE(e.data.empty());  // no empty data events
      out += e.data;
    } else {
      switch (e.command) {
        case Command::Detach: out += "<detach>"; break;
        case Command::Help: out += "<help>"; break;
        case Command::Suspend: out += "<suspend>"; break;
        case Command::Status: out += "<status>"; break;
      }
    }
  }
  return out;
}

std::string run(const std::string& typed, char escape = '~') {
  EscapeParser parser(escape);
  return render(parser.feed(typed));
}

// Same input fed one byte per call.
std::string run_bytewise(const std::string& typed, char escape = '~') {
  EscapeParser parser(escape);
  std::string out;
  for (char c : typed) out += render(parser.feed(std::string_view(&c, 1)));
  return out;
}

}  // namespace

TEST_CASE("~. detaches at the start of input and after Enter") {
  CHECK(run("~.") == "<detach>");
  CHECK(run("ls\r~.") == "ls\r<detach>");
  CHECK(run("ls\n~.") == "ls\n<detach>");
  CHECK(run("a\r\n~.") == "a\r\n<detach>");
}

TEST_CASE("events keep their order, data before and after a command") {
  EscapeParser parser('~');
  auto events = parser.feed("echo\r~#more");
  REQUIRE(events.size() == 3);
  CHECK(events[0].kind == EventKind::Data);
  CHECK(events[0].data == "echo\r");
  CHECK(events[1].kind == EventKind::Command);
  CHECK(events[1].command == Command::Status);
  CHECK(events[2].kind == EventKind::Data);
  CHECK(events[2].data == "more");
}

TEST_CASE("mid-line ~ is an ordinary character") {
  CHECK(run("a~.") == "a~.");
  CHECK(run("cd ~/src\r") == "cd ~/src\r");
  CHECK(run("x~~") == "x~~");
  CHECK(run("x~?") == "x~?");
  CHECK(run("ls\r.~.") == "ls\r.~.");
}

TEST_CASE("the other escapes") {
  CHECK(run("~?") == "<help>");
  CHECK(run("~#") == "<status>");
  CHECK(run(std::string("~\x1a")) == "<suspend>");
  CHECK(run("~~") == "~");
  CHECK(run("\r~~.") == "\r~.");  // the literal ~ starts no escape, so ~. after it is just text
  CHECK(run("~x") == "~x");
  CHECK(run("~ ") == "~ ");
  CHECK(run("~Z") == "~Z");  // only ^Z suspends
}

TEST_CASE("a non-command after the escape is forwarded with the escape, line state follows it") {
  CHECK(run("~\r~.") == "~\r<detach>");  // ~ then Enter: a new line starts
  CHECK(run("~x~.") == "~x~.");          // ~x is mid-line text
  CHECK(run("~~~.") == "~~.");           // the second ~ is mid-line
}

TEST_CASE("after a command the next escape still needs a line start") {
  CHECK(run("~?~.") == "<help><detach>");  // still at a line start: nothing was sent
  CHECK(run("~#ab~.") == "<status>ab~.");
  CHECK(run("~?\r~.") == "<help>\r<detach>");
}

TEST_CASE("an escape split across feeds") {
  // The ~ is held back until the next byte tells what it is.
  EscapeParser p2('~');
  CHECK(render(p2.feed("ls\r~")) == "ls\r");
  CHECK(render(p2.feed(".")) == "<detach>");

  EscapeParser p3('~');
  CHECK(render(p3.feed("~")).empty());
  CHECK(render(p3.feed("x")) == "~x");

  EscapeParser p4('~');
  CHECK(render(p4.feed("~")).empty());
  CHECK(render(p4.feed("~")) == "~");
  CHECK(render(p4.feed(".")) == ".");

  EscapeParser p5('~');
  CHECK(render(p5.feed("abc\r")) == "abc\r");
  CHECK(render(p5.feed("~")).empty());
  CHECK(render(p5.feed("")).empty());
  CHECK(render(p5.feed("?")) == "<help>");
}

TEST_CASE("byte-at-a-time feeding gives the same result as one feed") {
  for (const std::string input : {"~.", "hello\r~.", "a~.b\r~?~~x\n~#y\r~\x1a", "~~~~\r\r~x~.", "\n\n~~"}) {
    INFO(input);
    CHECK(run_bytewise(input) == run(input));
  }
}

TEST_CASE("a custom escape character") {
  CHECK(run("!.", '!') == "<detach>");
  CHECK(run("ls\r!.", '!') == "ls\r<detach>");
  CHECK(run("!!", '!') == "!");
  CHECK(run("!?", '!') == "<help>");
  CHECK(run("~.", '!') == "~.");  // ~ is ordinary now
  CHECK(run("a!.", '!') == "a!.");
  EscapeParser parser('^');
  CHECK(parser.escape() == '^');
}

TEST_CASE("escape 0 disables escapes") {
  EscapeParser parser(0);
  CHECK(parser.escape() == 0);
  std::string all;
  for (int c = 0; c < 256; ++c) all.push_back(static_cast<char>(c));
  std::string typed = "~.\r~.~?~~" + all + "\n~#";
  CHECK(render(parser.feed(typed)) == typed);
  // NUL is not an escape character either, not even at a line start.
  EscapeParser fresh(0);
  const std::string nul_lines("\0.\r\0?\n\0\0", 8);
  CHECK(render(fresh.feed(nul_lines)) == nul_lines);
}

TEST_CASE("bytes that are not escapes pass through untouched, including NUL and UTF-8") {
  std::string binary("\0\x01\xff\xc3\xa9\x1b[A", 8);
  CHECK(run("x" + binary) == "x" + binary);
  CHECK(run(binary) == binary);
}

TEST_CASE("help text names the escape character") {
  std::string help = escape_help_text('!');
  CHECK(help.find("!.") != std::string::npos);
  CHECK(help.find("!?") != std::string::npos);
  CHECK(help.find("!#") != std::string::npos);
  CHECK(help.find("!!") != std::string::npos);
  CHECK(help.find("~") == std::string::npos);
  CHECK(help.find("\r\n") != std::string::npos);
  // Every line ends with \r\n, as the terminal is in raw mode.
  for (size_t i = 0; i < help.size(); ++i)
    if (help[i] == '\n') CHECK((i > 0 && help[i - 1] == '\r'));
}
