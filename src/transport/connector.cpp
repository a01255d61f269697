#include "transport/connector.h"

#include <cstdlib>
#include <memory>

#include "common/log.h"
#include "common/timer.h"
#include "common/units.h"
#include "platform/process.h"
#include "platform/sockets.h"
#include "platform/system.h"
#include "platform/vms.h"
#include "transport/hybrid_handshake.h"

namespace hvterm {
namespace {

// ---- local: connect, or start the agent and retry until it answers ------------------------------------
struct LocalConnect : std::enable_shared_from_this<LocalConnect> {
  uv_loop_t* loop;
  std::string path;
  ConnectOptions options;
  ConnectDone done;
  uint64_t deadline;
  bool started = false;
  uint64_t delay_ms = 5;
  Timer timer;  // its callback holds this operation until finish() closes it

  void attempt() {
    auto self = shared_from_this();
    platform::connect(loop, UnixAddress{path}, options.timeout_ms,
                      [self](uv_stream_t* stream, const platform::ConnectError& error) {
                        if (stream != nullptr) return self->finish(stream, {});
                        self->on_failure(error);
                      });
  }

  void on_failure(const platform::ConnectError& error) {
    bool absent = error.code == UV_ENOENT || error.code == UV_ECONNREFUSED;
    if (!absent) return finish(nullptr, {error.message});
    if (!started && options.start_local_agent) {
      started = true;
      std::string program = local_agent_program();
      std::string log = path.substr(0, path.rfind('/')) + "/agent.log";
      log::info("no local agent listens yet; starting " + program + " (its log: " + log + ")");
      int rc = platform::spawn_daemon(loop, {program, "--listen", "unix:" + path, "--log-level", "warn"}, log);
      if (rc != 0)
        return finish(nullptr, {"cannot start the local agent '" + program + "': " + uv_strerror(rc) +
                                " (set HVTERMD to its path)"});
    } else if (!options.start_local_agent) {
      return finish(nullptr, {"no local agent is running (" + path + ")", true});
    }
    // The agent (ours, or one a racing client started) needs a moment to listen.
    if (uv_now(loop) >= deadline)
      return finish(nullptr, {"the local agent did not start listening on " + path + " (see " +
                              path.substr(0, path.rfind('/')) + "/agent.log)"});
    retry_later();
  }

  void retry_later() {
    log::debug("the local agent is not listening yet; trying again in " + std::to_string(delay_ms) + " ms");
    timer.start(loop, delay_ms, 0, [self = shared_from_this()] { self->attempt(); });
    delay_ms = std::min<uint64_t>(delay_ms * 2, 100);
  }

  void finish(uv_stream_t* stream, const ConnectFailure& failure) {
    timer.close();
    done(stream, failure);
  }
};

// ---- hybrid vsock: CONNECT <port> on the VMM's Unix socket -------------------------------------------
struct HybridConnect {
  uv_stream_t* stream = nullptr;
  uv_timer_t timer{};
  uv_write_t write{};
  std::string line;
  HybridReplyParser parser;
  ConnectDone done;
  char buffer[64];
  bool finished = false;
  int refs = 2;  // the write callback and the timer's close callback both end before we go

  void release() {
    if (--refs == 0) delete this;
  }

  void finish(const std::string& error) {
    if (finished) return;
    finished = true;
    uv_read_stop(stream);
    uv_timer_stop(&timer);
    uv_stream_t* result = stream;
    if (!error.empty()) {
      platform::close_stream(stream);
      result = nullptr;
    }
    ConnectDone callback = std::move(done);
    // The write request may still be pending when we fail; free everything once it and the timer are done.
    callback(result, {error});
    uv_close(reinterpret_cast<uv_handle_t*>(&timer),
             [](uv_handle_t* h) { static_cast<HybridConnect*>(h->data)->release(); });
  }
};

void connect_hybrid(uv_loop_t* loop, const HybridAddress& address, const ConnectOptions& options, ConnectDone done) {
  platform::
      connect(loop, UnixAddress{address.path}, options.timeout_ms,
              [loop, address, options, done](uv_stream_t* stream, const platform::ConnectError& error) {
                if (stream == nullptr) {
                  done(nullptr, {error.code == UV_ENOENT || error.code == UV_ECONNREFUSED
                                     ? "no VMM vsock socket at " + address.path + " (is the VM running?)"
                                     : error.message});
                  return;
                }
                auto* op = new HybridConnect;
                op->stream = stream;
                op->done = done;
                op->line = hybrid_connect_line(address.port);
                op->timer.data = op;
                stream->data = op;
                uv_timer_init(loop, &op->timer);
                uv_timer_start(
                    &op->timer,
                    [](uv_timer_t* t) {
                      static_cast<HybridConnect*>(t->data)->finish("timed out waiting for the VMM's handshake reply");
                    },
                    options.timeout_ms, 0);
                uv_buf_t buf = uv_buf_init(op->line.data(), static_cast<unsigned>(op->line.size()));
                op->write.data = op;
                uv_write(&op->write, stream, &buf, 1, [](uv_write_t* req, int status) {
                  auto* op = static_cast<HybridConnect*>(req->data);
                  if (status != 0 && status != UV_ECANCELED && !op->finished)
                    op->finish(std::string("cannot send the handshake: ") + uv_strerror(status));
                  op->release();
                });
                uv_read_start(
                    stream,
                    [](uv_handle_t* h, size_t, uv_buf_t* buf) {
                      auto* op = static_cast<HybridConnect*>(h->data);
                      // One byte at a time: nothing past the reply line may be consumed here.
                      *buf = uv_buf_init(op->buffer, 1);
                    },
                    [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
                      auto* op = static_cast<HybridConnect*>(s->data);
                      if (op->finished || nread == 0) return;
                      if (nread < 0) {
                        op->finish(nread == UV_EOF
                                       ? "the VMM closed the connection (nothing listening on that port in the guest?)"
                                       : std::string("handshake failed: ") + uv_strerror(static_cast<int>(nread)));
                        return;
                      }
                      auto status = op->parser.feed(buf->base, static_cast<size_t>(nread));
                      if (status == HybridReplyParser::Status::Error)
                        op->finish(op->parser.error());
                      else if (status == HybridReplyParser::Status::Ok)
                        op->finish({});
                    });
              });
}

}  // namespace

std::string local_agent_socket(std::string& error) {
  auto dir = platform::runtime_dir(error);
  return dir ? *dir + "/agent.sock" : std::string();
}

std::string local_agent_program() {
  if (const char* env = std::getenv("HVTERMD"); env != nullptr && *env != '\0') return env;
  std::string beside = platform::executable_dir() + "/hvtermd" + platform::kExecutableSuffix;
  uv_fs_t req;
  bool exists = uv_fs_stat(nullptr, &req, beside.c_str(), nullptr) == 0;
  uv_fs_req_cleanup(&req);
  return exists ? beside : std::string("hvtermd");
}

void connect_target(uv_loop_t* loop, const Target& target, const ConnectOptions& options, ConnectDone on_done) {
  ConnectDone done = [on_done = std::move(on_done), started = uv_hrtime()](uv_stream_t* stream,
                                                                           const ConnectFailure& failure) {
    if (stream != nullptr)
      log::info("connected in " + format_elapsed(uv_hrtime() - started));
    else
      log::info("could not connect: " + failure.message);
    on_done(stream, failure);
  };
  if (std::holds_alternative<LocalTarget>(target.where)) {
    std::string error;
    std::string path = local_agent_socket(error);
    if (path.empty()) return done(nullptr, {"cannot use the local agent: " + error});
    log::info("connecting to the local agent at " + path);
    auto op = std::make_shared<LocalConnect>();
    op->loop = loop;
    op->path = path;
    op->options = options;
    op->done = std::move(done);
    op->deadline = uv_now(loop) + options.timeout_ms;
    op->attempt();
    return;
  }
  Address address;
  if (auto* named = std::get_if<NamedTarget>(&target.where)) {
    std::string error;
    auto resolved = platform::resolve_vm(named->name, named->port.value_or(options.port), error);
    if (!resolved) return done(nullptr, {error});
    address = *resolved;
    log::info("VM " + named->name + " is " + describe(address));
  } else {
    address = std::get<Address>(target.where);
  }
  log::info("connecting to " + describe(address));
  if (auto* hybrid = std::get_if<HybridAddress>(&address))
    return connect_hybrid(loop, *hybrid, options, std::move(done));
  bool unix_socket = std::holds_alternative<UnixAddress>(address);
  platform::connect(loop, address, options.timeout_ms,
                    [done, unix_socket](uv_stream_t* stream, const platform::ConnectError& error) {
                      bool absent = error.code == UV_ENOENT || error.code == UV_ECONNREFUSED;
                      done(stream, {error.message, unix_socket && absent});
                    });
}

}  // namespace hvterm
