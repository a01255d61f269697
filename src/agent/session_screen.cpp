#include "agent/session_screen.h"

#include <algorithm>
#include <deque>
#include <utility>

#include <vterm.h>

#include "terminal/screen.h"

namespace hvterm {
namespace {

// A client that gave no size (a script's exec -t): what a terminal has when nobody says.
uint16_t rows_of(const wire::WinSize& size) { return size.rows > 0 ? size.rows : 24; }
uint16_t cols_of(const wire::WinSize& size) { return size.cols > 0 ? size.cols : 80; }

class EmulatedScreen final : public SessionScreen {
 public:
  EmulatedScreen(const wire::WinSize& size, size_t scrollback_lines)
      : screen_(rows_of(size), cols_of(size), scrollback_lines) {
    screen_.keep_scrollback(false);  // the client that opens the session is attached
  }

  void feed(uint64_t offset, std::string_view bytes) override {
    position_ = offset;
    while (!bytes.empty()) {
      apply_resizes_due();
      size_t n = bytes.size();
      if (position_ >= skip_from_ && position_ < skip_to_) {
        n = static_cast<size_t>(std::min<uint64_t>(n, skip_to_ - position_));  // our own repaint
      } else {
        if (skip_from_ > position_) n = static_cast<size_t>(std::min<uint64_t>(n, skip_from_ - position_));
        if (!resizes_.empty() && resizes_.front().first > position_)
          n = static_cast<size_t>(std::min<uint64_t>(n, resizes_.front().first - position_));
        pending_.append(bytes.substr(0, n));
      }
      bytes.remove_prefix(n);
      position_ += n;
    }
    apply_resizes_due();
    if (pending_.size() >= kFeedBatch) flush();
  }

  void settle() override {
    flush();
    pending_ = std::string();  // an idle session keeps no buffer
  }

  void resize(uint64_t offset, const wire::WinSize& size) override {
    if (size.rows == 0 || size.cols == 0) return;
    resizes_.emplace_back(offset, size);
    apply_resizes_due();
  }

  void seen() override {
    flush();
    // The rows above the cursor were on the client's screen: when they scroll off later, they are
    // not news to it. (Lines the program overwrote in place may then be skipped too: the screen is
    // what counts.)
    VTermPos cursor{};
    vterm_state_get_cursorpos(screen_.vterm_state(), &cursor);
    lines_seen_ = screen_.lines_scrolled() + static_cast<uint64_t>(std::max(cursor.row, 0));
    screen_.keep_scrollback(true);  // what comes next is news to the next client
  }

  std::string repaint(uint64_t offset) override {
    position_ = std::max(position_, offset);
    apply_resizes_due();
    flush();
    std::string bytes = screen_.render(lines_seen_);
    screen_.keep_scrollback(false);  // the client attaching now shows all that follows itself
    skip_from_ = offset;
    skip_to_ = offset + bytes.size();
    return bytes;
  }

  std::string view() override {
    flush();
    return screen_.render(screen_.lines_scrolled());
  }

 private:
  // Output is fed in pieces of at least this much: libvterm writes every line it is given into
  // its cells, and of a flood of lines fed at once only the last screenful is written
  // (Screen::feed_plain_lines). A PTY gives 4 KiB at a time.
  static constexpr size_t kFeedBatch = 32 * 1024;

  void flush() {
    if (pending_.empty()) return;
    screen_.feed(pending_);
    pending_.clear();
  }

  void apply_resizes_due() {
    while (!resizes_.empty() && resizes_.front().first <= position_) {
      flush();  // what came before the resize was written at the old size
      screen_.resize(rows_of(resizes_.front().second), cols_of(resizes_.front().second));
      resizes_.pop_front();
    }
  }

  Screen screen_;
  std::string pending_;    // fed, not yet given to the screen
  uint64_t position_ = 0;  // the stream offset fed up to
  uint64_t lines_seen_ = 0;
  uint64_t skip_from_ = 0, skip_to_ = 0;  // the last repaint's place in the stream
  std::deque<std::pair<uint64_t, wire::WinSize>> resizes_;
};

}  // namespace

bool keeps_screens() { return true; }

std::unique_ptr<SessionScreen> make_session_screen(const wire::WinSize& size, size_t scrollback_lines) {
  return std::make_unique<EmulatedScreen>(size, scrollback_lines);
}

}  // namespace hvterm
