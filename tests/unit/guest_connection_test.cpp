// GuestConnection (agent/guest_connection.h): the end of a guest-side connection, whatever order
// the kernel and this loop hear of things in.
#include <doctest/doctest.h>

#ifndef _WIN32
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <string>

#include "agent/guest_connection.h"
#include "test_loop.h"

using namespace hvterm;

namespace {

struct Listener {
  int fd = -1;
  uint16_t port = 0;
  Listener() {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::listen(fd, 4) == 0);
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    port = ntohs(address.sin_port);
  }
  ~Listener() { ::close(fd); }
};

// What the session does with a connection's output: read it until it ends, and say how it ended.
struct Reader {
  GuestConnection* connection = nullptr;
  std::string received;
  static void on_read(uv_stream_t* stream, ssize_t nread, const uv_buf_t* buf) {
    auto* self = static_cast<Reader*>(stream->data);
    if (nread > 0) self->received.append(buf->base, static_cast<size_t>(nread));
    delete[] buf->base;
    if (nread < 0) {
      uv_read_stop(stream);
      self->connection->read_ended(static_cast<int>(nread));
    }
  }
  void start() {
    uv_stream_t* stream = connection->output();
    stream->data = this;
    uv_read_start(
        stream, [](uv_handle_t*, size_t, uv_buf_t* buf) { *buf = uv_buf_init(new char[4096], 4096); }, on_read);
  }
};

// Turns the loop until `done`; a loop with nothing left to wait for before that is a failure.
template <typename Done>
void run_until(uv_loop_t* loop, Done done) {
  while (!done()) {
    bool alive = uv_run(loop, UV_RUN_ONCE) != 0;
    if (!alive && !done()) FAIL("the loop has nothing left to wait for");
  }
}

}  // namespace

TEST_CASE("GuestConnection: a peer that writes and resets before the loop hears of the connect: "
          "what it wrote arrives, then the reset") {
  TestLoop l;
  Listener listener;
  Reader reader;
  std::optional<wire::Exit> end;
  wire::Destination destination{wire::Destination::Kind::Tcp, "", listener.port};
  GuestConnection connection(
      &l.loop, destination, 30000, [&] { reader.start(); }, [&](const wire::Exit& e) { end = e; });
  reader.connection = &connection;

  // The connect is under way (localhost needs no resolver); the kernel completes it without the loop.
  int peer = ::accept(listener.fd, nullptr, nullptr);
  REQUIRE(peer >= 0);
  REQUIRE(::send(peer, "banner", 6, 0) == 6);
  linger reset{1, 0};
  ::setsockopt(peer, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  ::close(peer);

  run_until(&l.loop, [&] { return end.has_value(); });
  CHECK(reader.received == "banner");
  CHECK(end->kind == wire::ExitKind::ConnectionFailed);
  CHECK(end->code == static_cast<int>(wire::ConnectionError::Reset));
  CHECK(end->message.find("connection reset by peer") != std::string::npos);
  connection.close([] {});
}

TEST_CASE("GuestConnection: a peer that writes and closes cleanly ends it cleanly once both sides are done") {
  TestLoop l;
  Listener listener;
  Reader reader;
  std::optional<wire::Exit> end;
  wire::Destination destination{wire::Destination::Kind::Tcp, "localhost", listener.port};
  GuestConnection connection(
      &l.loop, destination, 30000, [&] { reader.start(); }, [&](const wire::Exit& e) { end = e; });
  reader.connection = &connection;
  int peer = ::accept(listener.fd, nullptr, nullptr);
  REQUIRE(peer >= 0);
  REQUIRE(::send(peer, "bye", 3, 0) == 3);
  ::shutdown(peer, SHUT_WR);

  run_until(&l.loop, [&] { return reader.received == "bye"; });
  CHECK_FALSE(end);  // our sending side is still open: the connection is half-closed, not over
  connection.close_input();
  run_until(&l.loop, [&] { return end.has_value(); });
  CHECK(end->kind == wire::ExitKind::Exited);
  CHECK(end->code == 0);
  char byte;
  CHECK(::recv(peer, &byte, 1, 0) == 0);  // the peer saw our EOF
  ::close(peer);
  connection.close([] {});
}
#endif
