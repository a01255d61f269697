#include "common/guid.h"

#include <cctype>

namespace hvterm {
namespace {
constexpr const char* kTemplateTail = "-facb-11e6-bd58-64006a7986d3";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}
}  // namespace

std::optional<Guid> parse_guid(std::string text) {
  if (text.size() == 38 && text.front() == '{' && text.back() == '}') text = text.substr(1, 36);
  if (text.size() != 36) return std::nullopt;
  Guid guid{};
  size_t byte = 0;
  for (size_t i = 0; i < text.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    guid[byte++] = static_cast<uint8_t>(hi << 4 | lo);
    i += 2;
  }
  return guid;
}

std::string format_guid(const Guid& guid) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < guid.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(digits[guid[i] >> 4]);
    out.push_back(digits[guid[i] & 15]);
  }
  return out;
}

Guid service_guid_for_port(uint32_t port) {
  char head[9];
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < 8; ++i) head[i] = digits[(port >> (28 - 4 * i)) & 15];
  head[8] = '\0';
  return *parse_guid(std::string(head) + kTemplateTail);
}

std::optional<uint32_t> port_of_service_guid(const Guid& guid) {
  std::string text = format_guid(guid);
  if (text.substr(8) != kTemplateTail) return std::nullopt;
  return static_cast<uint32_t>(guid[0]) << 24 | static_cast<uint32_t>(guid[1]) << 16 |
         static_cast<uint32_t>(guid[2]) << 8 | guid[3];
}

bool is_zero(const Guid& guid) {
  for (uint8_t b : guid)
    if (b != 0) return false;
  return true;
}

}  // namespace hvterm
