#pragma once
// Winsock errors as one-line reasons a person can act on. Pure functions (tested in tests/windows).
#include <string>

#include "common/address.h"

namespace hvterm::platform::detail {

// "VM 4a3f... service 00004856-facb-... (port 18518)"
std::string describe_hyperv(const HyperVAddress& address);
// Errors of socket(), connect() and the Hyper-V socket options, for a client.
std::string hyperv_connect_error(int wsa_error, const HyperVAddress& address);
// Errors of socket(), bind() and listen() for the agent.
std::string hyperv_listen_error(int wsa_error, const HyperVAddress& address);
// AF_UNIX, both sides.
std::string unix_socket_error(int wsa_error, const std::string& path, bool listening);
// Whether this error means "this socket family does not exist here".
bool family_unavailable(int wsa_error);

}  // namespace hvterm::platform::detail
