#pragma once
// Output on its way into libvterm, as strict UTF-8 with every character whole: a character that
// another byte cuts short (an escape sequence in the middle of it) and bytes that are not UTF-8
// become U+FFFD, as xterm shows them, and a character the end of a read cuts short waits for the
// next read. libvterm decodes what is not UTF-8 its own way (5- and 6-byte forms into code points
// past U+10FFFF) into cells that no terminal could be given back.
//
// libvterm 0.1.4 keeps a cut-short character's decoding state across the escape sequence that
// interrupted it; a continuation byte after the sequence then completes it, and in insert mode
// (CSI 4 h) the character that follows crashes it (out-of-bounds memmove in its scroll):
// "\e[4h\xc2\e[m\x80a" is enough. A program's output must not be able to crash the agent.
#include <cstddef>
#include <string>
#include <string_view>

namespace hvterm {

class Utf8Repair {
 public:
  // The bytes to pass on: `bytes` itself when nothing needed repair (the usual case: no copy),
  // otherwise `scratch` filled with the repaired bytes. Either may be empty.
  std::string_view repair(std::string_view bytes, std::string& scratch);

 private:
  std::string pending_;  // the start of a character cut short by the end of the last read
};

}  // namespace hvterm
