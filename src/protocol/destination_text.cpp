#include "protocol/destination_text.h"

#include <cctype>

namespace hvterm::wire {

std::string canonical_host(const std::string& host) {
  if (host.empty()) return "localhost";
  std::string lower = host;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

bool names_localhost(const std::string& host) {
  std::string h = canonical_host(host);
  return h == "localhost" || h == "localhost.";
}

std::optional<uint16_t> parse_port(const std::string& text) {
  if (text.empty() || text.size() > 5 || text.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  unsigned long port = std::stoul(text);
  if (port == 0 || port > 65535) return std::nullopt;
  return static_cast<uint16_t>(port);
}

std::optional<Destination> parse_destination(const std::string& text, std::string& error) {
  Destination d;
  auto path_after = [&](size_t prefix, Destination::Kind kind) -> std::optional<Destination> {
    d.kind = kind;
    d.host = text.substr(prefix);
    if (d.host.empty()) {
      error = "'" + text + "' names no path";
      return std::nullopt;
    }
    return d;
  };
  if (text.rfind("unix:", 0) == 0) return path_after(5, Destination::Kind::Unix);
  if (text.rfind(R"(\\.\pipe\)", 0) == 0) return path_after(0, Destination::Kind::NamedPipe);
  if (text.rfind("pipe:", 0) == 0) {
    auto pipe = path_after(5, Destination::Kind::NamedPipe);
    if (pipe && pipe->host.rfind(R"(\\)", 0) != 0) pipe->host = R"(\\.\pipe\)" + pipe->host;
    return pipe;
  }
  std::string port_text = text;
  d.kind = Destination::Kind::Tcp;
  if (!text.empty() && text[0] == '[') {  // [IPV6]:PORT
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      error = "'" + text + "' is not [ADDRESS]:PORT";
      return std::nullopt;
    }
    d.host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
  } else if (size_t colon = text.rfind(':'); colon != std::string::npos) {
    d.host = text.substr(0, colon);
    port_text = text.substr(colon + 1);
    if (d.host.find(':') != std::string::npos) {
      error = "'" + text + "': write an IPv6 address in brackets, as [::1]:22";
      return std::nullopt;
    }
  }
  if (text.size() > 1 && d.host.empty() && port_text != text) {
    error = "'" + text + "' names no host (leave out the colon for localhost)";
    return std::nullopt;
  }
  if (d.host.size() > 255) {
    error = "the host name in '" + text.substr(0, 40) + "...' is longer than 255 bytes";
    return std::nullopt;
  }
  auto port = parse_port(port_text);
  if (!port) {
    error = "'" + port_text + "' is not a port (1-65535)" +
            (text.find(':') == std::string::npos ? "; write [HOST:]PORT, unix:PATH or pipe:NAME" : "");
    return std::nullopt;
  }
  d.port = *port;
  return d;
}

}  // namespace hvterm::wire
