// Batched writes: frames (transport/framed_connection.h) and local output (client/local_io.h) sent
// during one loop turn go out together at its end, in order, even when they do not all fit at once;
// a pipe that fills up gets a wider buffer (platform::widen_pipe).
#ifndef _WIN32
#include <doctest/doctest.h>
#include <fcntl.h>
#include <pty.h>
#include <signal.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "client/local_io.h"
#include "platform/sockets.h"
#include "protocol/codec.h"
#include "test_loop.h"
#include "transport/framed_connection.h"
#include "transport/io_sizes.h"

using namespace hvterm;

namespace {

uv_stream_t* open_pipe_handle(uv_loop_t* loop, int fd) {
  auto* pipe = new uv_pipe_t;
  uv_pipe_init(loop, pipe, 0);
  REQUIRE(uv_pipe_open(pipe, fd) == 0);
  return reinterpret_cast<uv_stream_t*>(pipe);
}

// A terminal nobody reads yet: the slave for a LocalWriter (raw: the bytes as written, no \n ->
// \r\n), the master to read what it was given without blocking.
void open_raw_terminal(int& master, int& slave) {
  REQUIRE(openpty(&master, &slave, nullptr, nullptr, nullptr) == 0);
  termios raw{};
  REQUIRE(tcgetattr(slave, &raw) == 0);
  cfmakeraw(&raw);
  REQUIRE(tcsetattr(slave, TCSANOW, &raw) == 0);
  fcntl(master, F_SETFL, O_NONBLOCK);
}

bool readable_now(int fd) {
  char byte;
  ssize_t n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n > 0;
}

struct Collector : FramedConnection::Handler {
  std::vector<wire::Frame> frames;
  size_t data_bytes = 0;
  bool disconnected = false;
  void on_frame(wire::Frame& frame) override {
    if (frame.type == wire::FrameType::Data) data_bytes += frame.payload.size() - wire::kDataOverhead;
    frames.push_back(frame);
  }
  void on_disconnect(const std::string&) override { disconnected = true; }
};

// A sending and a receiving FramedConnection on the two ends of a socket pair.
struct ConnectedPair {
  Collector sink;
  int fds[2] = {-1, -1};
  FramedConnection* sender = nullptr;
  FramedConnection* receiver = nullptr;
  explicit ConnectedPair(uv_loop_t* loop) {
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
    sender = FramedConnection::create(open_pipe_handle(loop, fds[0]), nullptr);
    receiver = FramedConnection::create(open_pipe_handle(loop, fds[1]), &sink);
  }
  // Flush and close the sender; run until the receiver has seen everything and the end.
  void finish(uv_loop_t* loop) {
    sender->close_after_flush();
    while (!sink.disconnected) uv_run(loop, UV_RUN_ONCE);
  }
};

std::string pattern(size_t size, char seed) {
  std::string s(size, '\0');
  for (size_t i = 0; i < size; ++i) s[i] = static_cast<char>(seed + i % 251);
  return s;
}

long pipe_max_size() {
  std::ifstream in("/proc/sys/fs/pipe-max-size");
  long size = 0;
  in >> size;
  return size;
}

}  // namespace

TEST_CASE("framed connection: frames of one turn wait for its end, then arrive in order") {
  TestLoop l;
  ConnectedPair pair(&l.loop);
  auto& sink = pair.sink;
  pair.sender->send_data(wire::Stream::Stdout, 0, Slice::copy_of("abc"));
  pair.sender->send_data(wire::Stream::Stdout, 3, Slice::copy_of("def"));
  pair.sender->send(wire::encode_eof(wire::Stream::Stdout, 6));
  CHECK_FALSE(readable_now(pair.fds[1]));  // queued, not written: the turn is not over
  pair.receiver->start();
  pair.finish(&l.loop);  // close_after_flush writes what is queued, then closes

  REQUIRE(sink.frames.size() == 3);
  wire::Stream stream;
  uint64_t offset = 99;
  Slice bytes;
  REQUIRE(wire::decode_data(sink.frames[0].payload, stream, offset, bytes));
  CHECK(offset == 0);
  CHECK(bytes.view() == "abc");
  REQUIRE(wire::decode_data(sink.frames[1].payload, stream, offset, bytes));
  CHECK(offset == 3);
  CHECK(bytes.view() == "def");
  CHECK(sink.frames[2].type == wire::FrameType::Eof);
}

TEST_CASE("framed connection: a batch far larger than the socket buffer arrives whole and in order") {
  TestLoop l;
  ConnectedPair pair(&l.loop);
  auto& sink = pair.sink;
  pair.receiver->start();
  constexpr int kFrames = 64;  // 4 MiB: the first writev takes part of it, libuv the rest
  std::vector<std::string> sent;
  uint64_t offset = 0;
  for (int i = 0; i < kFrames; ++i) {
    // Odd sizes, so the batched write ends in the middle of a frame's prefix or payload.
    sent.push_back(pattern(wire::kMaxDataBytes - static_cast<size_t>(i) * 7, static_cast<char>(i)));
    pair.sender->send_data(wire::Stream::Stdout, offset, Slice::copy_of(sent.back()));
    offset += sent.back().size();
  }
  pair.finish(&l.loop);

  REQUIRE(sink.frames.size() == kFrames);
  uint64_t expected_offset = 0;
  for (int i = 0; i < kFrames; ++i) {
    wire::Stream stream;
    uint64_t got_offset;
    Slice bytes;
    REQUIRE(wire::decode_data(sink.frames[i].payload, stream, got_offset, bytes));
    INFO("frame " << i);
    CHECK(got_offset == expected_offset);
    CHECK(bytes.view() == sent[i]);
    expected_offset += sent[i].size();
    // Reads end mid-frame all the time; the receiver still hands out every frame as a slice of a
    // read block, never gathered into a block of its own size.
    CHECK(sink.frames[i].payload.block()->capacity() > wire::kMaxPayload);
  }
}

TEST_CASE("framed connection: a batch that cannot be written closes the connection cleanly") {
  // After a shutdown libuv refuses writes at once (EPIPE): the first frame of the batch fails,
  // the connection closes, and every frame of the batch is released exactly once (ASan checks).
  TestLoop l;
  ConnectedPair pair(&l.loop);
  Collector sender_events;
  FramedConnection* sender = FramedConnection::create(open_pipe_handle(&l.loop, dup(pair.fds[0])), &sender_events);
  pair.sender->close();  // this test drives its own sender on the same socket
  auto* shutdown = new uv_shutdown_t;
  REQUIRE(uv_shutdown(shutdown, sender->stream(), [](uv_shutdown_t* req, int) { delete req; }) == 0);
  uv_run(&l.loop, UV_RUN_NOWAIT);
  for (int i = 0; i < 3; ++i)
    sender->send_data(wire::Stream::Stdout, static_cast<uint64_t>(i) * 3, Slice::copy_of("xyz"));
  uv_run(&l.loop, UV_RUN_NOWAIT);
  CHECK(sender_events.disconnected);
  pair.receiver->close();
}

TEST_CASE("framed connection: after a failed write, what the peer sent before it closed still arrives") {
  // An agent that refuses a client says why in an ERROR frame and closes; the client's HELLO may
  // fail with EPIPE first. Here the write fails well before the ERROR comes: it must still arrive,
  // and then the end, with the write error as the reason.
  struct Events : FramedConnection::Handler {
    std::vector<wire::Frame> frames;
    std::string reason;
    bool disconnected = false;
    void on_frame(wire::Frame& frame) override { frames.push_back(frame); }
    void on_disconnect(const std::string& why) override {
      disconnected = true;
      reason = why;
    }
  } events;
  signal(SIGPIPE, SIG_IGN);  // as both programs do (platform::init_process)
  TestLoop l;
  int fds[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
  FramedConnection* conn = FramedConnection::create(open_pipe_handle(&l.loop, fds[0]), &events);
  conn->start();
  REQUIRE(shutdown(fds[1], SHUT_RD) == 0);  // the peer reads no more: our writes fail with EPIPE
  conn->send(wire::encode_ping(1));
  for (int i = 0; i < 5; ++i) uv_run(&l.loop, UV_RUN_NOWAIT);
  CHECK_FALSE(events.disconnected);  // still reading what the peer may have to say
  conn->send(wire::encode_ping(2));  // dropped: nothing is written after a failure
  std::string error = wire::encode(wire::ErrorMsg{wire::ErrorCode::Malformed, "this user may not use the agent"});
  REQUIRE(write(fds[1], error.data(), error.size()) == static_cast<ssize_t>(error.size()));
  close(fds[1]);
  while (!events.disconnected) uv_run(&l.loop, UV_RUN_ONCE);
  REQUIRE(events.frames.size() == 1);
  wire::ErrorMsg said;
  REQUIRE(events.frames[0].type == wire::FrameType::Error);
  REQUIRE(wire::decode(events.frames[0].payload.view(), said));
  CHECK(said.message == "this user may not use the agent");
  CHECK(events.reason == "broken pipe");
}

TEST_CASE("local writer: writes of one turn go out together at its end, each acknowledged") {
  TestLoop l;
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  size_t acknowledged = 0;
  {
    LocalWriter writer(&l.loop, fds[1]);
    for (const char* part : {"one ", "two ", "three"})
      writer.write(Slice::copy_of(part), [&](size_t n, int error) {
        CHECK(error == 0);
        acknowledged += n;
      });
    char buf[64];
    CHECK(read(fds[0], buf, sizeof buf) == -1);  // nothing yet: the turn is not over
    CHECK(errno == EAGAIN);
    CHECK(writer.pending() == 13);
    uv_run(&l.loop, UV_RUN_NOWAIT);
    CHECK(writer.pending() == 0);
    CHECK(acknowledged == 13);
    ssize_t n = read(fds[0], buf, sizeof buf);
    REQUIRE(n == 13);
    CHECK(std::string(buf, 13) == "one two three");
  }
  close(fds[0]);
}

TEST_CASE("local writer: output that outruns a pipe arrives whole, in order, through a widened pipe") {
  TestLoop l;
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  const bool can_widen = pipe_max_size() >= (1 << 20);
  std::string expected;
  for (int i = 0; i < 48; ++i) expected += pattern(65536 + static_cast<size_t>(i), static_cast<char>(i));
  std::string received;
  size_t acknowledged = 0;
  auto* reader = reinterpret_cast<uv_pipe_t*>(open_pipe_handle(&l.loop, fds[0]));
  reader->data = &received;
  {
    LocalWriter writer(&l.loop, fds[1]);
    for (size_t at = 0; at < expected.size(); at += 65536 + 3)
      writer.write(Slice::copy_of(std::string_view(expected).substr(at, 65536 + 3)), [&](size_t n, int error) {
        CHECK(error == 0);
        acknowledged += n;
      });
    uv_run(&l.loop, UV_RUN_NOWAIT);  // the batched write fills the pipe: it is widened
    if (can_widen) CHECK(fcntl(fds[0], F_GETPIPE_SZ) == (1 << 20));
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(reader),
        [](uv_handle_t*, size_t, uv_buf_t* buf) {
          static char chunk[1 << 16];
          *buf = uv_buf_init(chunk, sizeof chunk);
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
          if (n > 0) static_cast<std::string*>(s->data)->append(buf->base, static_cast<size_t>(n));
          if (n < 0)
            uv_close(reinterpret_cast<uv_handle_t*>(s), [](uv_handle_t* h) { delete reinterpret_cast<uv_pipe_t*>(h); });
        });
    writer.close_when_drained();
    while (acknowledged < expected.size()) uv_run(&l.loop, UV_RUN_ONCE);
  }
  uv_run(&l.loop, UV_RUN_DEFAULT);  // the writer closed its end: the reader sees EOF
  CHECK(received.size() == expected.size());
  CHECK(received == expected);
}

TEST_CASE("widen_pipe: a pipe gets what is asked, never less than it has; anything else is left alone") {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  CHECK(platform::widen_pipe(fds[1], 128 * 1024));
  CHECK(fcntl(fds[0], F_GETPIPE_SZ) == 128 * 1024);
  if (pipe_max_size() >= (1 << 20)) {
    CHECK(platform::widen_pipe(fds[1], 1 << 20));
    CHECK(fcntl(fds[0], F_GETPIPE_SZ) == (1 << 20));
    CHECK(platform::widen_pipe(fds[0], 128 * 1024));  // already wider: nothing to do
    CHECK(fcntl(fds[0], F_GETPIPE_SZ) == (1 << 20));
  }
  close(fds[0]);
  close(fds[1]);
  int sockets[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sockets) == 0);
  CHECK_FALSE(platform::widen_pipe(sockets[0], 128 * 1024));
  close(sockets[0]);
  close(sockets[1]);
}
TEST_CASE("local writer: a terminal's output not yet written is dropped with an exact count of what was") {
  // A detach relies on it: what the terminal was given is acknowledged, the rest shown by the next attach.
  TestLoop l;
  int master = -1, slave = -1;
  open_raw_terminal(master, slave);
  std::string expected;
  for (int i = 0; i < 64; ++i) expected += pattern(65536, static_cast<char>('a' + i % 26));
  std::string received;
  size_t acknowledged = 0, dropped = 0;
  bool drained = false;
  auto read_master = [&] {
    char chunk[65536];
    ssize_t n;
    while ((n = read(master, chunk, sizeof chunk)) > 0) received.append(chunk, static_cast<size_t>(n));
  };
  {
    LocalWriter writer(&l.loop, slave);
    for (size_t at = 0; at < expected.size(); at += 65536)
      writer.write(Slice::copy_of(std::string_view(expected).substr(at, 65536)), [&](size_t n, int error) {
        CHECK(error == 0);
        acknowledged += n;
      });
    uv_run(&l.loop, UV_RUN_NOWAIT);  // the terminal takes what fits; nobody reads it yet
    CHECK(writer.pending() > expected.size() / 2);
    dropped = writer.discard_unwritten();
    CHECK(dropped > 0);
    CHECK(writer.pending() <= kTerminalWriteInFlight);  // only the piece libuv was writing goes on
    writer.when_drained([&] { drained = true; });
    while (!drained) {
      read_master();
      uv_run(&l.loop, UV_RUN_NOWAIT);
    }
    read_master();
  }
  CHECK(acknowledged + dropped == expected.size());
  CHECK(received.size() == acknowledged);
  CHECK(received == expected.substr(0, received.size()));
  close(master);
}

TEST_CASE("local writer: closed while a terminal takes nothing, it still counts exactly what the terminal got") {
  // A detach that gives up on a stopped terminal acknowledges what that terminal was given, no
  // more and no less, although libuv cancels the write it was in the middle of.
  TestLoop l;
  int master = -1, slave = -1;
  open_raw_terminal(master, slave);
  std::string expected;
  for (int i = 0; i < 16; ++i) expected += pattern(65536, static_cast<char>('a' + i % 26));
  size_t acknowledged = 0;
  {
    LocalWriter writer(&l.loop, slave);
    for (size_t at = 0; at < expected.size(); at += 65536)
      writer.write(Slice::copy_of(std::string_view(expected).substr(at, 65536)), [&](size_t n, int error) {
        CHECK(error == 0);
        acknowledged += n;
      });
    uv_run(&l.loop, UV_RUN_NOWAIT);  // the terminal takes what fits
    REQUIRE(writer.pending() > 0);
    writer.discard_unwritten();  // only the piece libuv is writing is left
    std::string received;
    char chunk[65536];
    ssize_t n;
    auto read_some = [&] {
      while ((n = read(master, chunk, 1000)) > 0) received.append(chunk, static_cast<size_t>(n));
    };
    read_some();  // the terminal takes a little, and libuv writes part of that piece
    uv_run(&l.loop, UV_RUN_NOWAIT);
    writer.close();  // then it takes nothing: the rest of the piece is cancelled
    uv_run(&l.loop, UV_RUN_NOWAIT);
    read_some();
    while ((n = read(master, chunk, sizeof chunk)) > 0) received.append(chunk, static_cast<size_t>(n));
    CHECK(received.size() > 0);
    CHECK(acknowledged == received.size());
    CHECK(received == expected.substr(0, received.size()));
  }
  close(master);
}

TEST_CASE("LocalWriter: destroyed with writes still under way, their callbacks find it gone") {
  TestLoop l;
  int calls = 0;
  {
    // A pipe nobody reads: what does not fit waits in libuv, and is cancelled when the writer goes.
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    auto writer = std::make_unique<LocalWriter>(&l.loop, fds[1]);
    writer->write(Slice::copy_of(std::string(4 << 20, 'x')), [&](size_t, int) { ++calls; });
    writer->flush();
    CHECK(writer->pending() > 0);
    writer.reset();
    uv_run(&l.loop, UV_RUN_DEFAULT);
    close(fds[0]);
  }
  {
    // A file: the write is with the thread pool when the writer goes.
    char path[] = "/tmp/hvterm-local-writer-XXXXXX";
    int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    unlink(path);
    auto writer = std::make_unique<LocalWriter>(&l.loop, fd);
    writer->write(Slice::copy_of(std::string(1 << 20, 'y')), [&](size_t, int) { ++calls; });
    writer.reset();
    uv_run(&l.loop, UV_RUN_DEFAULT);
    close(fd);
  }
  CHECK(calls <= 1);  // the part of the first that fit at once; nothing after the writers went
}
#endif
