#include "terminal/utf8_repair.h"

#include "common/utf8.h"

namespace hvterm {
namespace {

constexpr std::string_view kReplacementCharacter = "\xef\xbf\xbd";

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xc0) == 0x80; }

}  // namespace

std::string_view Utf8Repair::repair(std::string_view bytes, std::string& scratch) {
  scratch.clear();
  std::string joined;
  if (!pending_.empty()) {  // rare: a character split between reads
    joined = std::move(pending_);
    pending_.clear();
    joined.append(bytes);
    bytes = joined;
  }
  bool copying = !joined.empty();
  size_t unchanged_from = 0;
  size_t i = 0;
  while (i < bytes.size()) {
    if (static_cast<unsigned char>(bytes[i]) < 0x80) {
      ++i;
      continue;
    }
    uint32_t code_point;
    if (size_t length = decode_utf8(bytes, i, code_point); length > 0) {
      i += length;
      continue;
    }
    scratch.append(bytes.substr(unchanged_from, i - unchanged_from));
    copying = true;
    if (utf8_cut_short(bytes, i)) {
      pending_.assign(bytes.substr(i));
      return scratch;
    }
    // Not UTF-8 (a stray continuation byte, a byte no character starts with, an overlong form)
    // or cut short by another byte: one U+FFFD for the byte and the continuation bytes after it.
    scratch += kReplacementCharacter;
    ++i;
    for (int more = 0; more < 3 && i < bytes.size() && is_continuation(bytes[i]); ++more) ++i;
    unchanged_from = i;
  }
  if (!copying) return bytes;
  scratch.append(bytes.substr(unchanged_from));
  return scratch;
}

}  // namespace hvterm
