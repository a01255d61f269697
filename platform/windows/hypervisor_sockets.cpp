// AF_HYPERV: the host side connects to (VM ID, service GUID); the guest agent listens on the
// wildcard VM ID. Every socket sets HVSOCKET_CONNECTED_SUSPEND so a connection outlives a paused
// or saved VM; clients also bound the connect, because Hyper-V lets a connect to a service that
// nobody listens on run until it times out.
#include <winsock2.h>  // first: windows.h and the socket headers depend on it
#include <windows.h>
#include <hvsocket.h>

#include <algorithm>

#include "common/guid.h"
#include "platform/sockets.h"
#include "platform/windows/internal.h"
#include "platform/windows/socket_errors.h"

// MinGW's hvsocket.h lacks these (the Windows SDK has them in ws2def.h / hvsocket.h).
#ifndef AF_HYPERV
#define AF_HYPERV 34
#endif
#ifndef HVSOCKET_HIGH_VTL
#define HVSOCKET_HIGH_VTL 8  // not used: hvterm never talks to a VM's secure (high) VTL
#endif
#ifndef HVSOCKET_CONNECT_TIMEOUT_MAX
#define HVSOCKET_CONNECT_TIMEOUT_MAX 300000
#endif

namespace hvterm::platform::detail {

GUID to_native_guid(const Guid& g) {
  GUID out{};
  out.Data1 = static_cast<unsigned long>(g[0]) << 24 | static_cast<unsigned long>(g[1]) << 16 |
              static_cast<unsigned long>(g[2]) << 8 | g[3];
  out.Data2 = static_cast<unsigned short>(g[4] << 8 | g[5]);
  out.Data3 = static_cast<unsigned short>(g[6] << 8 | g[7]);
  for (int i = 0; i < 8; ++i) out.Data4[i] = g[8 + i];
  return out;
}

Guid from_native_guid(const GUID& n) {
  Guid g{};
  for (int i = 0; i < 4; ++i) g[i] = static_cast<uint8_t>(n.Data1 >> (24 - 8 * i));
  g[4] = static_cast<uint8_t>(n.Data2 >> 8);
  g[5] = static_cast<uint8_t>(n.Data2);
  g[6] = static_cast<uint8_t>(n.Data3 >> 8);
  g[7] = static_cast<uint8_t>(n.Data3);
  for (int i = 0; i < 8; ++i) g[8 + i] = n.Data4[i];
  return g;
}

SOCKET hyperv_socket() {
  ensure_winsock();
  return WSASocketW(AF_HYPERV, SOCK_STREAM, HV_PROTOCOL_RAW, nullptr, 0,
                    WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
}

namespace {

// Best effort: a Windows build that predates an option still connects, just without it.
void set_option(SOCKET socket, int option, ULONG value) {
  setsockopt(socket, HV_PROTOCOL_RAW, option, reinterpret_cast<const char*>(&value), sizeof(value));
}

SOCKADDR_HV socket_address(const HyperVAddress& address) {
  SOCKADDR_HV sa{};
  sa.Family = AF_HYPERV;
  sa.VmId = to_native_guid(address.vm);  // all zero = HV_GUID_WILDCARD
  sa.ServiceId = to_native_guid(address.service);
  return sa;
}

// Only the Hyper-V host reaches a guest's service, and there Hyper-V decides who may connect: every
// peer is admitted and only named for the log.
bool admit_peer(SOCKET, const sockaddr_storage& address, Peer& peer) {
  peer.kind = Peer::Kind::AdmittedByOs;
  peer.transport = "hyperv";
  if (address.ss_family == AF_HYPERV) {
    const auto& hv = reinterpret_cast<const SOCKADDR_HV&>(address);
    peer.description = "hv partition " + format_guid(from_native_guid(hv.VmId));
  }
  return true;
}

}  // namespace

void connect_hyperv(uv_loop_t* loop, const HyperVAddress& address, uint64_t timeout_ms, ConnectCallback done) {
  SOCKET socket = hyperv_socket();
  if (socket == INVALID_SOCKET) {
    int err = WSAGetLastError();
    return done(nullptr, {uv_translate_sys_error(err), hyperv_connect_error(err, address)});
  }
  set_option(socket, HVSOCKET_CONNECT_TIMEOUT,
             static_cast<ULONG>(std::clamp<uint64_t>(timeout_ms, 1, HVSOCKET_CONNECT_TIMEOUT_MAX)));
  set_option(socket, HVSOCKET_CONNECTED_SUSPEND, 1);
  SOCKADDR_HV sa = socket_address(address);
  connect_socket(
      loop, socket, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa), timeout_ms,
      [address](int err) { return hyperv_connect_error(err, address); }, std::move(done));
}

std::unique_ptr<Listener> listen_hyperv(uv_loop_t* loop, const HyperVAddress& address, AcceptCallback on_accept,
                                        std::string& error) {
  SOCKET socket = hyperv_socket();
  if (socket == INVALID_SOCKET) {
    error = hyperv_listen_error(WSAGetLastError(), address);
    return nullptr;
  }
  set_option(socket, HVSOCKET_CONNECTED_SUSPEND, 1);
  SOCKADDR_HV sa = socket_address(address);
  if (bind(socket, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa)) != 0 || ::listen(socket, SOMAXCONN) != 0) {
    error = hyperv_listen_error(WSAGetLastError(), address);
    closesocket(socket);
    return nullptr;
  }
  AcceptHooks hooks;
  hooks.prepare = [](SOCKET accepted) { set_option(accepted, HVSOCKET_CONNECTED_SUSPEND, 1); };
  hooks.admit = admit_peer;
  return accept_on_thread(loop, socket, std::move(hooks), std::move(on_accept), error);
}

}  // namespace hvterm::platform::detail

namespace hvterm::platform {

// Creating a socket touches nothing outside this process; it is the only reliable probe.
Address default_listen_address(uint32_t port) { return HyperVAddress{Guid{}, service_guid_for_port(port)}; }

bool hypervisor_sockets_available() {
  SOCKET socket = detail::hyperv_socket();
  if (socket == INVALID_SOCKET) return false;
  closesocket(socket);
  return true;
}

}  // namespace hvterm::platform
