#include "common/printable.h"

#include <cstdint>
#include <cstdio>

#include "common/utf8.h"

namespace hvterm {
namespace {

// Code points a terminal acts on instead of showing, or that reorder or break the text around them.
bool invisible(uint32_t c) {
  return c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0x9F) || c == 0x2028 || c == 0x2029 ||
         (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069);
}

std::string hex(const char* format, uint32_t value) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), format, static_cast<unsigned>(value));
  return buf;
}

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    uint32_t c;
    size_t length = decode_utf8(text, i, c);
    if (length == 0) {
      out += hex("\\x%02x", static_cast<unsigned char>(text[i]));
      ++i;
      continue;
    }
    if (!invisible(c)) {
      out.append(text, i, length);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == 0x1B) {
      out += "\\e";
    } else {
      out += c < 0x80 ? hex("\\x%02x", c) : hex("\\u%04x", c);
    }
    i += length;
  }
  return out;
}

std::string shorten(std::string_view text, size_t columns) {
  if (columns < 1) columns = 1;
  size_t count = 0, cut = 0;  // characters seen; where the first columns - 1 of them end
  for (size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;  // inside a character
    if (count == columns - 1) cut = i;
    if (++count > columns) return std::string(text.substr(0, cut)) + "\xE2\x80\xA6";  // U+2026 …
  }
  return std::string(text);
}

std::string join_words(const std::vector<std::string>& words) {
  std::string text;
  for (const auto& word : words) text += (text.empty() ? "" : " ") + word;
  return text;
}

}  // namespace hvterm
