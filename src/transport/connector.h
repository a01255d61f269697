#pragma once
// From a TARGET to a connected stream: the local agent (started on demand), Unix sockets,
// hybrid vsock, vsock, Hyper-V sockets and VM names.
#include <uv.h>

#include <functional>
#include <string>

#include "common/target.h"

namespace hvterm {

struct ConnectOptions {
  uint32_t port = 18518;
  uint64_t timeout_ms = 10000;
  bool start_local_agent = true;
  bool trace_frames = false;  // -vv: the connection's user logs every frame (FramedConnection::trace_frames)
};

struct ConnectFailure {
  std::string message;  // one line a person can act on
  // An agent's own Unix socket (local, unix:) where nothing listens (gone, or connect refused): the
  // agent, and every session it held, has exited. Not said of a VMM's hybrid socket, which comes
  // back when the VM is restored.
  bool nothing_listens = false;
};

using ConnectDone = std::function<void(uv_stream_t* stream, const ConnectFailure& failure)>;
void connect_target(uv_loop_t* loop, const Target& target, const ConnectOptions& options, ConnectDone done);

// Where the local agent's socket lives (created 0700 on demand).
std::string local_agent_socket(std::string& error);
// The hvtermd to start for the local target: $HVTERMD, else beside this executable, else PATH.
std::string local_agent_program();

}  // namespace hvterm
