// hvtermd: the agent. Runs in the foreground, logs to stderr, serves sessions until SIGTERM.
#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstring>
#include <iostream>
#include <string_view>

#include "agent/agent.h"
#include "agent/log_file.h"
#include "common/log.h"
#include "common/printable.h"
#include "common/target.h"
#include "common/token_file.h"
#include "common/units.h"
#include "platform/process.h"
#include "platform/service.h"
#include "platform/sockets.h"
#include "platform/system.h"

using namespace hvterm;

namespace {

constexpr uint64_t kLogFileMaxBytes = 4 * 1024 * 1024;  // then FILE.1: at most ~8 MiB of logs

// A stop that may come from another thread (the Windows service control handler).
struct RemoteStop {
  uv_async_t async{};
  std::atomic<bool> ready{false};
  void request() {
    if (ready) uv_async_send(&async);
  }
};

int serve(const AgentOptions& options, RemoteStop* remote);

std::vector<uint32_t> parse_cids(const std::string& text, bool& any, std::string& error) {
  std::vector<uint32_t> cids;
  any = false;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (item == "any") {
      any = true;
    } else {
      auto cid = parse_port(item);
      if (!cid && item != "0") {
        error = "--allow-cid: '" + item + "' is not a CID (a number, or 'any')";
        return {};
      }
      cids.push_back(cid ? *cid : 0);
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return cids;
}

int fail_usage(const std::string& message) {
  std::cerr << "hvtermd: " << message << "\n";
  return 2;
}

// The service runs this very program with --service and the options given here (checked above),
// less the ones that asked for the installation.
int install_service(const std::string& name, int argc, char** argv) {
  char path[4096];
  size_t size = sizeof(path);
  if (uv_exepath(path, &size) != 0) return fail_usage("cannot tell where this hvtermd is");
  platform::ServiceSpec spec{name,
                             "hvterm agent (" + name + ")",
                             "Serves hvterm's terminal and exec sessions over Hyper-V sockets: hvtermd.",
                             {std::string(path, size), "--service"}};
  // Also in its spelling with a value (--install-service=true): left in, the service would install itself.
  for (int i = 1; i < argc; ++i)
    if (std::string_view word = argv[i]; word != "--install-service" && !word.starts_with("--install-service="))
      spec.argv.emplace_back(word);
  std::string error, note;
  if (!platform::install_service(spec, error, note)) {
    std::cerr << "hvtermd: " << error << "\n";
    return 1;
  }
  if (!note.empty()) std::cerr << "hvtermd: note: " << note << "\n";
  std::cout << "installed the service " << name << " (starts with the machine; net start " << name
            << " starts it now): " << join_words(spec.argv) << "\n";
  return 0;
}

int uninstall_service(const std::string& name) {
  std::string error;
  if (!platform::uninstall_service(name, 30000, error)) {
    std::cerr << "hvtermd: " << error << "\n";
    return 1;
  }
  std::cout << "removed the service " << name << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], platform::kPtyHelperFlag) == 0) return platform::pty_helper_main(argc, argv);
  log::set_program("hvtermd");
  platform::init_process();

  CLI::App app{"hvtermd - the hvterm agent: serves terminal and exec sessions over hypervisor sockets.\n\n"
               "Runs in the foreground and logs to stderr (or --log-file); supervise it with systemd or as a "
               "Windows service.\n"
               "Without --listen it listens on the hypervisor socket of this machine (Linux: AF_VSOCK, any CID)."};
  app.set_version_flag("--version", std::string("hvtermd ") + HVTERM_VERSION);
  app.footer("Examples:\n"
             "  hvtermd                                      in a guest: vsock port 18518, from the host (CID 2) only\n"
             "  hvtermd --listen unix:/run/hvterm/agent.sock a Unix socket (hvterm's unix: target, a VMM relay)\n"
             "  hvtermd --allow-cid any --token-file /etc/hvterm/token   any peer that holds the token");
  std::vector<std::string> listen;
  uint32_t port = wire::kDefaultPort;
  std::string allow_cid = "2", token_file, linger = "24h", replay = "1M", level = "info";
  size_t max_sessions = 256;
  app.add_option("-l,--listen", listen,
                 "Address to listen on (repeatable): unix:PATH, vsock:any[:PORT], vsock:CID[:PORT], hv:[SERVICE]")
      ->type_name("ADDR");
  app.add_option("-p,--port", port, "Default port for vsock/Hyper-V listeners")->capture_default_str();
  app.add_option("--allow-cid", allow_cid,
                 "vsock peers allowed to connect: comma-separated CIDs, or 'any' (2 is the host)")
      ->capture_default_str();
  app.add_option("--token-file", token_file, "Require clients to present the token stored in this file");
  app.add_option("--max-sessions", max_sessions, "Maximum concurrent sessions running a program")
      ->capture_default_str();
  std::string forward = "any";
  std::vector<std::string> forward_allow;
  size_t max_forwards = 256;
  app.add_option("--forward", forward,
                 "Connections clients may open in the guest (hvterm nc, forward): none, local (the guest itself: "
                 "localhost, Unix sockets, pipes) or any")
      ->capture_default_str();
  app.add_option("--forward-allow", forward_allow,
                 "Only these destinations (repeatable, comma-separated): HOST:PORT, HOST:*, unix:PATH, pipe:NAME")
      ->type_name("LIST");
  app.add_option("--max-forwards", max_forwards, "Maximum connections opened for clients at once")
      ->capture_default_str();
  size_t max_connections = 0;
  auto* max_connections_option =
      app.add_option("--max-connections", max_connections,
                     "Maximum connections served at once; more are refused with 'limit reached'. Default: half of the "
                     "open-file limit (ulimit -n, systemd's LimitNOFILE=), at most 1024");
  app.add_option("--linger", linger, "How long a detached session lives before it is hung up (e.g. 30m, 24h)")
      ->capture_default_str();
  app.add_option("--replay-buffer", replay,
                 "Output kept per session for clients that have not seen it yet (e.g. 256K, 1M)")
      ->capture_default_str();
  size_t scrollback = 10000;
  app.add_option("--scrollback", scrollback,
                 "Lines a detached terminal session keeps of what scrolled off its screen; the next client to "
                 "attach gets them, then the screen")
      ->capture_default_str()
      ->check(CLI::Range(size_t{0}, size_t{1000000}))
      ->type_name("LINES");
  app.add_option("--log-level", level, "debug, info, warn, error or quiet")->capture_default_str();
  std::string log_file;
  app.add_option("--log-file", log_file,
                 "Write log records to this file, with timestamps, instead of stderr; past 4 MiB the older "
                 "records move to FILE.1. Default with --service: %ProgramData%\\hvterm\\SERVICE-NAME.log")
      ->type_name("FILE");
  bool service = false;
  app.add_flag("--service", service,
               "Windows: run under the Service Control Manager (hvtermd --install-service sets that up)");
  bool install = false, uninstall = false;
  std::string service_name = "hvtermd";
  auto* install_option =
      app.add_flag("--install-service", install,
                   "Windows, as administrator: create the service that runs this hvtermd with the other options given "
                   "here, starting with the machine and restarted after a failure");
  app.add_flag("--uninstall-service", uninstall, "Windows, as administrator: stop and delete the service")
      ->excludes(install_option);
  app.add_option("--service-name", service_name, "The service's name for --install-service, --uninstall-service")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "hvtermd: " << e.what() << "\nRun 'hvtermd --help' for usage.\n";
    return 2;
  }

  log::Level log_level;
  if (!log::parse_level(level, log_level)) return fail_usage("--log-level must be debug, info, warn, error or quiet");
  log::set_level(log_level);

  AgentOptions options;
  std::string error;
  for (const auto& text : listen) {
    auto address = parse_listen_address(text, port, error);
    if (!address) return fail_usage(error);
    options.listen.push_back(*address);
  }
  options.allowed_cids = parse_cids(allow_cid, options.allow_any_cid, error);
  if (!error.empty()) return fail_usage(error);
  auto linger_ms = parse_duration_ms(linger);
  if (!linger_ms || *linger_ms == 0)
    return fail_usage("--linger: '" + linger + "' is not a duration such as 30m or 24h");
  options.linger_ms = *linger_ms;
  auto replay_bytes = parse_size_bytes(replay);
  if (!replay_bytes || *replay_bytes < 4096 || *replay_bytes > (1ull << 30))
    return fail_usage("--replay-buffer: '" + replay + "' must be a size between 4K and 1G");
  options.replay_buffer = static_cast<size_t>(*replay_bytes);
  options.scrollback_lines = scrollback;
  if (max_sessions == 0) return fail_usage("--max-sessions must be at least 1");
  options.max_sessions = max_sessions;
  auto reach = parse_forward_reach(forward);
  if (!reach) return fail_usage("--forward must be none, local or any, not '" + forward + "'");
  options.forward.reach = *reach;
  for (const auto& text : forward_allow)
    if (!parse_forward_allow(text, options.forward, error)) return fail_usage(error);
  if (max_forwards == 0) return fail_usage("--max-forwards must be at least 1 (--forward none turns connections off)");
  options.max_forwards = max_forwards;
  size_t descriptor_limit = platform::descriptor_limit();
  if (max_connections_option->count() > 0 && max_connections == 0)
    return fail_usage("--max-connections must be at least 1");
  options.max_connections = max_connections != 0 ? max_connections : default_max_connections(descriptor_limit);
  if (!token_file.empty() && !read_token_file(token_file, options.token, error)) return fail_usage(error);
  if (uninstall) return uninstall_service(service_name);
  if (install) {
    if (service)
      return fail_usage("--install-service creates a service that runs with --service; give only the former");
    return install_service(service_name, argc, argv);
  }
  if (auto user = platform::current_user()) options.owner_uid = user->uid;
  options.inherited_fds = platform::inherited_listeners();
  if (options.listen.empty() && options.inherited_fds.empty()) {
    if (!platform::hypervisor_sockets_available())
      return fail_usage("no --listen address given and this machine has no hypervisor sockets "
                        "(vsock or Hyper-V sockets); use --listen unix:PATH");
    options.listen.push_back(platform::default_listen_address(port));
  }

  // A Windows service's stderr goes nowhere: it logs to a file unless told where.
  std::string log_path = log_file;
  if (log_path.empty() && service) {
    std::string ignored;  // no file: the service still serves, its records are lost as before
    log_path = platform::service_log_path(service_name, ignored).value_or("");
  }
  if (!log_path.empty() && !log_to_file(log_path, kLogFileMaxBytes, error) && !log_file.empty())
    return fail_usage(error);
  // Only once the records have their destination: with --log-file, stderr stays quiet.
  log::debug("serving at most " + std::to_string(options.max_connections) + " connections at once" +
             (descriptor_limit != 0 ? " (open-file limit " + std::to_string(descriptor_limit) + ")" : std::string()));

  if (!service) return serve(options, nullptr);
  // Under the Windows Service Control Manager: its stop request arrives on another thread.
  RemoteStop remote;
  int rc = platform::run_service(
      service_name, [&] { return serve(options, &remote); }, [&] { remote.request(); }, error);
  if (rc < 0) return fail_usage(error);
  return rc;
}

namespace {

int serve(const AgentOptions& options, RemoteStop* remote) {
  std::string error;
  uv_loop_t* loop = uv_default_loop();
  Agent agent(loop, options);

  // SIGTERM/SIGINT: hang up the sessions and exit once they are gone. SIGHUP is ignored: the
  // agent has no terminal, and a stray hang-up must not take every session down with it.
  struct StopSignals {
    uv_signal_t handles[2];
    Agent* agent;
    RemoteStop* remote;
    void close_all() {
      for (auto& h : handles)
        if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(&h))) uv_close(reinterpret_cast<uv_handle_t*>(&h), nullptr);
      if (remote != nullptr && !uv_is_closing(reinterpret_cast<uv_handle_t*>(&remote->async))) {
        remote->ready = false;
        uv_close(reinterpret_cast<uv_handle_t*>(&remote->async), nullptr);
      }
    }
  } stop{{}, &agent, remote};
  if (remote != nullptr) {
    uv_async_init(loop, &remote->async, [](uv_async_t* a) {
      auto* self = static_cast<StopSignals*>(a->data);
      log::info("stop requested by the service manager, shutting down");
      self->agent->shut_down();
      self->close_all();
    });
    remote->async.data = &stop;
    remote->ready = true;
  }
  int stop_numbers[2] = {SIGTERM, SIGINT};
  for (int i = 0; i < 2; ++i) {
    uv_signal_init(loop, &stop.handles[i]);
    stop.handles[i].data = &stop;
    uv_signal_start(
        &stop.handles[i],
        [](uv_signal_t* s, int signum) {
          auto* self = static_cast<StopSignals*>(s->data);
          log::info(std::string("received ") + (signum == SIGTERM ? "SIGTERM" : "SIGINT") + ", shutting down");
          self->agent->shut_down();
          self->close_all();
        },
        stop_numbers[i]);
  }
  uv_signal_t hup;  // (libuv defines SIGHUP on Windows too)
  uv_signal_init(loop, &hup);
  uv_signal_start(
      &hup, [](uv_signal_t*, int) {}, SIGHUP);
  uv_unref(reinterpret_cast<uv_handle_t*>(&hup));
  // Listening only once the stop signals are handled: a SIGTERM sent as soon as the socket
  // appears is a clean shutdown, not a death by signal.
  int rc = 0;
  if (agent.start(error)) {
    uv_run(loop, UV_RUN_DEFAULT);
  } else {
    log::error(error);
    agent.shut_down();  // the listeners that did start
    rc = 1;
  }
  stop.close_all();
  uv_close(reinterpret_cast<uv_handle_t*>(&hup), nullptr);
  uv_run(loop, UV_RUN_DEFAULT);
  return rc;
}

}  // namespace
