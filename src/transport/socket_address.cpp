#include "transport/socket_address.h"

namespace hvterm {

wire::Destination tcp_destination_of(const sockaddr_storage& address) {
  char host[64] = "";
  uv_ip_name(reinterpret_cast<const sockaddr*>(&address), host, sizeof host);
  bool v6 = address.ss_family == AF_INET6;
  uint16_t port = ntohs(v6 ? reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port
                           : reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
  return wire::Destination{wire::Destination::Kind::Tcp, host, port};
}

}  // namespace hvterm
