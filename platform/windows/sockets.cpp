// Streams and the dispatch from an address to the family that serves it on Windows.
#include "platform/sockets.h"
#include "common/guid.h"
#include "common/overloaded.h"
#include "platform/windows/internal.h"

namespace hvterm::platform {

void connect(uv_loop_t* loop, const Address& address, uint64_t timeout_ms, ConnectCallback done) {
  std::visit(overloaded{
                 [&](const UnixAddress& a) {
                   if (auto pipe = detail::named_pipe_for(a.path))
                     return detail::connect_named_pipe(loop, pipe->name, a.path, pipe->local_agent, timeout_ms,
                                                       std::move(done));
                   detail::connect_unix(loop, a, timeout_ms, std::move(done));
                 },
                 [&](const HyperVAddress& a) { detail::connect_hyperv(loop, a, timeout_ms, std::move(done)); },
                 [&](const VsockAddress&) {
                   done(nullptr, {UV_EAFNOSUPPORT, "vsock targets are for Linux hosts and guests; on a Hyper-V host "
                                                   "use hv:VMID[:PORT] or the VM's name"});
                 },
                 [&](const HybridAddress&) {  // the transport layer speaks the VMM's handshake
                   done(nullptr, {UV_EAFNOSUPPORT, "hybrid vsock is reached through connect_target"});
                 },
             },
             address);
}

std::unique_ptr<Listener> listen(uv_loop_t* loop, const Address& address, AcceptCallback on_accept,
                                 std::string& error) {
  auto cannot = [&] {
    error = "cannot listen on " + describe(address) + " on Windows (use hv:[SERVICE], vsock:any[:PORT] or unix:PATH)";
    return std::unique_ptr<Listener>();
  };
  return std::visit(overloaded{
                        [&](const UnixAddress& a) {
                          if (auto pipe = detail::named_pipe_for(a.path))
                            return detail::listen_named_pipe(loop, pipe->name, std::move(on_accept), error);
                          return detail::listen_unix(loop, a, std::move(on_accept), error);
                        },
                        [&](const HyperVAddress& a) {
                          return detail::listen_hyperv(loop, a, std::move(on_accept), error);
                        },
                        [&](const VsockAddress& a) {
                          // A Windows guest's counterpart of vsock:any:PORT: the host reaches it as hv:VMID:PORT,
                          // the same service GUID under which a Linux guest's vsock port appears.
                          if (a.cid != kVsockCidAny) return cannot();
                          return detail::listen_hyperv(loop, HyperVAddress{Guid{}, service_guid_for_port(a.port)},
                                                       std::move(on_accept), error);
                        },
                        [&](const HybridAddress&) { return cannot(); },
                    },
                    address);
}

std::vector<int> inherited_listeners() { return {}; }

bool stream_pair(uv_loop_t* loop, uv_stream_t* ends[2], std::string& error) {
  uv_os_sock_t sockets[2];
  if (int rc = uv_socketpair(SOCK_STREAM, 0, sockets, 0, 0); rc != 0) {
    error = std::string("cannot make a socket pair: ") + uv_strerror(rc);
    return false;
  }
  for (int i = 0; i < 2; ++i) {
    auto* tcp = new uv_tcp_t;
    uv_tcp_init(loop, tcp);
    uv_tcp_open(tcp, sockets[i]);
    ends[i] = reinterpret_cast<uv_stream_t*>(tcp);
  }
  return true;
}

}  // namespace hvterm::platform
