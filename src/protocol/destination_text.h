#pragma once
// Destinations as people write them on a command line: PORT, HOST:PORT, [IPV6]:PORT, unix:PATH,
// pipe:NAME or \\.\pipe\NAME. Shared by `hvterm nc` and `hvtermd --forward-allow`.
#include <optional>
#include <string>

#include "protocol/wire.h"

namespace hvterm::wire {

// nullopt with a one-line `error` saying what is wrong with `text`.
std::optional<Destination> parse_destination(const std::string& text, std::string& error);
// A TCP host as hvterm compares it: lowercase, and "localhost" for the empty host.
std::string canonical_host(const std::string& host);
// Whether a TCP host names this machine by name: empty, localhost, localhost. (any case).
bool names_localhost(const std::string& host);
// The port of HOST:PORT as a number in 1..65535; nullopt otherwise.
std::optional<uint16_t> parse_port(const std::string& text);

}  // namespace hvterm::wire
