// SessionScreen (agent/session_screen.h): the agent's screen of a PTY session, fed at stream
// offsets as the replay buffer lets go of output. Not in builds without libvterm (Windows).
#ifndef _WIN32
#include "agent/session_screen.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>

using namespace hvterm;

namespace {

wire::WinSize size_of(uint16_t rows, uint16_t cols) {
  wire::WinSize size;
  size.rows = rows;
  size.cols = cols;
  return size;
}

std::string numbered_lines(int from, int to) {
  std::string out;
  for (int i = from; i <= to; ++i) out += "L" + std::to_string(i) + "\r\n";
  return out;
}

bool shows(const std::string& repaint, int line) {
  std::string text = "L" + std::to_string(line);
  for (size_t at = repaint.find(text); at != std::string::npos; at = repaint.find(text, at + 1)) {
    char next = at + text.size() < repaint.size() ? repaint[at + text.size()] : '\0';
    if (next < '0' || next > '9') return true;
  }
  return false;
}

}  // namespace

TEST_CASE("session screen: a repaint sends the lines the client has not seen, then the screen") {
  auto screen = make_session_screen(size_of(24, 80), 1000);
  REQUIRE(screen != nullptr);
  std::string first = numbered_lines(1, 30);  // 24 rows: L1..L7 scroll off, the cursor is on the last row
  screen->feed(0, first);
  screen->seen();  // the client saw L1..L30: the rows above the cursor were on its screen
  std::string more = numbered_lines(31, 60);
  screen->feed(first.size(), more);
  std::string repaint = screen->repaint(first.size() + more.size());
  for (int line = 1; line <= 30; ++line) CHECK_MESSAGE(!shows(repaint, line), line);
  for (int line = 31; line <= 60; ++line) CHECK_MESSAGE(shows(repaint, line), line);
}

TEST_CASE("session screen: its own repaint, coming back from the replay buffer, is not fed to it") {
  auto screen = make_session_screen(size_of(24, 80), 1000);
  std::string output = "hello\r\nworld\r\n";
  screen->feed(0, output);
  std::string repaint = screen->repaint(output.size());
  // The client takes the repaint and what follows; the buffer lets go of both.
  screen->feed(output.size(), repaint.substr(0, 5));
  screen->feed(output.size() + 5, repaint.substr(5) + "after\r\n");
  std::string again = screen->repaint(output.size() + repaint.size() + 7);
  CHECK(again.find("hello") != std::string::npos);
  CHECK(again.find("after") != std::string::npos);
  // One "hello": fed once, not once more from the repaint.
  CHECK(again.find("hello") == again.rfind("hello"));
}

TEST_CASE("session screen: a resize takes effect where the output written at the new size starts") {
  // 60 columns of output written at 80 columns stay on one row, cut to 40 by the resize after them;
  // written at 40 columns, they wrap onto two rows and all 60 stay.
  std::string wide(60, 'a');
  auto count_a = [](const std::string& repaint) { return std::count(repaint.begin(), repaint.end(), 'a'); };
  auto resized_after = make_session_screen(size_of(24, 80), 0);
  resized_after->resize(wide.size(), size_of(24, 40));  // read from offset 60 on: after these bytes
  resized_after->feed(0, wide);
  CHECK(count_a(resized_after->repaint(wide.size())) == 40);

  auto resized_before = make_session_screen(size_of(24, 80), 0);
  resized_before->resize(0, size_of(24, 40));
  resized_before->feed(0, wide);
  CHECK(count_a(resized_before->repaint(wide.size())) == 60);
}
#endif
