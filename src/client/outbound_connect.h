#pragma once
// Connecting from this machine to where `hvterm forward -R` sends a guest's connections: a TCP
// HOST:PORT (each address the name has, in order, until one answers), a Unix socket or a Windows
// named pipe.
#include <uv.h>

#include <functional>
#include <string>

#include "protocol/wire.h"

namespace hvterm {

// `done` runs once: with a connected heap stream (close it with platform::close_stream), or with
// nullptr and a one-line reason.
using OutboundDone = std::function<void(uv_stream_t* stream, const std::string& error)>;
void connect_outbound(uv_loop_t* loop, const wire::Destination& destination, OutboundDone done);

}  // namespace hvterm
