#pragma once
// GUID text and the Hyper-V <-> vsock port mapping.
//
// Hyper-V exposes a Linux guest's vsock port P as the service GUID whose first field (Data1) is
// P and whose other fields are the "VSOCK template" facb-11e6-bd58-64006a7986d3.
#include <optional>
#include <string>

#include "common/address.h"

namespace hvterm {

std::optional<Guid> parse_guid(std::string text);  // accepts {braces} and either case
std::string format_guid(const Guid& guid);         // lower case, no braces
Guid service_guid_for_port(uint32_t port);
std::optional<uint32_t> port_of_service_guid(const Guid& guid);  // nullopt: not a template GUID
bool is_zero(const Guid& guid);

}  // namespace hvterm
