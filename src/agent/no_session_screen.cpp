// Builds without libvterm (the Windows cross build: Debian has no MinGW libvterm).
#include "agent/session_screen.h"

namespace hvterm {

bool keeps_screens() { return false; }

std::unique_ptr<SessionScreen> make_session_screen(const wire::WinSize&, size_t) { return nullptr; }

}  // namespace hvterm
