#include "client/forward_spec.h"

#include <uv.h>

#include "protocol/destination_text.h"

namespace hvterm {
namespace {

bool all_digits(const std::string& text) {
  return !text.empty() && text.size() <= 5 && text.find_first_not_of("0123456789") == std::string::npos;
}

std::optional<std::string> bind_address(const std::string& text, std::string& error) {
  if (text == "*") return "0.0.0.0";
  if (wire::names_localhost(text)) return "127.0.0.1";
  sockaddr_in v4{};
  sockaddr_in6 v6{};
  if (uv_ip4_addr(text.c_str(), 0, &v4) == 0 || uv_ip6_addr(text.c_str(), 0, &v6) == 0) return text;
  error = "'" + text + "' is not an address to listen on (an IP address, localhost or *)";
  return std::nullopt;
}

}  // namespace

namespace {

struct SplitForward {
  std::string bind;
  uint16_t port = 0;
  wire::Destination destination;
};

// [BIND:]PORT:DESTINATION, with BIND resolved to an IP address (nullopt with `error`).
std::optional<SplitForward> split_forward(const std::string& text, std::string& error) {
  SplitForward split;
  split.bind = "127.0.0.1";
  std::string rest = text;
  std::string bind;
  bool bind_given = false;
  if (!rest.empty() && rest[0] == '[') {  // [IPV6]:PORT:DESTINATION
    size_t close = rest.find(']');
    if (close == std::string::npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
      error = "'" + text + "': write an IPv6 address to listen on as [::1]:PORT:DESTINATION";
      return std::nullopt;
    }
    bind = rest.substr(1, close - 1);
    bind_given = true;
    rest = rest.substr(close + 2);
  } else if (size_t colon = rest.find(':'); colon != std::string::npos && !all_digits(rest.substr(0, colon))) {
    bind = rest.substr(0, colon);  // BIND:PORT:DESTINATION
    bind_given = true;
    rest = rest.substr(colon + 1);
  }
  size_t colon = rest.find(':');
  if (colon == std::string::npos) {
    error = "'" + text + "' is not [BIND:]PORT:DESTINATION (such as 8080:80 or 8080:localhost:80)";
    return std::nullopt;
  }
  std::string port = rest.substr(0, colon);
  if (!all_digits(port) || std::stoul(port) > 65535) {
    error = "'" + port + "' in '" + text + "' is not a port to listen on (0-65535; 0 picks a free one)";
    return std::nullopt;
  }
  split.port = static_cast<uint16_t>(std::stoul(port));
  if (bind_given) {
    auto address = bind_address(bind, error);
    if (!address) return std::nullopt;
    split.bind = *address;
  }
  auto destination = wire::parse_destination(rest.substr(colon + 1), error);
  if (!destination) return std::nullopt;
  split.destination = *destination;
  return split;
}

}  // namespace

std::optional<LocalForward> parse_local_forward(const std::string& text, std::string& error) {
  auto split = split_forward(text, error);
  if (!split) return std::nullopt;
  return LocalForward{split->bind, split->port, split->destination, text};
}

std::optional<RemoteForward> parse_remote_forward(const std::string& text, std::string& error) {
  auto split = split_forward(text, error);
  if (!split) return std::nullopt;
  if (split->port == 0) {
    error = "'" + text + "': give the port to listen on in the guest (its programs must know it), not 0";
    return std::nullopt;
  }
  RemoteForward forward;
  forward.listen.kind = wire::Destination::Kind::Tcp;
  forward.listen.host = split->bind;
  forward.listen.port = split->port;
  forward.destination = split->destination;
  forward.text = text;
  return forward;
}

std::string describe_listen_address(const std::string& bind, uint16_t port) {
  return wire::describe(wire::Destination{wire::Destination::Kind::Tcp, bind, port});
}

}  // namespace hvterm
