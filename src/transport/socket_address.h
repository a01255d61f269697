#pragma once
// A TCP socket's address as libuv gives it (sockaddr_storage), as hvterm says it and uses it.
#include <uv.h>

#include <cstdint>

#include "protocol/wire.h"

namespace hvterm {

// {TCP, "127.0.0.1" or "::1", port}: wire::describe() then writes "127.0.0.1:8080" or "[::1]:8080".
wire::Destination tcp_destination_of(const sockaddr_storage& address);

}  // namespace hvterm
