#include "client/forward_command.h"

#include <csignal>
#include <functional>
#include <iostream>

#include "client/forwarder.h"
#include "client/request.h"
#include "common/log.h"
#include "common/printable.h"
#include "common/signal_watch.h"

namespace hvterm {
namespace {

int fail(const std::string& message) {
  std::cerr << "hvterm: " << message << "\n";
  return 255;
}

}  // namespace

int command_forward(const ClientOptions& options, std::vector<LocalForward> local, std::vector<RemoteForward> remote) {
  uv_loop_t* loop = uv_default_loop();
  // Asked once before listening, as ssh connects before it forwards: a wrong target or an agent
  // that cannot open connections is said now, not at the first connection.
  auto hello = request_once(loop, options.target, options.connect, options.token, wire::encode_ping(0),
                            wire::FrameType::Pong);
  if (!hello.ok) return fail(hello.error);
  if ((hello.capabilities & (wire::kCapConnect | wire::kCapOpenId)) != (wire::kCapConnect | wire::kCapOpenId))
    return fail("this agent (" + hello.agent + ") is too old to open connections in the guest; update hvtermd there");
  if (!remote.empty() && (hello.capabilities & wire::kCapListen) == 0)
    return fail("this agent (" + hello.agent + ") is too old to listen in the guest (-R); update hvtermd there");

  int status = 0;
  bool forced = false;
  {
    LocalWriter messages(loop, 2);
    auto say = [&](const std::string& line) {
      messages.write(Slice::copy_of("hvterm: " + line + "\n"), [](size_t, int) {});
    };
    log::set_sink([&](const std::string& record) {
      messages.write(Slice::copy_of(record + "\n"), [](size_t, int) {});
    });
    SignalWatch signals;
    auto close_signals = [&] { signals.close(); };
    Forwarder::Events events;
    events.ready = [&](const std::string& line, bool) {
      if (!options.quiet) say("forwarding " + line + " (" + options.target.text + ")");
    };
    Forwarder* self = nullptr;
    events.failed = [&] {  // a -R listener the agent could not keep (it said why): stop, as with a bind error
      if (status != 0) return;
      status = 255;
      self->stop(SIGTERM, [&] { close_signals(); });
    };
    Forwarder forwarder(loop, options, std::move(local), std::move(remote), &messages, events);
    self = &forwarder;
    // The first signal stops listening and ends each open connection as that signal would end a
    // program; a second one does not wait for them (the agent forgets their sessions in time).
    std::function<void(int)> on_signal = [&](int signum) {
      if (status != 0) {
        if (forwarder.open_connections() > 0)
          say("stopping without waiting for " + std::to_string(forwarder.open_connections()) + " connection(s)");
        forced = true;
        uv_stop(loop);
        return;
      }
      status = 128 + signum;
      if (!options.quiet && forwarder.open_connections() > 0)
        say("closing " + std::to_string(forwarder.open_connections()) + " open connection(s)");
      forwarder.stop(signum, close_signals);
    };
    std::string error;
    if (!forwarder.start(error)) {
      say(error);
      status = 255;
      forwarder.stop(SIGTERM, [] {});  // what did start (a -R listener) ends before we do
      uv_run(loop, UV_RUN_DEFAULT);
    } else {
      static constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP};
      signals.start(loop, kStopSignals, on_signal);
      uv_run(loop, UV_RUN_DEFAULT);
    }
    close_signals();
    log::set_sink(nullptr);
    if (forced) {
      messages.flush();
      return status;  // what is still open goes with the process
    }
    messages.close_when_drained();
    uv_run(loop, UV_RUN_DEFAULT);
  }
  uv_run(loop, UV_RUN_DEFAULT);  // the handles the forwarder and stderr closed
  return status;
}

}  // namespace hvterm
