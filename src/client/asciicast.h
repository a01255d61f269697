#pragma once
// asciicast v2, the format asciinema plays (https://docs.asciinema.org/manual/asciicast/v2/): a
// JSON header on the first line, then one JSON array per line for each event. Pure text in, text
// out: the session client decides when and where the lines go.
//
// A program's output is bytes, JSON strings are Unicode. Valid UTF-8 is kept as it is; every
// byte that is not part of valid UTF-8 becomes a lone surrogate \udc80-\udcff, the convention of
// Python's "surrogateescape", so that the recording is valid JSON and still holds the exact bytes
// (json.loads(line)[2].encode("utf-8", "surrogateescape")).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hvterm::asciicast {

struct Header {
  unsigned width = 80, height = 24;
  int64_t timestamp = 0;            // Unix seconds when the recording began
  std::optional<std::string> term;  // the recording terminal's TERM and SHELL, when set
  std::optional<std::string> shell;
};

// The first line of the file, newline included.
std::string header_line(const Header& header);
// `[seconds, "r", "COLSxROWS"]` and its newline: the terminal was resized.
std::string resize_line(double seconds, unsigned cols, unsigned rows);
// `bytes` as the contents of a JSON string (no quotes): as described above, with `"`, `\` and
// control characters (U+0000-U+001F, U+007F) escaped per JSON.
void append_json_string(std::string& out, std::string_view bytes);

// Output events. A multi-byte character split across two reads must not become two escaped
// halves: the incomplete tail of one chunk is held back and leads the next.
class OutputEncoder {
 public:
  // `[seconds, "o", "..."]` and its newline for `bytes` (after what was held back), or "" when
  // all of it is held back.
  std::string event(double seconds, std::string_view bytes);
  // What was held back and never completed, as a last event ("" when nothing was).
  std::string finish(double seconds);
  size_t held_back() const { return carry_.size(); }

 private:
  std::string line(double seconds, std::string_view bytes) const;
  std::string carry_;
};

}  // namespace hvterm::asciicast
