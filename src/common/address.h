#pragma once
// Where an agent listens or a client connects: the transport-level address, already resolved.
#include <array>
#include <cstdint>
#include <string>
#include <variant>

namespace hvterm {

using Guid = std::array<uint8_t, 16>;  // stored in the textual order of its 32 hex digits

struct UnixAddress {
  std::string path;
};
struct VsockAddress {
  uint32_t cid = 0;  // VMADDR_CID_ANY (0xFFFFFFFF) when listening on any
  uint32_t port = 0;
};
struct HyperVAddress {
  Guid vm{};  // all zero: wildcard (listen on any partition)
  Guid service{};
};
// Firecracker / Cloud Hypervisor host side: a Unix socket of the VMM plus "CONNECT <port>".
struct HybridAddress {
  std::string path;
  uint32_t port = 0;
};

using Address = std::variant<UnixAddress, VsockAddress, HyperVAddress, HybridAddress>;

inline constexpr uint32_t kVsockCidAny = 0xFFFFFFFFu;
inline constexpr uint32_t kVsockCidHost = 2;

std::string describe(const Address& address);

}  // namespace hvterm
