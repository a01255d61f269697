// FramedConnection when the peer goes away: frames it sent before closing are still delivered,
// even when our write notices the broken connection first; a close that waits on a peer that
// never reads gives up; and what waits unwritten is counted.
#ifndef _WIN32
#include <csignal>
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <string>
#include <vector>

#include "protocol/codec.h"
#include "test_loop.h"
#include "transport/framed_connection.h"

using namespace hvterm;

namespace {

uv_stream_t* open_socket_handle(uv_loop_t* loop, int fd) {
  std::signal(SIGPIPE, SIG_IGN);  // as hvterm and hvtermd do: a write to a closed peer is an error, not death
  auto* pipe = new uv_pipe_t;
  uv_pipe_init(loop, pipe, 0);
  REQUIRE(uv_pipe_open(pipe, fd) == 0);
  return reinterpret_cast<uv_stream_t*>(pipe);
}

struct Events : FramedConnection::Handler {
  std::vector<wire::FrameType> frames;
  bool disconnected = false;
  std::string reason;
  void on_frame(wire::Frame& frame) override { frames.push_back(frame.type); }
  void on_disconnect(const std::string& why) override {
    disconnected = true;
    reason = why;
  }
};

void write_all(int fd, const std::string& bytes) {
  REQUIRE(write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
}

}  // namespace

TEST_CASE("framed connection: a peer's last frame survives a write that fails before it is read") {
  // The race: the peer (a client) sends COLLECT and closes between our poll for events and the
  // write at the end of that loop turn (an ACK queued by another event of the turn). The write
  // fails (EPIPE) and libuv reports that at the start of the next turn, before that turn's poll
  // reads: the frame waiting in our receive buffer must still reach the handler, then the end.
  TestLoop l;
  int fds[2], trigger[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, trigger) == 0);
  Events events;
  FramedConnection* conn = FramedConnection::create(open_socket_handle(&l.loop, fds[0]), &events);
  conn->start();
  struct Race {
    FramedConnection* conn;
    int peer;
  } race{conn, fds[1]};
  // Another event of the same turn: its callback plays the peer and queues our write.
  uv_stream_t* other = open_socket_handle(&l.loop, trigger[0]);
  other->data = &race;
  uv_read_start(
      other,
      [](uv_handle_t*, size_t, uv_buf_t* buf) {
        static char byte[16];
        *buf = uv_buf_init(byte, sizeof byte);
      },
      [](uv_stream_t* stream, ssize_t nread, const uv_buf_t*) {
        if (nread <= 0) return;
        auto* r = static_cast<Race*>(stream->data);
        write_all(r->peer, wire::encode_empty(wire::FrameType::Collect));
        close(r->peer);
        r->conn->send(wire::encode_ack(wire::Stream::Stdin, 1));
        uv_close(reinterpret_cast<uv_handle_t*>(stream),
                 [](uv_handle_t* h) { delete reinterpret_cast<uv_pipe_t*>(h); });
      });
  write_all(trigger[1], "x");
  while (!events.disconnected) uv_run(&l.loop, UV_RUN_ONCE);
  REQUIRE(events.frames.size() == 1);
  CHECK(events.frames[0] == wire::FrameType::Collect);
  CHECK(events.reason == uv_strerror(UV_EPIPE));  // why the connection ended: the failed write
  close(trigger[1]);
}

TEST_CASE("framed connection: after a failed write, frames sent are dropped and counted no more") {
  TestLoop l;
  int fds[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
  Events events;
  FramedConnection* conn = FramedConnection::create(open_socket_handle(&l.loop, fds[0]), &events);
  conn->start();
  shutdown(fds[1], SHUT_RD);  // the peer reads no more but has not closed: we must keep reading
  conn->send(wire::encode_ping(7));
  CHECK(conn->unwritten_bytes() == wire::kHeaderSize + 8);
  uv_run(&l.loop, UV_RUN_NOWAIT);
  uv_run(&l.loop, UV_RUN_NOWAIT);
  CHECK_FALSE(events.disconnected);
  conn->send(wire::encode_ping(8));  // dropped: nothing can be written any more
  CHECK(conn->unwritten_bytes() == 0);
  write_all(fds[1], wire::encode_ping(9));
  close(fds[1]);
  while (!events.disconnected) uv_run(&l.loop, UV_RUN_ONCE);
  REQUIRE(events.frames.size() == 1);
  CHECK(events.frames[0] == wire::FrameType::Ping);
}

TEST_CASE("framed connection: a close that waits for a peer that never reads gives up") {
  TestLoop l;
  int fds[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
  int small = 4096;
  setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  Events events;
  FramedConnection* conn = FramedConnection::create(open_socket_handle(&l.loop, fds[0]), &events);
  conn->start();
  std::string big(wire::kMaxDataBytes, 'x');
  for (int i = 0; i < 64; ++i)
    conn->send_data(wire::Stream::Stdout, static_cast<uint64_t>(i) * big.size(), Slice::copy_of(big));
  CHECK(conn->unwritten_bytes() == 64 * (wire::kDataPrefixSize + big.size()));
  conn->close_after_flush();
  uint64_t started = uv_now(&l.loop);
  uv_run(&l.loop, UV_RUN_DEFAULT);  // returns once the connection has closed itself
  uint64_t waited = uv_now(&l.loop) - started;
  CHECK(waited >= 9000);  // the writes stalled for the whole deadline...
  CHECK(waited < 30000);  // ...and no longer
  close(fds[1]);
}
#endif
