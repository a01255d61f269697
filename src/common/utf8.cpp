#include "common/utf8.h"

#include <string>

namespace hvterm {
namespace {

size_t sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 0;
}

}  // namespace

size_t decode_utf8(std::string_view text, size_t i, uint32_t& code_point) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char lead = byte(i);
  size_t length = sequence_length(lead);
  if (length <= 1) {
    code_point = lead;
    return length;
  }
  static constexpr uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
  code_point = lead & (0xFFu >> (length + 1));
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(i + k) & 0x3F);
  }
  if (code_point < kMinimum[length] || code_point > 0x10FFFF || (code_point >= 0xD800 && code_point <= 0xDFFF))
    return 0;
  return length;
}

bool utf8_cut_short(std::string_view text, size_t i) {
  size_t length = sequence_length(static_cast<unsigned char>(text[i]));
  if (length <= 1 || i + length <= text.size()) return false;
  // The missing bytes are continuation bytes (0x80-0xBF). If any completion is valid, the smallest
  // or the largest is: the completions form one range of code points, and what makes one invalid
  // (too small for its length, a surrogate, past U+10FFFF) lies at one end of that range.
  for (char pad : {'\x80', '\xBF'}) {
    std::string completed(text.substr(i));
    completed.resize(length, pad);
    uint32_t code_point;
    if (decode_utf8(completed, 0, code_point) == length) return true;
  }
  return false;
}

}  // namespace hvterm
