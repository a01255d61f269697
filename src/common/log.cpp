#include "common/log.h"

#include <cstdio>

namespace hvterm::log {
namespace {
const char* g_program = "hvterm";
Level g_level = Level::Info;
std::function<void(const std::string&)> g_sink;
const char* level_name(Level level) {
  switch (level) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warn: return "warn";
    case Level::Error: return "error";
    case Level::Quiet: return "";
  }
  return "";
}

void append_hex(std::string& out, unsigned char byte) {
  static constexpr char kDigits[] = "0123456789abcdef";
  out += "\\x";
  out += kDigits[byte >> 4];
  out += kDigits[byte & 0xf];
}

// Length of the well-formed UTF-8 sequence at the start of `s` (no overlongs, surrogates or values
// past U+10FFFF), or 0.
size_t utf8_sequence_length(std::string_view s) {
  auto byte = [&s](size_t i) { return static_cast<unsigned char>(s[i]); };
  auto continuation = [&](size_t i) { return i < s.size() && (byte(i) & 0xC0) == 0x80; };
  unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return continuation(1) ? 2 : 0;
  if (lead >= 0xE0 && lead <= 0xEF) {
    if (!continuation(1) || !continuation(2)) return 0;
    if (lead == 0xE0 && byte(1) < 0xA0) return 0;   // overlong
    if (lead == 0xED && byte(1) >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (lead >= 0xF0 && lead <= 0xF4) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
    if (lead == 0xF0 && byte(1) < 0x90) return 0;   // overlong
    if (lead == 0xF4 && byte(1) >= 0x90) return 0;  // past U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

std::string printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    auto byte = static_cast<unsigned char>(text[i]);
    size_t length = utf8_sequence_length(text.substr(i));
    if (length == 1 && byte >= 0x20 && byte != 0x7F) {
      out += text[i];
    } else if (byte == '\n') {
      out += "\\n";
    } else if (byte == '\r') {
      out += "\\r";
    } else if (byte == '\t') {
      out += "\\t";
    } else if (length == 2 && byte == 0xC2 && static_cast<unsigned char>(text[i + 1]) < 0xA0) {  // C1 control
      append_hex(out, byte);
      append_hex(out, static_cast<unsigned char>(text[i + 1]));
    } else if (length > 1) {
      out.append(text.substr(i, length));
    } else {
      append_hex(out, byte);
      length = 1;
    }
    i += length;
  }
  return out;
}

void set_program(const char* name) { g_program = name; }
void set_level(Level level) { g_level = level; }
void set_sink(std::function<void(const std::string& record)> sink) { g_sink = std::move(sink); }
bool enabled(Level level) { return level >= g_level; }

bool parse_level(const std::string& text, Level& out) {
  for (Level l : {Level::Debug, Level::Info, Level::Warn, Level::Error}) {
    if (text == level_name(l)) {
      out = l;
      return true;
    }
  }
  if (text == "quiet") {
    out = Level::Quiet;
    return true;
  }
  return false;
}

void write(Level level, const std::string& message) {
  if (!enabled(level)) return;
  // Messages quote commands, peers' words and paths: none of them may forge a record of its own.
  std::string shown = printable(message);
  if (g_sink) return g_sink(std::string(g_program) + ": " + level_name(level) + ": " + shown);
  std::fprintf(stderr, "%s: %s: %s\n", g_program, level_name(level), shown.c_str());
}

}  // namespace hvterm::log
