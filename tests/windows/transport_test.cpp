// platform::connect / platform::listen on a real loop: named pipes end to end, the Winsock
// connect/accept machinery over loopback TCP (the one family it can reach under Wine), and the
// reasons given where Hyper-V or AF_UNIX sockets do not exist.
#include <doctest/doctest.h>

#include <string>

#include "common/guid.h"
#include "platform/sockets.h"
#include "platform/system.h"
#include "platform/windows/internal.h"

namespace platform = hvterm::platform;
namespace detail = hvterm::platform::detail;
using hvterm::Address;

namespace {

// One echo exchange: the server sends back what it reads; the client sends `message`.
struct EchoScenario {
  uv_loop_t loop{};
  std::unique_ptr<platform::Listener> listener;
  platform::Peer peer;
  std::string received;
  platform::ConnectError connect_error;
  bool connected = false;
  uv_stream_t* client = nullptr;
  uv_stream_t* served = nullptr;
  char buffer[256];
  std::string message = "ping over the platform layer";

  EchoScenario() { uv_loop_init(&loop); }
  ~EchoScenario() {
    listener.reset();
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
  }

  platform::AcceptCallback on_accept() {
    return [this](uv_stream_t* stream, const platform::Peer& p) {
      peer = p;
      served = stream;
      stream->data = this;
      uv_read_start(
          stream,
          [](uv_handle_t* h, size_t, uv_buf_t* buf) {
            *buf = uv_buf_init(static_cast<EchoScenario*>(h->data)->buffer, sizeof(buffer));
          },
          [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
            auto* self = static_cast<EchoScenario*>(s->data);
            if (n <= 0) return;
            auto* w = new uv_write_t;
            auto* copy = new std::string(buf->base, static_cast<size_t>(n));
            w->data = copy;
            uv_buf_t out = uv_buf_init(copy->data(), static_cast<unsigned>(copy->size()));
            uv_write(w, self->served, &out, 1, [](uv_write_t* req, int) {
              delete static_cast<std::string*>(req->data);
              delete req;
            });
          });
    };
  }

  platform::ConnectCallback on_connect() {
    return [this](uv_stream_t* stream, const platform::ConnectError& error) {
      connect_error = error;
      if (stream == nullptr) return end();
      connected = true;
      client = stream;
      stream->data = this;
      auto* w = new uv_write_t;
      uv_buf_t out = uv_buf_init(message.data(), static_cast<unsigned>(message.size()));
      uv_write(w, stream, &out, 1, [](uv_write_t* req, int) { delete req; });
      uv_read_start(
          stream,
          [](uv_handle_t* h, size_t, uv_buf_t* buf) {
            auto* self = static_cast<EchoScenario*>(h->data);
            *buf = uv_buf_init(self->buffer + 128, 128);
          },
          [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
            auto* self = static_cast<EchoScenario*>(s->data);
            if (n > 0) self->received.append(buf->base, static_cast<size_t>(n));
            if (n < 0 || self->received.size() >= self->message.size()) self->end();
          });
    };
  }

  void end() {
    platform::close_stream(client);
    platform::close_stream(served);
    client = served = nullptr;
    if (listener) listener->close();
  }
};

}  // namespace

TEST_CASE("named pipe: an agent's listener and a client exchange bytes") {
  EchoScenario s;
  std::string error;
  Address address = hvterm::UnixAddress{"\\\\.\\pipe\\hvterm-test-echo"};
  s.listener = platform::listen(&s.loop, address, s.on_accept(), error);
  REQUIRE_MESSAGE(s.listener, error);
  platform::connect(&s.loop, address, 5000, s.on_connect());
  uv_run(&s.loop, UV_RUN_DEFAULT);
  CHECK(s.connected);
  CHECK(s.received == s.message);
  CHECK(s.peer.description.find("pipe client pid") == 0);
}

TEST_CASE("named pipe: a second listener on the same name is refused with a reason") {
  EchoScenario s;
  std::string error;
  Address address = hvterm::UnixAddress{"//./pipe/hvterm-test-twice"};  // forward slashes work too
  s.listener = platform::listen(&s.loop, address, s.on_accept(), error);
  REQUIRE(s.listener);
  auto second = platform::listen(&s.loop, address, s.on_accept(), error);
  CHECK_FALSE(second);
  CHECK(error.find("already listening") != std::string::npos);
}

TEST_CASE("named pipe: nobody listening is ENOENT, which makes the client start a local agent") {
  EchoScenario s;
  platform::connect(&s.loop, hvterm::UnixAddress{"\\\\.\\pipe\\hvterm-test-nobody"}, 2000, s.on_connect());
  uv_run(&s.loop, UV_RUN_DEFAULT);
  CHECK_FALSE(s.connected);
  CHECK(s.connect_error.code == UV_ENOENT);
  CHECK(s.connect_error.message == "no agent is listening on \\\\.\\pipe\\hvterm-test-nobody");
}

TEST_CASE("the local agent's socket path in the runtime directory maps to a per-user named pipe") {
  std::string error;
  auto dir = platform::runtime_dir(error);
  REQUIRE_MESSAGE(dir, error);
  auto pipe = detail::named_pipe_for(*dir + "/agent.sock");
  REQUIRE(pipe);
  CHECK(pipe->local_agent);
  CHECK(pipe->name.rfind("\\\\.\\pipe\\hvterm", 0) == 0);
  CHECK(pipe->name.find("agent.sock") != std::string::npos);
  CHECK_FALSE(detail::named_pipe_for("C:\\elsewhere\\agent.sock"));
  auto named = detail::named_pipe_for("\\\\.\\pipe\\mine");
  REQUIRE(named);
  CHECK_FALSE(named->local_agent);
}

namespace {

// A TCP socket bound to a free loopback port, and that address.
SOCKET bound_loopback(sockaddr_in& sa) {
  detail::ensure_winsock();
  SOCKET socket = ::socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  sa = {};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int length = sizeof(sa);
  REQUIRE(bind(socket, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) == 0);
  REQUIRE(getsockname(socket, reinterpret_cast<sockaddr*>(&sa), &length) == 0);
  return socket;
}

// Listen on loopback with `hooks` and connect a client to it.
void serve_and_connect(EchoScenario& s, detail::AcceptHooks hooks) {
  sockaddr_in sa;
  SOCKET listening = bound_loopback(sa);
  REQUIRE(listen(listening, 8) == 0);
  std::string error;
  s.listener = detail::accept_on_thread(&s.loop, listening, std::move(hooks), s.on_accept(), error);
  REQUIRE_MESSAGE(s.listener, error);
  SOCKET client = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  detail::connect_socket(
      &s.loop, client, reinterpret_cast<sockaddr*>(&sa), sizeof(sa), 5000,
      [](int err) { return "error " + std::to_string(err); }, s.on_connect());
  uv_run(&s.loop, UV_RUN_DEFAULT);
}

}  // namespace

TEST_CASE("Winsock machinery: connect on a worker, accept on a thread, then libuv streams (loopback TCP)") {
  EchoScenario s;
  int prepared = 0;
  detail::AcceptHooks hooks;
  hooks.prepare = [&prepared](SOCKET) { ++prepared; };
  hooks.admit = [](SOCKET, const sockaddr_storage&, platform::Peer& peer) {
    peer.description = "loopback peer";
    return true;
  };
  serve_and_connect(s, hooks);
  CHECK(s.connected);
  CHECK(s.received == s.message);
  CHECK(prepared == 1);
  CHECK(s.peer.description == "loopback peer");
}

TEST_CASE("Winsock machinery: a peer the listener does not admit is closed unserved") {
  EchoScenario s;
  detail::AcceptHooks hooks;
  hooks.admit = [](SOCKET, const sockaddr_storage&, platform::Peer&) { return false; };
  serve_and_connect(s, hooks);
  CHECK(s.connected);
  CHECK(s.peer.description.empty());  // never handed on to be served
  CHECK(s.received.empty());          // the connection ended without an echo
}

TEST_CASE("Winsock machinery: a refused connect reports the reason its describer gives") {
  EchoScenario s;
  sockaddr_in sa;
  closesocket(bound_loopback(sa));  // a port where nothing listens
  SOCKET client = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  detail::connect_socket(
      &s.loop, client, reinterpret_cast<sockaddr*>(&sa), sizeof(sa), 5000,
      [](int err) { return err == WSAECONNREFUSED ? std::string("refused") : "error " + std::to_string(err); },
      s.on_connect());
  uv_run(&s.loop, UV_RUN_DEFAULT);
  CHECK_FALSE(s.connected);
  CHECK(s.connect_error.code == UV_ECONNREFUSED);
  CHECK(s.connect_error.message == "refused");
}

TEST_CASE("Hyper-V sockets where there are none: one line that says so") {
  if (platform::hypervisor_sockets_available()) return;  // a real Hyper-V machine: nothing to show
  EchoScenario s;
  auto vm = hvterm::parse_guid("4a3f1c2e-0000-4000-8000-123456789abc");
  Address address = hvterm::HyperVAddress{*vm, hvterm::service_guid_for_port(2761)};
  platform::connect(&s.loop, address, 1000, s.on_connect());
  uv_run(&s.loop, UV_RUN_DEFAULT);
  CHECK(s.connect_error.code == UV_EAFNOSUPPORT);
  CHECK(s.connect_error.message.find("Hyper-V sockets are not available on this machine") == 0);
  std::string error;
  CHECK_FALSE(platform::listen(&s.loop, hvterm::VsockAddress{hvterm::kVsockCidAny, 2761}, s.on_accept(), error));
  CHECK(error.find("cannot listen on Hyper-V service 00000ac9-facb-11e6-bd58-64006a7986d3 (port 2761)") == 0);
}

TEST_CASE("vsock targets are refused on Windows with the form to use instead") {
  EchoScenario s;
  platform::connect(&s.loop, hvterm::VsockAddress{3, 18518}, 1000, s.on_connect());
  uv_run(&s.loop, UV_RUN_DEFAULT);
  CHECK(s.connect_error.code == UV_EAFNOSUPPORT);
  CHECK(s.connect_error.message.find("hv:VMID") != std::string::npos);
}

TEST_CASE("AF_UNIX where there is none (Wine): the reason, and the named pipe to use instead") {
  detail::ensure_winsock();
  SOCKET probe = socket(AF_UNIX, SOCK_STREAM, 0);
  if (probe != INVALID_SOCKET) {  // Windows 10 1803+: AF_UNIX exists
    closesocket(probe);
    return;
  }
  EchoScenario s;
  platform::connect(&s.loop, hvterm::UnixAddress{"C:\\hvterm-test\\agent.sock"}, 1000, s.on_connect());
  uv_run(&s.loop, UV_RUN_DEFAULT);
  CHECK(s.connect_error.code == UV_EAFNOSUPPORT);
  CHECK(s.connect_error.message.find("unix:\\\\.\\pipe\\") != std::string::npos);
}
