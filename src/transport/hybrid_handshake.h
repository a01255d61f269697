#pragma once
// The Firecracker / Cloud Hypervisor host-side vsock convention: on the VMM's Unix socket the
// client writes "CONNECT <port>\n" and the VMM answers "OK <assigned port>\n" before the stream
// becomes the guest's. The parser is pure so every reply shape is unit tested.
#include <cstdint>
#include <string>

namespace hvterm {

inline constexpr size_t kHybridMaxReply = 32;  // what Firecracker accepts as a handshake line

std::string hybrid_connect_line(uint32_t port);

class HybridReplyParser {
 public:
  enum class Status { NeedMore, Ok, Error };
  // Feed reply bytes. After Ok, `leftover()` holds bytes that followed the line (none expected).
  Status feed(const char* data, size_t size);
  const std::string& error() const { return error_; }
  const std::string& leftover() const { return leftover_; }

 private:
  std::string line_, leftover_, error_;
  bool done_ = false;
};

}  // namespace hvterm
