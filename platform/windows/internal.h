#pragma once
// Shared between the files of platform/windows; not part of the platform interface.
// uv.h brings in winsock2.h and windows.h in the order Winsock needs.
#include "platform/sockets.h"
#include "platform/vms.h"

#include <cstring>
#include <string>

namespace hvterm::platform::detail {

// ---- text ------------------------------------------------------------------------------------------
std::wstring widen(const std::string& utf8);
std::string narrow(const std::wstring& utf16);
std::string narrow(const wchar_t* utf16, size_t length);
// An environment variable in UTF-8, or `fallback` when it is unset or empty.
std::string environment_variable(const wchar_t* name, const std::string& fallback = {});
// The system's own text for a Win32 / Winsock error or HRESULT, one line, without the trailing period.
std::string system_error_text(unsigned long code);

// Hyper-V socket addresses hold Windows GUID structs; the core keeps GUIDs in textual byte order.
GUID to_native_guid(const Guid& guid);
Guid from_native_guid(const GUID& guid);

// A function of a DLL loaded at run time, from FARPROC to its real type without a function-type cast.
template <typename Fn>
Fn dll_function(HMODULE module, const char* name) {
  FARPROC proc = GetProcAddress(module, name);
  Fn fn = nullptr;
  static_assert(sizeof(fn) == sizeof(proc));
  std::memcpy(&fn, &proc, sizeof(fn));
  return fn;
}

// ---- Winsock ------------------------------------------------------------------------------------------
// WSAStartup once per process; libuv does it too, but only once a loop exists.
void ensure_winsock();
// Wrap a connected socket in a libuv stream; closes the socket on failure.
uv_stream_t* wrap_socket(uv_loop_t* loop, SOCKET socket, std::string& error);

// Connect `socket` (already configured) on a worker thread so the loop never blocks, with our own
// timeout. `describe_error` turns a Winsock error into the one-line reason reported to `done`.
using SocketErrorText = std::function<std::string(int wsa_error)>;
void connect_socket(uv_loop_t* loop, SOCKET socket, const sockaddr* address, int address_length, uint64_t timeout_ms,
                    SocketErrorText describe_error, ConnectCallback done);

// Accept on a bound, listening socket of any family (libuv's own accept creates IP sockets only).
// `prepare` runs on each accepted socket (on the accept thread); `admit` names the peer, or refuses
// it by returning false (on the loop thread).
struct AcceptHooks {
  std::function<void(SOCKET accepted)> prepare;
  std::function<bool(SOCKET accepted, const sockaddr_storage& address, Peer& peer)> admit;
};
std::unique_ptr<Listener> accept_on_thread(uv_loop_t* loop, SOCKET listening, AcceptHooks hooks,
                                           AcceptCallback on_accept, std::string& error);

// ---- per family -----------------------------------------------------------------------------------------
SOCKET hyperv_socket();  // INVALID_SOCKET with WSAGetLastError() set where Hyper-V sockets do not exist
void connect_hyperv(uv_loop_t* loop, const HyperVAddress& address, uint64_t timeout_ms, ConnectCallback done);
std::unique_ptr<Listener> listen_hyperv(uv_loop_t* loop, const HyperVAddress& address, AcceptCallback on_accept,
                                        std::string& error);
void connect_unix(uv_loop_t* loop, const UnixAddress& address, uint64_t timeout_ms, ConnectCallback done);
std::unique_ptr<Listener> listen_unix(uv_loop_t* loop, const UnixAddress& address, AcceptCallback on_accept,
                                      std::string& error);
// Named pipes: libuv's native "pipe" on Windows. Used for \\.\pipe\ paths and for the local agent
// (any path inside the runtime directory). `verify_server`: refuse a pipe served by another user.
struct PipeName {
  std::string name;  // \\.\pipe\...
  bool local_agent;  // derived from a path in the runtime directory, not named by the user
};
std::optional<PipeName> named_pipe_for(const std::string& path);
void connect_named_pipe(uv_loop_t* loop, const std::string& pipe_name, const std::string& shown_as, bool verify_server,
                        uint64_t timeout_ms, ConnectCallback done);
std::unique_ptr<Listener> listen_named_pipe(uv_loop_t* loop, const std::string& pipe_name, AcceptCallback on_accept,
                                            std::string& error);

// ---- the Hyper-V host's VMs (false with `error` when that inventory is unavailable) ------------------
bool hcs_list_vms(std::vector<VmInfo>& out, std::string& error);
bool wmi_list_vms(std::vector<VmInfo>& out, std::string& error);
// HKLM subkey of the GuestCommunicationServices registration of `port`'s service GUID.
std::string service_registry_key(uint32_t port);

// ---- paths, processes and identity ---------------------------------------------------------------------------
// The runtime directory (backslashes), computed without creating it; empty with `error` if unknown.
std::string runtime_dir_path(std::string& error);
// Whether process `pid` runs as the same user as we do, or as SYSTEM / an administrator.
bool trusted_peer_process(unsigned long pid, std::string& who);
// Whether `sid` is this process's account; whether it is that, SYSTEM or Administrators.
bool is_own_account(PSID sid);
bool trusted_owner(PSID owner);
// Whether an open file's owner is one trusted_owner accepts; false with `error` set when its owner
// cannot be read, false with `error` empty when it is someone else.
bool file_owner_trusted(HANDLE file, std::string& error);
// For a file opened with FILE_FLAG_OPEN_REPARSE_POINT: why it must not be used when it is a link
// (a reparse point), or empty.
std::string reparse_point_refusal(HANDLE file);

}  // namespace hvterm::platform::detail
