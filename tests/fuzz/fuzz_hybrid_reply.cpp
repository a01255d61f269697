// libFuzzer target: a VMM's reply to "CONNECT <port>", fed in pieces the input chooses.
#include <cstdint>

#include "transport/hybrid_handshake.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  hvterm::HybridReplyParser parser;
  size_t i = 0;
  while (i < size) {
    size_t n = 1 + data[i] % 8;
    if (i + 1 + n > size) n = size - i - 1;
    auto status = parser.feed(reinterpret_cast<const char*>(data) + i + 1, n);
    if (status != hvterm::HybridReplyParser::Status::NeedMore) {
      if (status == hvterm::HybridReplyParser::Status::Error && parser.error().empty()) __builtin_trap();
      break;
    }
    i += 1 + n;
  }
  return 0;
}
