#pragma once
// `hvterm forward -L [BIND:]PORT:DESTINATION` as people write it, ssh's shape: a local address to
// listen on, and where each connection it accepts goes in the guest.
#include <optional>
#include <string>

#include "protocol/wire.h"

namespace hvterm {

struct LocalForward {
  std::string bind = "127.0.0.1";  // an IP address; "0.0.0.0" or "::" for every interface
  uint16_t port = 0;               // 0: any free port (hvterm says which)
  wire::Destination destination;   // in the guest
  std::string text;                // as given, for messages
};

// nullopt with a one-line `error` saying what is wrong with `text`. BIND is an IPv4 address,
// [IPv6], localhost (127.0.0.1) or * (every interface); it defaults to 127.0.0.1, as ssh's does to
// the loopback: a forward open to the network must be asked for.
std::optional<LocalForward> parse_local_forward(const std::string& text, std::string& error);

struct RemoteForward {
  wire::Destination listen;       // in the guest: TCP, an IP address (default 127.0.0.1) and a port
  wire::Destination destination;  // on this machine
  std::string text;
};

// -R [BIND:]PORT:DESTINATION: the same shape, the other way round. The port must be given (the
// guest's programs need to know it).
std::optional<RemoteForward> parse_remote_forward(const std::string& text, std::string& error);

// "127.0.0.1:8080", "[::1]:8080"
std::string describe_listen_address(const std::string& bind, uint16_t port);

}  // namespace hvterm
