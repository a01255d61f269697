#include "transport/hybrid_handshake.h"

#include <cctype>

namespace hvterm {

std::string hybrid_connect_line(uint32_t port) { return "CONNECT " + std::to_string(port) + "\n"; }

HybridReplyParser::Status HybridReplyParser::feed(const char* data, size_t size) {
  if (!error_.empty()) return Status::Error;
  for (size_t i = 0; i < size; ++i) {
    if (done_) {
      leftover_.append(data + i, size - i);
      break;
    }
    char c = data[i];
    if (c == '\n') {
      done_ = true;
      continue;
    }
    line_.push_back(c);
    if (line_.size() >= kHybridMaxReply) {
      error_ = "the VMM's handshake reply is longer than " + std::to_string(kHybridMaxReply) + " bytes";
      return Status::Error;
    }
  }
  if (!done_) return Status::NeedMore;
  std::string printable;
  for (char c : line_) printable.push_back(std::isprint(static_cast<unsigned char>(c)) ? c : '?');
  bool ok = line_.size() > 3 && line_.compare(0, 3, "OK ") == 0;
  for (size_t i = 3; ok && i < line_.size(); ++i) ok = std::isdigit(static_cast<unsigned char>(line_[i])) != 0;
  if (!ok) {
    error_ = printable.empty() ? "the VMM refused the connection (empty reply; is anything listening on that port "
                                 "in the guest?)"
                               : "the VMM refused the connection: '" + printable + "'";
    return Status::Error;
  }
  return Status::Ok;
}

}  // namespace hvterm
