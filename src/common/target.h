#pragma once
// TARGET strings from the command line (DESIGN §3), parsed without touching the network.
#include <optional>
#include <string>
#include <variant>

#include "common/address.h"

namespace hvterm {

struct LocalTarget {};
// A VM name that only the platform can resolve (Hyper-V on Windows, libvirt on Linux).
struct NamedTarget {
  std::string name;
  std::optional<uint32_t> port;
};
struct Target {
  std::variant<LocalTarget, Address, NamedTarget> where;
  std::string text;  // as the user wrote it, for messages
};

// `default_port` fills in vsock ports and Hyper-V services that the text leaves out.
// Returns nullopt and sets `error` (one line) for malformed text.
std::optional<Target> parse_target(const std::string& text, uint32_t default_port, std::string& error);

// Agent --listen addresses: unix:PATH or vsock:CID|any[:PORT].
std::optional<Address> parse_listen_address(const std::string& text, uint32_t default_port, std::string& error);

// A port number 1..4294967294 (vsock ports are 32-bit; 0xFFFFFFFF is VMADDR_PORT_ANY).
std::optional<uint32_t> parse_port(const std::string& text);

}  // namespace hvterm
