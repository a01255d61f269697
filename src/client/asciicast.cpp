#include "client/asciicast.h"

#include <cstdio>

#include "common/utf8.h"

namespace hvterm::asciicast {
namespace {

void append_hex4(std::string& out, unsigned value) {
  char text[8];
  std::snprintf(text, sizeof(text), "\\u%04x", value);
  out += text;
}

// Microseconds, as asciinema writes them; rounding keeps a non-decreasing clock non-decreasing.
std::string seconds_text(double seconds) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.6f", seconds < 0 ? 0.0 : seconds);
  return text;
}

std::string quoted(std::string_view bytes) {
  std::string out = "\"";
  append_json_string(out, bytes);
  out += '"';
  return out;
}

}  // namespace

void append_json_string(std::string& out, std::string_view bytes) {
  out.reserve(out.size() + bytes.size() + 2);
  for (size_t i = 0; i < bytes.size();) {
    auto byte = static_cast<unsigned char>(bytes[i]);
    uint32_t code_point;
    size_t length = decode_utf8(bytes, i, code_point);
    if (length == 0) {
      append_hex4(out, 0xDC00 + byte);  // surrogateescape: bytes 0x80-0xFF (ASCII is always valid)
      ++i;
      continue;
    }
    switch (byte) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (byte < 0x20 || byte == 0x7F)
          append_hex4(out, byte);
        else
          out.append(bytes, i, length);
    }
    i += length;
  }
}

std::string header_line(const Header& header) {
  std::string line = "{\"version\": 2, \"width\": " + std::to_string(header.width) +
                     ", \"height\": " + std::to_string(header.height) +
                     ", \"timestamp\": " + std::to_string(header.timestamp) + ", \"env\": {";
  const char* separator = "";
  for (const auto& [name, value] : {std::pair{"TERM", &header.term}, std::pair{"SHELL", &header.shell}}) {
    if (!*value) continue;
    line += separator + quoted(name) + ": " + quoted(**value);
    separator = ", ";
  }
  return line + "}}\n";
}

std::string resize_line(double seconds, unsigned cols, unsigned rows) {
  return "[" + seconds_text(seconds) + ", \"r\", \"" + std::to_string(cols) + "x" + std::to_string(rows) + "\"]\n";
}

std::string OutputEncoder::line(double seconds, std::string_view bytes) const {
  return "[" + seconds_text(seconds) + ", \"o\", " + quoted(bytes) + "]\n";
}

std::string OutputEncoder::event(double seconds, std::string_view bytes) {
  std::string text = std::move(carry_);
  text.append(bytes);
  carry_.clear();
  // A cut-short sequence starts at most 3 bytes from the end.
  for (size_t back = 1; back <= 3 && back <= text.size(); ++back) {
    size_t start = text.size() - back;
    if (utf8_cut_short(text, start)) {
      carry_ = text.substr(start);
      text.resize(start);
      break;
    }
  }
  return text.empty() ? std::string() : line(seconds, text);
}

std::string OutputEncoder::finish(double seconds) {
  std::string rest = std::move(carry_);
  carry_.clear();
  return rest.empty() ? std::string() : line(seconds, rest);
}

}  // namespace hvterm::asciicast
