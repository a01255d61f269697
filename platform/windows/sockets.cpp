// Streams and the dispatch from an address to the family that serves it on Windows.
#include "common/guid.h"
#include "platform/windows/internal.h"

namespace hvterm::platform {


void connect(uv_loop_t* loop, const Address& address, uint64_t timeout_ms, ConnectCallback done) {
  if (auto* unix_address = std::get_if<UnixAddress>(&address)) {
    if (auto pipe = detail::named_pipe_for(unix_address->path))
      return detail::connect_named_pipe(loop, pipe->name, unix_address->path, pipe->local_agent, timeout_ms,
                                        std::move(done));
    return detail::connect_unix(loop, *unix_address, timeout_ms, std::move(done));
  }
  if (auto* hv = std::get_if<HyperVAddress>(&address)) return detail::connect_hyperv(loop, *hv, timeout_ms, std::move(done));
  done(nullptr, {UV_EAFNOSUPPORT, "vsock targets are for Linux hosts and guests; on a Hyper-V host use "
                                  "hv:VMID[:PORT] or the VM's name"});
}

std::unique_ptr<Listener> listen(uv_loop_t* loop, const Address& address, AcceptCallback on_accept,
                                 std::string& error) {
  if (auto* unix_address = std::get_if<UnixAddress>(&address)) {
    if (auto pipe = detail::named_pipe_for(unix_address->path))
      return detail::listen_named_pipe(loop, pipe->name, std::move(on_accept), error);
    return detail::listen_unix(loop, *unix_address, std::move(on_accept), error);
  }
  if (auto* hv = std::get_if<HyperVAddress>(&address)) return detail::listen_hyperv(loop, *hv, std::move(on_accept), error);
  // A Windows guest's counterpart of vsock:any:PORT: the host reaches it as hv:VMID:PORT, the same
  // service GUID under which a Linux guest's vsock port appears.
  if (auto* vsock = std::get_if<VsockAddress>(&address); vsock != nullptr && vsock->cid == kVsockCidAny)
    return detail::listen_hyperv(loop, HyperVAddress{Guid{}, service_guid_for_port(vsock->port)}, std::move(on_accept),
                                 error);
  error = "cannot listen on " + describe(address) + " on Windows (use hv:[SERVICE], vsock:any[:PORT] or unix:PATH)";
  return nullptr;
}

std::unique_ptr<Listener> listen_inherited(uv_loop_t*, int, AcceptCallback, std::string& error) {
  error = "socket activation is supported on Linux only";
  return nullptr;
}

std::vector<int> inherited_listeners() { return {}; }

}  // namespace hvterm::platform
