#include "terminal/utf8_repair.h"

namespace hvterm {
namespace {

constexpr std::string_view kReplacementCharacter = "\xef\xbf\xbd";

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xc0) == 0x80; }

// The length of the sequence a byte starts; 1 for ASCII and for bytes that start none (stray
// continuation bytes and invalid leads, which libvterm replaces one by one).
size_t sequence_length(char c) {
  auto byte = static_cast<unsigned char>(c);
  if (byte < 0xc2) return 1;
  if (byte < 0xe0) return 2;
  if (byte < 0xf0) return 3;
  if (byte < 0xf5) return 4;
  return 1;
}

}  // namespace

std::string_view Utf8Repair::repair(std::string_view bytes, std::string& scratch) {
  scratch.clear();
  bool copying = false;
  size_t i = 0;
  if (!pending_.empty()) {
    copying = true;
    while (i < bytes.size() && pending_.size() < pending_length_ && is_continuation(bytes[i])) pending_ += bytes[i++];
    if (pending_.size() < pending_length_ && i == bytes.size()) return scratch;  // still waiting
    scratch += pending_.size() == pending_length_ ? std::string_view(pending_) : kReplacementCharacter;
    pending_.clear();
  }
  size_t unchanged_from = i;
  while (i < bytes.size()) {
    size_t length = sequence_length(bytes[i]);
    size_t end = i + 1;
    while (end < bytes.size() && end < i + length && is_continuation(bytes[end])) ++end;
    if (end == i + length) {
      i = end;
      continue;
    }
    scratch.append(bytes.substr(unchanged_from, i - unchanged_from));
    copying = true;
    if (end == bytes.size()) {
      pending_.assign(bytes.substr(i));
      pending_length_ = length;
      return scratch;
    }
    scratch += kReplacementCharacter;
    i = end;
    unchanged_from = i;
  }
  if (!copying) return bytes;
  scratch.append(bytes.substr(unchanged_from));
  return scratch;
}

}  // namespace hvterm
