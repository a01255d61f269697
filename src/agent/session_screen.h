#pragma once
// What a PTY session's terminal shows, kept in the agent so that its program never waits for a
// reader: once the client has detached (~.), the output goes into the screen instead of the replay
// buffer, and whoever attaches next is sent the screen rather than everything printed meanwhile,
// as tmux does. While a client is attached, or its connection was cut and it may resume, the
// replay buffer keeps every byte as before; only what it lets go of (delivered, or discarded for a
// detached session) is fed here, so the screen is always at the position the client last saw.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "protocol/wire.h"

namespace hvterm {

class SessionScreen {
 public:
  virtual ~SessionScreen() = default;
  // The program's output, at its stream offset, as the replay buffer lets go of it.
  virtual void feed(uint64_t offset, std::string_view bytes) = 0;
  // The PTY takes `size` from stream offset `offset` on (the output fed until then was written at
  // the old size).
  virtual void resize(uint64_t offset, const wire::WinSize& size) = 0;
  // The client has seen what was fed so far: a later repaint sends only lines it has not seen.
  virtual void seen() = 0;
  // Bytes that show the screen on a terminal that attaches now (its lines scrolled off since
  // seen(), then the screen, cursor and modes), sent at stream offset `offset`: feed() passes over
  // them when they come back to it.
  virtual std::string repaint(uint64_t offset) = 0;
  // Bytes that show the screen as it stands (no scrolled-off lines) on a terminal at its main
  // screen with default modes: for a viewer joining, on a stream of its own.
  virtual std::string view() = 0;
  // Nothing is being delivered for now (the client has acknowledged everything): hold no more
  // memory than the screen itself.
  virtual void settle() = 0;
};

// Whether this build keeps screens (then several clients may show one session).
bool keeps_screens();

// Nothing where the build has no terminal emulator (Windows, for now): the session then keeps its
// output in the replay buffer and its program waits when that is full, whether attached or not.
std::unique_ptr<SessionScreen> make_session_screen(const wire::WinSize& size, size_t scrollback_lines);

}  // namespace hvterm
