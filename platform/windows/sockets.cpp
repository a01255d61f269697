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

// Not uv_socketpair: it waits for AcceptEx to complete, which under Wine never happens, and its
// sockets are not overlapped unless asked, which libuv's own handles need. A loopback listener,
// a blocking connect (queued at once) and a blocking accept (the connection is already there) do
// the same on overlapped sockets.
bool stream_pair(uv_loop_t* loop, uv_stream_t* ends[2], std::string& error) {
  detail::ensure_winsock();
  auto socket_of = [] {
    return WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, nullptr, 0, WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
  };
  SOCKET listener = socket_of(), client = INVALID_SOCKET, server = INVALID_SOCKET;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int length = sizeof address;
  bool ok = listener != INVALID_SOCKET && ::bind(listener, reinterpret_cast<sockaddr*>(&address), length) == 0 &&
            ::listen(listener, 1) == 0 && getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  if (ok) client = socket_of();
  ok = ok && client != INVALID_SOCKET && ::connect(client, reinterpret_cast<sockaddr*>(&address), length) == 0;
  if (ok) server = ::accept(listener, nullptr, nullptr);
  ok = ok && server != INVALID_SOCKET;
  int wsa_error = ok ? 0 : WSAGetLastError();
  if (listener != INVALID_SOCKET) closesocket(listener);
  if (!ok) {
    if (client != INVALID_SOCKET) closesocket(client);
    error = "cannot make a socket pair: Winsock error " + std::to_string(wsa_error);
    return false;
  }
  SOCKET sockets[2] = {client, server};
  for (int i = 0; i < 2; ++i) {
    auto* tcp = new uv_tcp_t;
    uv_tcp_init(loop, tcp);
    uv_tcp_open(tcp, sockets[i]);
    ends[i] = reinterpret_cast<uv_stream_t*>(tcp);
  }
  return true;
}

}  // namespace hvterm::platform
