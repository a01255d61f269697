#pragma once
// The platform seam, sockets and streams: connecting to and listening on Unix, vsock and Hyper-V
// addresses, who a peer is, and the kernel buffers of pipes. Ordinary stream I/O goes through libuv;
// this covers what libuv cannot do (the hypervisor socket families, peer credentials).
#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/address.h"

namespace hvterm::platform {

// ---- streams -------------------------------------------------------------------------------------
// A connected stream handle, heap-allocated; close it with close_stream().
void close_stream(uv_stream_t* stream);
// The same for a stream of ours that is not closing yet, with `closed` run once libuv has let go of it.
void close_stream(uv_stream_t* stream, std::function<void()> closed);
// A pipe that keeps filling up (bulk data) gets a larger kernel buffer of `bytes`: fewer sleep/wake
// round trips between a writer and a reader on two CPUs. Best effort: false when `fd` is no pipe,
// the system refuses (per-user pipe memory limit) or has no such knob (Windows).
bool widen_pipe(int fd, size_t bytes);
bool widen_pipe(uv_stream_t* stream, size_t bytes);  // the same for a libuv pipe handle
// Two connected stream handles (heap-allocated; close each with close_stream()): an in-process
// byte pipe in both directions, as libuv makes one (a socketpair; on Windows two loopback sockets).
bool stream_pair(uv_loop_t* loop, uv_stream_t* ends[2], std::string& error);
// What a Linux pipe holds by default: a read that returns this much (or more) emptied a full pipe.
inline constexpr size_t kDefaultPipeSize = 64 * 1024;
// What a libuv pipe connects to by name: a Windows named pipe (\\.\pipe\NAME) or a Unix socket path.
#ifdef _WIN32
inline constexpr bool kPipesAreNamedPipes = true;
#else
inline constexpr bool kPipesAreNamedPipes = false;
#endif

// ---- connecting and listening ----------------------------------------------------------------------
// Who connected, as far as the OS can say; the agent decides from it who may come in.
struct Peer {
  enum class Kind {
    LocalUser,     // a Unix socket peer the kernel names by uid (SO_PEERCRED)
    Vsock,         // a vsock peer, by CID
    AdmittedByOs,  // the OS checked the caller already: Hyper-V sockets, Windows named pipes, AF_UNIX
    Unknown,       // nothing to decide on (no credentials; an inherited socket of another family)
  };
  Kind kind = Kind::Unknown;
  std::string description;  // for logs: "uid 1000 pid 42", "cid 3 port 1234"
  std::string transport;    // the kind of address it came from: "unix", "vsock", "hyperv", "pipe" ("" unknown)
  uint32_t uid = 0;         // LocalUser
  uint32_t cid = 0;         // Vsock
};

struct ConnectError {
  int code = 0;         // libuv error code
  std::string message;  // one line a person can act on
};
using ConnectCallback = std::function<void(uv_stream_t* stream, const ConnectError& error)>;

// Connect to a Unix, vsock or Hyper-V address (hybrid vsock is layered on Unix by the core).
void connect(uv_loop_t* loop, const Address& address, uint64_t timeout_ms, ConnectCallback done);

class Listener {
 public:
  virtual ~Listener() = default;
  virtual void close() = 0;
};
using AcceptCallback = std::function<void(uv_stream_t* stream, const Peer& peer)>;
// Listen on an address. Unix sockets are created 0600 (stale sockets replaced).
std::unique_ptr<Listener> listen(uv_loop_t* loop, const Address& address, AcceptCallback on_accept, std::string& error);
// Adopt an already listening socket (systemd socket activation).
std::unique_ptr<Listener> listen_inherited(uv_loop_t* loop, int fd, AcceptCallback on_accept, std::string& error);
// Sockets handed over by systemd (LISTEN_FDS/LISTEN_PID); consumes the variables.
std::vector<int> inherited_listeners();
// Whether this machine offers the hypervisor socket family (vsock / Hyper-V sockets).
bool hypervisor_sockets_available();
// What the agent listens on when told nothing: any VM's connection to `port` on this OS's
// hypervisor socket family (vsock:any:PORT; Hyper-V: the port's service GUID, any partition).
Address default_listen_address(uint32_t port);

}  // namespace hvterm::platform
