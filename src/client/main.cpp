// hvterm: the client. Parses the command line and hands off to the session bridge or a command.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>
#include <tuple>

#include "client/commands.h"
#include "client/config_command.h"
#include "client/cp_command.h"
#include "client/env_forward.h"
#include "client/escape_parser.h"
#include "client/forward_command.h"
#include "client/forward_spec.h"
#include "client/forwarder.h"
#include "client/request.h"
#include "client/session_client.h"
#include "common/log.h"
#include "common/token_file.h"
#include "common/units.h"
#include "platform/process.h"
#include "platform/system.h"
#include "platform/terminal.h"
#include "protocol/destination_text.h"
#include "protocol/validate.h"

using namespace hvterm;

namespace {

constexpr const char* kTargetsHelp =
    "TARGET is one of:\n"
    "  local                 a per-user agent on this machine, started on first use\n"
    "  unix:PATH             an agent listening on a Unix socket (hvtermd --listen unix:PATH)\n"
    "  hybrid:PATH:PORT      Firecracker / Cloud Hypervisor vsock: the VMM's Unix socket and guest port\n"
    "  vsock:CID[:PORT]      AF_VSOCK (Linux/KVM host, or CID 2 from a guest to its host)\n"
    "  hv:VMID[:SERVICE]     AF_HYPERV on a Windows host; SERVICE is a GUID or a port number\n"
    "  NAME | VMID | CID     a name from the config file (hvterm config), a Hyper-V VM name or ID (Windows),\n"
    "                        a libvirt domain name (Linux), or a vsock CID\n"
    "The agent port defaults to 18518 (--port).";

constexpr const char* kExitHelp =
    "Exit status: the remote command's own; 128+N if it died of signal N; 126 if it could not be\n"
    "executed; 127 if it was not found; 255 if hvterm failed (connect, protocol, session lost, or its\n"
    "stdout/stderr could not be written: a full disk; a reader that went away is SIGPIPE for the\n"
    "remote program, as in a local pipeline); 2 for usage errors.";

// `hvterm` alone: what there is to do, in the space of a screen.
constexpr const char* kShortUsage =
    "usage: hvterm COMMAND [OPTIONS] TARGET ...\n"
    "  hvterm shell  TARGET [-- COMMAND...]      interactive session on a PTY (default: the login shell)\n"
    "  hvterm exec   TARGET -- COMMAND [ARGS...] run a command: stdio byte-exact, its exit code returned\n"
    "  hvterm nc     TARGET [HOST:]PORT          stdin/stdout to a port in the guest (ssh ProxyCommand)\n"
    "  hvterm forward TARGET -L PORT:[HOST:]PORT local ports to ports in the guest (like ssh -L)\n"
    "  hvterm cp [-r] [-p] SRC... TARGET:DEST     files and trees into the guest (TARGET:SRC... DEST: out)\n"
    "  hvterm attach TARGET [SESSION]            reattach to a detached session\n"
    "  hvterm ls     TARGET                      list the agent's sessions\n"
    "  hvterm kill   TARGET SESSION              signal a session's program, or close the session\n"
    "  hvterm ping   TARGET                      agent version and round-trip time\n"
    "  hvterm vms                                VMs this host can reach\n"
    "  hvterm config [NAME]                      named targets from the config file, and what applies\n"
    "  hvterm service-id PORT | port GUID        vsock port <-> Hyper-V service GUID\n"
    "  hvterm register                           register the service on a Hyper-V host\n"
    "TARGET: local, unix:PATH, hybrid:PATH:PORT, vsock:CID[:PORT], hv:VMID[:SERVICE], a VM name,\n"
    "        or a name from ~/.config/hvterm/config.\n"
    "Try: hvterm shell local      More: hvterm --help, hvterm COMMAND --help\n";

// Each command's --help ends with a few lines a person can copy.
std::string examples(std::initializer_list<const char*> lines) {
  std::string text = "Examples:";
  for (const char* line : lines) text += std::string("\n  ") + line;
  return text;
}

struct Cli {
  std::string target;
  uint32_t port = wire::kDefaultPort;
  std::string escape = "~";
  std::string user, workdir, token_file, log_file, record_file;
  std::vector<std::string> env;
  std::string connect_timeout = "10s", keepalive = "5s", dead_timeout = "60s", reconnect_timeout = "10m";
  bool no_reconnect = false, quiet = false, tty = false, json = false;
  std::string session_name;                          // shell/exec -n
  bool no_env_forward = false;                       // shell/exec
  bool kill_foreground = false, kill_close = false;  // kill
  bool take = false, read_only = false;              // attach
  int verbosity = 0;                                 // -v, -vv
  std::vector<std::string> command;
  std::string session, signal = "TERM", service, guid, name = "hvterm";
  std::string destination;                                                                              // nc
  std::vector<std::string> copy_operands;                                                               // cp
  std::string copy_target;                                                                              // cp --target
  bool recursive = false, preserve = false, no_clobber = false, progress = false, resume_copy = false;  // cp
  std::vector<std::string> local_forwards, remote_forwards;  // forward -L, -R
  std::string wait = "0";
  std::string config_file;  // -F
  bool names_only = false;  // config --names
};

void add_target(CLI::App* sub, Cli& cli) {
  sub->add_option("target", cli.target, "Where the agent is (see TARGET below)")->required();
}

void add_config_option(CLI::App* sub, Cli& cli) {
  sub->add_option("-F,--config", cli.config_file,
                  "Read named targets from this file only (not ~/.config/hvterm/config and the system's)")
      ->type_name("FILE");
}

// cp takes -p for --preserve, as cp and scp do: its port is --port alone.
void add_connection_options(CLI::App* sub, Cli& cli, bool short_port = true) {
  add_config_option(sub, cli);
  sub->add_option(short_port ? "-p,--port" : "--port", cli.port, "Agent port (vsock port / Hyper-V service)")
      ->capture_default_str();
  sub->add_option("--connect-timeout", cli.connect_timeout, "Give up connecting after this long")
      ->capture_default_str();
  sub->add_option("--token-file", cli.token_file, "Present the shared token stored in this file");
  sub->add_flag("-v,--verbose", cli.verbosity,
                "Say on stderr what hvterm does, with times: target, connection, handshake, session, reconnects "
                "(-vv: every frame too)");
  sub->add_flag("-q,--quiet", cli.quiet, "No status notices (reconnecting, detached)");
}

// How a session outlives a broken connection: every command that bridges a session takes these.
void add_resume_options(CLI::App* sub, Cli& cli, bool short_port = true) {
  add_connection_options(sub, cli, short_port);
  sub->add_flag("--no-reconnect", cli.no_reconnect,
                "Exit with 255 when the connection drops instead of reconnecting (the session keeps running)");
  sub->add_option("--keepalive", cli.keepalive, "Ping the agent after this much silence")->capture_default_str();
  sub->add_option("--dead-timeout", cli.dead_timeout, "Reconnect when the agent stays silent this long (a paused VM)")
      ->capture_default_str();
  sub->add_option(
         "--reconnect-timeout", cli.reconnect_timeout,
         "Stop trying to reconnect after this long (after 10s when nothing listens on the agent's Unix socket)")
      ->capture_default_str();
}

// -L and -R (forward, and shell/exec for the life of the session), repeatable; parse_forwards reads them.
void add_forward_options(CLI::App* sub, Cli& cli, const char* local_help, const char* remote_help) {
  for (auto [names, values, help] : {std::tuple{"-L,--local", &cli.local_forwards, local_help},
                                     std::tuple{"-R,--remote", &cli.remote_forwards, remote_help}})
    sub->add_option(names, *values, help)
        ->type_name("[BIND:]PORT:DESTINATION")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

void add_session_options(CLI::App* sub, Cli& cli, bool opens) {
  add_resume_options(sub, cli);
  sub->add_option("-e,--escape", cli.escape, "Escape character typed after Enter, or 'none'")->capture_default_str();
  sub->add_option("--log", cli.log_file, "Append a transcript of everything the session prints to this file");
  sub->add_option(
      "--record", cli.record_file,
      "Record the session's output and resizes to this file, as asciicast v2 for asciinema (exec: with -t)");
  if (opens) {
    add_forward_options(sub, cli,
                        "Forward [BIND:]PORT here to DESTINATION in the guest while the session lasts (as hvterm "
                        "forward -L)",
                        "Forward [BIND:]PORT in the guest to DESTINATION here while the session lasts (as hvterm "
                        "forward -R)");
    sub->add_option("-u,--user", cli.user, "Run as this user in the guest (the agent must run as root)");
    sub->add_option("-w,--workdir", cli.workdir, "Working directory in the guest (default: the user's home)");
    sub->add_option("--env", cli.env,
                    "Set KEY=VALUE in the remote environment (repeatable; wins over forwarded variables)")
        ->type_name("K=V")
        ->expected(1)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    sub->add_flag("--no-env-forward", cli.no_env_forward,
                  "Do not send this terminal's LANG, LC_* and COLORTERM to the session (TERM is always sent)");
    sub->add_option("-n,--name", cli.session_name,
                    "Name the session, for attach and kill (unique in the agent; 1-32 letters, digits, '.', '_', "
                    "'-')")
        ->type_name("NAME");
  }
}

bool parse_forwards(const Cli& cli, std::vector<LocalForward>& local, std::vector<RemoteForward>& remote,
                    std::string& error) {
  for (const auto& text : cli.local_forwards) {
    auto parsed = parse_local_forward(text, error);
    if (!parsed) {
      error = "-L: " + error;
      return false;
    }
    local.push_back(*parsed);
  }
  for (const auto& text : cli.remote_forwards) {
    auto parsed = parse_remote_forward(text, error);
    if (!parsed) {
      error = "-R: " + error;
      return false;
    }
    remote.push_back(*parsed);
  }
  return true;
}

// `hvterm exec vm grep -v x`: like ssh, everything from the word after TARGET on is the remote
// command, options included. Mark that point with "--" before CLI11 sees the words.
void insert_command_separator(std::vector<std::string>& words) {
  static const std::vector<std::string> takes_value = {"-p",
                                                       "--port",
                                                       "-e",
                                                       "--escape",
                                                       "-u",
                                                       "--user",
                                                       "-w",
                                                       "--workdir",
                                                       "-n",
                                                       "--name",
                                                       "--env",
                                                       "--connect-timeout",
                                                       "--keepalive",
                                                       "--dead-timeout",
                                                       "--reconnect-timeout",
                                                       "--token-file",
                                                       "--log",
                                                       "--record",
                                                       "-F",
                                                       "--config",
                                                       "-L",
                                                       "--local",
                                                       "-R",
                                                       "--remote"};
  if (words.empty() || (words[0] != "shell" && words[0] != "exec")) return;
  int positionals = 0;
  for (size_t i = 1; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w == "--") return;
    if (w.size() > 1 && w[0] == '-') {
      if (w.find('=') == std::string::npos && std::find(takes_value.begin(), takes_value.end(), w) != takes_value.end())
        ++i;
      continue;
    }
    if (++positionals == 2) {  // TARGET, then the command
      words.insert(words.begin() + static_cast<std::ptrdiff_t>(i), "--");
      return;
    }
  }
}

// What a config file says for the options the command line left out (the command line wins).
void apply_config(const ResolvedConfig& resolved, CLI::App* sub, Cli& cli) {
  auto unset = [sub](const std::string& option) {
    const CLI::Option* o = sub->get_option_no_throw(option);
    return o != nullptr && o->count() == 0;
  };
  auto value = [&](const std::string& key) -> const ConfigValue* {
    auto it = resolved.values.find(key);
    return it == resolved.values.end() ? nullptr : &it->second;
  };
  if (const ConfigValue* target = value("target")) {
    log::info("config: " + cli.target + " is " + target->text + " (" + target->origin + ")");
    cli.target = target->text;
  }
  const std::pair<const char*, std::string*> texts[] = {{"user", &cli.user},
                                                        {"workdir", &cli.workdir},
                                                        {"escape", &cli.escape},
                                                        {"token-file", &cli.token_file},
                                                        {"connect-timeout", &cli.connect_timeout},
                                                        {"keepalive", &cli.keepalive},
                                                        {"dead-timeout", &cli.dead_timeout},
                                                        {"reconnect-timeout", &cli.reconnect_timeout}};
  for (const auto& [key, field] : texts)
    if (const ConfigValue* v = value(key); v != nullptr && unset(std::string("--") + key)) {
      log::info("config: " + std::string(key) + " " + v->text + " (" + v->origin + ")");
      *field = v->text;
    }
  if (const ConfigValue* v = value("port"); v != nullptr && unset("--port"))
    cli.port = static_cast<uint32_t>(std::stoul(v->text));
  if (const ConfigValue* v = value("reconnect"); v != nullptr && unset("--no-reconnect"))
    cli.no_reconnect = v->text == "false";
  if (const ConfigValue* v = value("quiet"); v != nullptr && unset("--quiet")) cli.quiet = v->text == "true";
  if (const ConfigValue* v = value("env-forward"); v != nullptr && unset("--no-env-forward"))
    cli.no_env_forward = v->text == "false";
  // Forwards as a whole: the command line's -L (or -R) replace the config's list, as for any option.
  const std::pair<const char*, std::vector<std::string>*> lists[] = {{"local", &cli.local_forwards},
                                                                     {"remote", &cli.remote_forwards}};
  for (const auto& [option, field] : lists) {
    const ConfigValue* v = value(std::string(option) + "-forward");
    if (v == nullptr || !unset(std::string("--") + option)) continue;
    log::info("config: " + std::string(option) + "-forward (" + v->origin + ")");
    for (auto& item : config_list_items(*v)) field->push_back(std::move(item));
  }
  if (sub->get_option_no_throw("--env") == nullptr) return;
  // The config's variables first, leaving out those the command line sets: its --env wins.
  std::vector<std::string> env;
  for (const auto& kv : resolved.env) {
    std::string name = kv.text.substr(0, kv.text.find('=') + 1);
    bool overridden = std::any_of(cli.env.begin(), cli.env.end(),
                                  [&](const std::string& e) { return e.rfind(name, 0) == 0; });
    if (!overridden) env.push_back(kv.text);
  }
  env.insert(env.end(), cli.env.begin(), cli.env.end());
  cli.env = std::move(env);
}

// The values `hvterm config NAME` shows for keys no file sets: the options' own defaults.
std::vector<BuiltinValue> builtin_values(CLI::App* exec) {
  std::vector<BuiltinValue> out;
  for (const auto& key : config_keys()) {
    if (key == "reconnect" || key == "env-forward") {
      out.push_back({key, "true"});
    } else if (key == "quiet") {
      out.push_back({key, "false"});
    } else if (const CLI::Option* o = exec->get_option_no_throw("--" + key);
               o != nullptr && !o->get_default_str().empty()) {
      out.push_back({key, o->get_default_str()});
    }
  }
  return out;
}

int usage_error(const std::string& message) {
  std::cerr << "hvterm: " << message << "\n";
  return 2;
}

std::optional<uint64_t> duration_option(const std::string& name, const std::string& value, std::string& error) {
  auto ms = parse_duration_ms(value);
  if (!ms || *ms == 0) {
    error = "--" + name + ": '" + value + "' is not a duration such as 10s or 5m";
    return std::nullopt;
  }
  return ms;
}

int run(int argc, char** argv) {
  log::set_program("hvterm");
  platform::init_process();
  CLI::App app{"hvterm - a terminal into a virtual machine over hypervisor sockets, no network needed.\n", "hvterm"};
  app.set_version_flag("--version", std::string("hvterm ") + HVTERM_VERSION);
  app.footer(std::string(kTargetsHelp) + "\n\n" + kExitHelp + "\n\n" +
             examples({"hvterm shell local", "hvterm exec vsock:3 -- uname -a", "hvterm attach vsock:3"}));
  app.require_subcommand(1);
  Cli cli;

  auto* shell = app.add_subcommand("shell", "Interactive session on a PTY (default: the login shell)");
  add_target(shell, cli);
  shell->add_option("command", cli.command, "Command to run instead of the login shell (after --)");
  shell->prefix_command();
  add_session_options(shell, cli, true);
  shell->footer("Escapes (after Enter): ~. detach  ~# status  ~^Z suspend  ~? help  ~~ literal ~\n"
                "  (-e '%' picks another character, -e ^] a control character, -e none turns them off)\n\n"
                "The session's program finds its id in HVTERM_SESSION and how hvterm reached the agent in\n"
                "HVTERM_CLIENT (unix, vsock, hyperv or pipe); LANG, LC_* and COLORTERM come from this terminal\n"
                "unless --no-env-forward (--env wins over them).\n\n" +
                std::string(kTargetsHelp) + "\n\n" +
                examples({"hvterm shell local                    a login shell from the agent on this machine",
                          "hvterm shell vsock:3 -- top           one program instead of the login shell",
                          "hvterm shell web1 -n build -u alice   named build (hvterm attach web1 build), as alice"}));

  auto* exec = app.add_subcommand("exec", "Run a command; stdin/stdout/stderr piped byte-exact, exit code returned");
  add_target(exec, cli);
  exec->add_option("command", cli.command, "The command and its arguments (after --)");
  exec->prefix_command();
  exec->add_flag("-t,--tty", cli.tty, "Run the command on a PTY (like ssh -t)");
  add_session_options(exec, cli, true);
  exec->footer(std::string(kTargetsHelp) + "\n\n" + kExitHelp + "\n\n" +
               examples({"hvterm exec vsock:3 -- uname -a",
                         "tar c ./site | hvterm exec vsock:3 -- tar x -C /srv    stdin's end ends tar's input",
                         "hvterm exec -t -n top vsock:3 -- htop                  a full-screen program needs -t"}));

  auto* nc = app.add_subcommand("nc",
                                "Connect stdin/stdout to a port or socket inside the guest (for ssh's ProxyCommand)");
  add_target(nc, cli);
  nc->add_option("destination", cli.destination,
                 "[HOST:]PORT in the guest (HOST defaults to localhost; [::1]:PORT for IPv6), unix:PATH, or "
                 "pipe:NAME on a Windows guest")
      ->required();
  add_resume_options(nc, cli);
  nc->footer(
      "The connection is the agent's, inside the guest: it survives a cut, a VM pause or a restore of the\n"
      "hvterm connection, and no byte is lost or repeated. Exit status: 0 when both directions ended\n"
      "cleanly; 255 with one line when the connection failed (refused, reset, unreachable, timed out,\n"
      "refused by the agent's --forward policy) or hvterm did; 128+N when a signal N ended it.\n\n" +
      std::string(kTargetsHelp) + "\n\n" +
      examples({"hvterm nc vsock:3 22                          the guest's sshd on stdin/stdout",
                "ssh -o ProxyCommand='hvterm nc %h 22' vm1     ssh (scp, rsync, sftp) into vm1 without a network",
                "hvterm nc local unix:/run/app.sock < req     a Unix socket in the guest"}));

  auto* cp = app.add_subcommand("cp", "Copy files and directories into or out of the guest (the agent copies itself)");
  cp->add_option("paths", cli.copy_operands, "SRC... TARGET:DEST (into the guest) or TARGET:SRC... DEST (out of it)")
      ->required();
  cp->add_option("--target", cli.copy_target,
                 "The guest's target, for any TARGET form; the guest's paths are then written :PATH");
  cp->add_flag("-r,--recursive", cli.recursive, "Copy directories and everything in them");
  cp->add_flag("-p,--preserve", cli.preserve, "Keep mode and modification time (and owner when root)");
  cp->add_flag("--no-clobber", cli.no_clobber, "Do not replace existing files (each one is an error)");
  cp->add_flag("--progress", cli.progress, "Show progress on stderr even when it is not a terminal");
  cp->add_flag("--resume", cli.resume_copy,
               "Continue files an interrupted copy left partly written, where their bytes still match");
  add_resume_options(cp, cli, false);
  cp->footer(
      "The agent reads or writes the files itself (no tar or cat in the guest). Each file goes to a\n"
      "temporary name in its directory and is renamed into place only when its size and checksum match,\n"
      "so a failed or cut copy leaves nothing under a final name. The guest's side is TARGET:PATH (a name,\n"
      "local, a CID, vsock:CID[:PORT]:PATH, hv:VMID[:SERVICE]:PATH), or --target TARGET with :PATH (needed\n"
      "for unix: and hybrid: targets); relative guest paths start in the agent user's home. '-' is\n"
      "stdin or stdout (one file). Exit status: 0 when everything was copied; 1 when a file could not be\n"
      "(one line each, naming it; the rest is still copied); 255 when hvterm failed; 2 for usage errors.\n\n"
      "A cut connection or a paused VM only delays a copy. If hvterm itself dies or gives up, a file cut\n"
      "short (over 64 KiB) stays beside its destination as .NAME.hvterm-partial: the same command with\n"
      "--resume continues it where its bytes still match the source (checked by checksum) instead of\n"
      "starting over. Ctrl-C removes it.\n\n" +
      std::string(kTargetsHelp) + "\n\n" +
      examples(
          {"hvterm cp build/app.tar vm1:/tmp/                        a file into /tmp in the guest",
           "hvterm cp -r -p vsock:3:/var/log/app ./logs              a tree out of the guest, modes and times kept",
           "hvterm cp --resume disk.img vm1:/srv/                    again after hvterm died: only the rest goes"}));

  auto* forward =
      app.add_subcommand("forward",
                         "Forward local ports into the guest (-L) and guest ports out to this machine (-R), like ssh");
  add_target(forward, cli);
  add_forward_options(forward, cli,
                      "Listen on [BIND:]PORT here and carry each connection to DESTINATION in the guest "
                      "([HOST:]PORT, [::1]:PORT, unix:PATH or pipe:NAME); repeatable",
                      "Have the agent listen on [BIND:]PORT in the guest (BIND: 127.0.0.1 unless given) and carry "
                      "each connection to DESTINATION here ([HOST:]PORT, [::1]:PORT, unix:PATH or pipe:NAME); "
                      "repeatable");
  add_resume_options(forward, cli);
  forward->footer(
      "BIND defaults to 127.0.0.1 (this machine only); * listens on every interface, [::1] on IPv6;\n"
      "PORT 0 picks a free port, and hvterm says which. Each connection is a session of its own in the\n"
      "agent: it survives a cut, a VM pause or a restore of the hvterm connection with no byte lost,\n"
      "and the agent's --forward policy and --max-forwards apply to it. hvterm forward runs until\n"
      "Ctrl-C (or SIGTERM), which stops listening and closes the open connections in the guest; a\n"
      "second one exits without waiting. Exit status: 128+N for signal N; 255 with one line when the\n"
      "agent cannot be reached or cannot open connections, or a port cannot be listened on.\n\n" +
      std::string(kTargetsHelp) + "\n\n" +
      examples({"hvterm forward vsock:3 -L 8080:80              the guest's web server on localhost:8080",
                "hvterm forward vm1 -L 5432:db:5432 -L 2222:22  two ports; db is resolved in the guest",
                "hvterm forward vm1 -R 3128:proxy.corp:3128     the guest reaches a proxy through this machine"}));

  auto* attach =
      app.add_subcommand("attach",
                         "Reattach to a detached session (the most recent if none given), or join one that is shown");
  add_target(attach, cli);
  attach->footer("SESSION is a session's name, or its id or a prefix of the id that no other session's id starts\n"
                 "with; a name wins over an id that starts with the same characters.\n\n"
                 "A terminal session (shell, exec -t) kept running while detached: attach shows the lines that\n"
                 "scrolled off since you left (as many as the agent keeps, hvtermd --scrollback), then its screen\n"
                 "as it is now. A pipes session (exec) shows every byte the last client had not shown.\n\n"
                 "A terminal session that another client shows is joined, as tmux does: both show it and both\n"
                 "type into it, and it takes the size of the smallest terminal (each is told). --read-only\n"
                 "watches without typing; --take takes the session over, and every other client leaves (exit\n"
                 "255). ~. leaves. hvterm ls counts the clients. A pipes session has one client: --take.\n\n" +
                 std::string(kTargetsHelp) + "\n\n" +
                 examples({"hvterm attach local              the most recently detached session",
                           "hvterm attach vsock:3 1f2e       the session whose id starts with 1f2e (see hvterm ls)",
                           "hvterm attach vm1 build --read-only   the session named build, watched beside others"}));
  attach->add_option("session", cli.session, "Session name, or id or a unique prefix of it (see 'hvterm ls')");
  attach->add_flag("--read-only", cli.read_only,
                   "Show the session without typing into it (beside other clients, or alone)");
  attach->add_flag("--take", cli.take, "Take the session over: every other client showing it leaves");
  add_session_options(attach, cli, false);

  auto* ls = app.add_subcommand("ls", "List the agent's sessions");
  add_target(ls, cli);
  ls->footer(std::string(kTargetsHelp) + "\n\n" +
             examples({"hvterm ls local",
                       "hvterm ls vsock:3 --json          ids, states, commands and pids for a script"}));
  ls->add_flag("--json", cli.json, "Machine-readable output (commands whole; the table escapes and shortens them)");
  add_connection_options(ls, cli);

  auto* kill = app.add_subcommand("kill", "Signal a session's process (default TERM), or close the session");
  add_target(kill, cli);
  kill->footer("By default the signal goes to the session's own process, the PID 'hvterm ls' shows (the\n"
               "shell of 'hvterm shell'), not to what runs in it; --foreground sends it to the job in the\n"
               "terminal's foreground instead (a pipes session's process group), as Ctrl-C would. --close\n"
               "hangs the session up (SIGHUP to its process group, SIGKILL after 5 s) and discards it with its\n"
               "unread output, attached or not. SESSION is a name, or an id or a unique prefix of it.\n\n" +
               std::string(kTargetsHelp) + "\n\n" +
               examples({"hvterm kill local 1f2e -s KILL            KILL to the program of session 1f2e... (ls)",
                         "hvterm kill vsock:3 build --foreground -s INT   Ctrl-C to the job session build runs",
                         "hvterm kill vsock:3 build --close         hang it up and forget it"}));
  kill->add_option("session", cli.session, "Session name, or id or a unique prefix of it")->required();
  kill->add_option("-s,--signal", cli.signal, "Signal name or number")->capture_default_str();
  kill->add_flag("--foreground", cli.kill_foreground,
                 "Signal the terminal's foreground job (pipes: the process group) instead of the session's process");
  kill->add_flag("--close", cli.kill_close, "Hang the session up and discard it, with its unread output (no --signal)");
  add_connection_options(kill, cli);

  auto* ping = app.add_subcommand("ping", "Check that the agent answers; prints its version and round-trip time");
  add_target(ping, cli);
  ping->footer(std::string(kTargetsHelp) + "\n\n" +
               examples({"hvterm ping vsock:3", "hvterm ping vsock:3 --wait 60s    wait while the guest boots",
                         "hvterm ping -v local              what the connection and handshake cost"}));
  ping->add_option("--wait", cli.wait, "Keep trying for up to this long (e.g. 30s) while the agent starts");
  add_connection_options(ping, cli);

  auto* vms = app.add_subcommand("vms", "List the VMs this host can reach, with IDs (Linux: vsock CIDs) and state");
  vms->add_flag("--json", cli.json, "Machine-readable output");
  vms->footer("Windows: the Hyper-V VMs, by ID. Linux: the libvirt domains (LIBVIRT_DEFAULT_URI, else libvirt's\n"
              "default), by vsock CID ('-' until one is assigned). Either ID works as a TARGET.\n\n" +
              examples({"hvterm vms", "LIBVIRT_DEFAULT_URI=qemu:///system hvterm vms --json"}));

  auto* config = app.add_subcommand("config", "Show the named targets of the config file, or what applies to one");
  config->add_option("name", cli.target, "A name (or any TARGET): every setting that applies, and where from");
  config->add_flag("--names", cli.names_only, "Only the configured names, one per line");
  add_config_option(config, cli);
  config->footer("Names come from ~/.config/hvterm/config (or $XDG_CONFIG_HOME/hvterm/config), then the system's\n"
                 "file (/etc/hvterm/config for packages); see hvterm-config(5). The command line beats both.\n\n" +
                 examples({"hvterm config                      the names, their targets and which file says so",
                           "hvterm config web1                 what 'hvterm shell web1' would use, and from where",
                           "hvterm config -F ./vms.toml web1   the same from one file"}));

  auto* service_id = app.add_subcommand("service-id", "Print the Hyper-V service GUID of a vsock port");
  service_id->add_option("port", cli.service, "Port number")->required();
  auto* port_cmd = app.add_subcommand("port", "Print the vsock port of a Hyper-V service GUID");
  port_cmd->add_option("guid", cli.guid, "Service GUID")->required();
  service_id->footer(examples({"hvterm service-id 2761     prints 00000ac9-facb-11e6-bd58-64006a7986d3",
                               "hvterm service-id 18518    the agent's default port"}));
  port_cmd->footer(examples({"hvterm port 00000ac9-facb-11e6-bd58-64006a7986d3    prints 2761",
                             "hvterm port 00004856-facb-11e6-bd58-64006a7986d3    prints 18518"}));

  auto* reg = app.add_subcommand("register",
                                 "Register the hvterm service on a Hyper-V host (elsewhere: print the PowerShell)");
  reg->add_option("-p,--port", cli.port, "Agent port")->capture_default_str();
  reg->add_option("--name", cli.name, "Display name of the service")->capture_default_str();
  reg->footer("Run on the Hyper-V host as administrator. Elsewhere it prints the PowerShell to run there.\n\n" +
              examples({"hvterm register", "hvterm register --port 2222 --name \"hvterm (test agent)\""}));

  // Everything after the first "--" is the remote command, untouched by option parsing (CLI11
  // would otherwise go on parsing options such as "-c" after a repeated --env).
  if (argc < 2) {
    std::cerr << kShortUsage;
    return 2;
  }
  std::vector<std::string> words(argv + 1, argv + argc);
  insert_command_separator(words);
  std::vector<std::string> remote_command;
  bool has_separator = false;
  for (size_t i = 0; i < words.size(); ++i) {
    if (words[i] == "--") {
      remote_command.assign(words.begin() + static_cast<std::ptrdiff_t>(i) + 1, words.end());
      words.resize(i);
      has_separator = true;
      break;
    }
  }
  // CLI11 reads "--name=" as "--name" and takes the next word as its value (the target, say).
  for (const auto& word : words)
    if (word.size() > 3 && word.starts_with("--") && word.back() == '=')
      return usage_error(word.substr(0, word.size() - 1) + " needs a value after '='");
  if (!words.empty() && words[0][0] != '-' &&
      app.get_subcommands([&](CLI::App* sub) { return sub->get_name() == words[0]; }).empty())
    return usage_error("unknown command '" + words[0] +
                       "' (commands: shell, exec, nc, cp, forward, attach, ls, kill, ping, vms, "
                       "config, service-id, port, register; see 'hvterm --help')");
  std::reverse(words.begin(), words.end());  // CLI11 takes a vector in reverse order
  try {
    app.parse(words);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "hvterm: " << e.what() << "\nRun 'hvterm --help' (or 'hvterm COMMAND --help') for usage.\n";
    return 2;
  }

  for (auto* sub : {shell, exec}) {
    if (!*sub) continue;
    auto rest = sub->remaining();
    if (!rest.empty() && rest[0].size() > 1 && rest[0][0] == '-')
      return usage_error("unknown option '" + rest[0] + "' (see 'hvterm " + sub->get_name() + " --help')");
  }
  if (has_separator) {
    if (!(*shell || *exec)) return usage_error("'--' and a command go only with shell and exec");
    if (!cli.command.empty() || (*shell && !shell->remaining().empty()) || (*exec && !exec->remaining().empty()))
      return usage_error("give the command either before or after '--', not both");
    cli.command = remote_command;
  } else {
    // `hvterm exec vm ls -la`: like ssh, the words after the target are the command.
    for (auto* sub : {shell, exec})
      if (*sub) {
        auto rest = sub->remaining();
        cli.command.insert(cli.command.end(), rest.begin(), rest.end());
      }
  }
  if (*service_id) return command_service_id(cli.service);
  if (*port_cmd) return command_port(cli.guid);
  if (*reg) return command_register(cli.port, cli.name);
  if (*vms) return command_vms(cli.json);

  log::set_level(cli.verbosity >= 2 ? log::Level::Debug : cli.verbosity == 1 ? log::Level::Info : log::Level::Warn);
  if (cli.verbosity > 0) log::set_elapsed_clock(true);
  std::string error;
  ConfigFiles config_files;
  if (!load_config(cli.config_file, config_files, error)) return usage_error(error);
  if (*config) return command_config(config_files, cli.target, cli.names_only, builtin_values(exec));
  std::optional<CopyOperands> copy_operands;
  if (*cp) {
    copy_operands = parse_copy_operands(cli.copy_operands, cli.copy_target, error);
    if (!copy_operands) return usage_error("cp: " + error);
    cli.target = copy_operands->target;
  }
  for (auto* sub : {shell, exec, nc, cp, forward, attach, ls, kill, ping})
    if (*sub) apply_config(config_files.resolve(cli.target), sub, cli);
  auto target = parse_target(cli.target, cli.port, error);
  if (!target) return usage_error(error);
  CommonOptions common;
  common.target = *target;
  common.connect.port = cli.port;
  common.connect.trace_frames = cli.verbosity >= 2;
  auto timeout = duration_option("connect-timeout", cli.connect_timeout, error);
  if (!timeout) return usage_error(error);
  common.connect.timeout_ms = *timeout;
  if (!cli.token_file.empty() && !read_token_file(cli.token_file, common.token, error)) return usage_error(error);

  if (*ls) return command_ls(common, cli.json);
  if (*kill && cli.kill_close && (cli.kill_foreground || kill->count("--signal") > 0))
    return usage_error("kill --close hangs the whole session up: it takes neither --signal nor --foreground");
  if (*kill)
    return command_kill(common, cli.session, cli.signal,
                        cli.kill_close        ? wire::KillRecipient::Close
                        : cli.kill_foreground ? wire::KillRecipient::Foreground
                                              : wire::KillRecipient::Process);
  if (*ping) {
    auto wait = parse_duration_ms(cli.wait);
    if (!wait) return usage_error("--wait: '" + cli.wait + "' is not a duration such as 30s");
    return command_ping(common, static_cast<double>(*wait) / 1000.0);
  }

  ClientOptions options;
  options.target = common.target;
  options.connect = common.connect;
  options.token = common.token;
  options.reconnect = !cli.no_reconnect;
  options.quiet = cli.quiet;
  auto escape = parse_escape_char(cli.escape);
  if (!escape) return usage_error("--escape takes one character, ^X for a control character, or 'none'");
  options.escape = *escape;
  auto keepalive = duration_option("keepalive", cli.keepalive, error);
  auto dead = duration_option("dead-timeout", cli.dead_timeout, error);
  auto reconnect = duration_option("reconnect-timeout", cli.reconnect_timeout, error);
  if (!keepalive || !dead || !reconnect) return usage_error(error);
  options.keepalive_ms = *keepalive;
  options.dead_ms = *dead;
  options.notice_ms = std::max<uint64_t>(*keepalive * 2, std::min<uint64_t>(*dead / 2, 15000));
  options.reconnect_timeout_ms = *reconnect;

  if (*cp) {
    CopyOptions copy;
    copy.recursive = cli.recursive;
    copy.preserve = cli.preserve;
    copy.no_clobber = cli.no_clobber;
    copy.resume = cli.resume_copy;
    copy.progress = !cli.quiet && (cli.progress || platform::is_terminal(2));
    return command_cp(options, *copy_operands, copy);
  }
  if (*forward) {
    std::vector<LocalForward> local;
    std::vector<RemoteForward> remote;
    if (!parse_forwards(cli, local, remote, error)) return usage_error(error);
    if (local.empty() && remote.empty())
      return usage_error("forward needs at least one -L or -R (see 'hvterm forward --help')");
    return command_forward(options, std::move(local), std::move(remote));
  }
  if (*attach) {
    if (cli.take && cli.read_only)
      return usage_error("attach takes --read-only (watch beside the others) or --take (make them leave), not both");
    options.attach = true;
    options.take = cli.take;
    options.read_only = cli.read_only;
  } else if (*nc) {
    options.escape = 0;  // a byte pipe: nothing in it is for hvterm
    options.open.mode = wire::SessionMode::Connection;
    auto destination = wire::parse_destination(cli.destination, error);
    if (!destination) return usage_error("nc: " + error);
    options.open.destination = *destination;
  } else {
    bool interactive = *shell || cli.tty;
    if (*shell && !platform::is_terminal(0))
      return usage_error("stdin is not a terminal; 'hvterm shell' is interactive. For scripts use "
                         "'hvterm exec TARGET -- COMMAND' (add -t to force a PTY)");
    options.open.mode = interactive ? wire::SessionMode::Pty : wire::SessionMode::Pipes;
    options.open.argv = cli.command;
    if (*exec && cli.command.empty())
      return usage_error("exec needs a command: hvterm exec TARGET -- COMMAND [ARGS...]");
    for (const auto& kv : cli.env) {
      if (kv.find('=') == std::string::npos || kv[0] == '=')
        return usage_error("--env takes KEY=VALUE, got '" + kv + "'");
    }
    // Forwarded first, so that the config's and the command line's --env, later, win.
    if (!cli.no_env_forward) options.open.env = forwarded_environment(local_environment());
    options.open.env.insert(options.open.env.end(), cli.env.begin(), cli.env.end());
    if ((*shell ? shell : exec)->count("--name") > 0) {
      if (auto problem = wire::session_name_problem(cli.session_name); !problem.empty())
        return usage_error("--name: " + problem);
      options.open.name = cli.session_name;
    }
    options.open.cwd = cli.workdir;
    options.open.user = cli.user;
    if (interactive) {
      const char* term = std::getenv("TERM");
      options.open.term = term != nullptr ? term : "xterm-256color";
    }
    size_t request_size = wire::encode(options.open).size();
    if (request_size > wire::kMaxPayload)
      return usage_error("the command line and environment are too large (" + std::to_string(request_size) +
                         " bytes; the limit is " + std::to_string(wire::kMaxPayload) + ")");
  }

  if (!cli.record_file.empty() && *exec && !cli.tty)
    return usage_error("--record records a terminal: it goes with shell, exec -t or attach");
  if (!cli.log_file.empty()) {
    int fd = platform::open_append_file(cli.log_file, "--log", false, true, error);
    if (fd < 0) return usage_error(error);
    options.transcript_fd = fd;
    options.transcript_path = cli.log_file;
  }
  if (!cli.record_file.empty()) {  // a recording starts with its header: a file is emptied first
    int fd = platform::open_append_file(cli.record_file, "--record", true, true, error);
    if (fd < 0) return usage_error(error);
    options.recording_fd = fd;
    options.recording_path = cli.record_file;
  }
  if (*attach && !cli.session.empty()) {  // after the files: a bad path is said before connecting
    auto lookup = find_session(uv_default_loop(), common.target, common.connect, common.token, cli.session);
    if (!lookup.ok) {
      std::cerr << "hvterm: " << lookup.error << "\n";
      return 255;
    }
    options.attach_id = lookup.entry.id;
    options.shared = lookup.entry.state == wire::SessionState::Attached;
  }
  // A pipe or terminal becomes a libuv stream, which closes its descriptor; a file stays ours to close.
  auto ours_to_close = [](int fd) { return fd >= 0 && uv_guess_handle(fd) == UV_FILE; };
  bool close_transcript = ours_to_close(options.transcript_fd), close_recording = ours_to_close(options.recording_fd);
  std::vector<LocalForward> local_forwards;
  std::vector<RemoteForward> remote_forwards;
  if (!parse_forwards(cli, local_forwards, remote_forwards, error)) return usage_error(error);
  int status;
  {
    SessionClient client(uv_default_loop(), options);
    std::unique_ptr<Forwarder> forwarder;
    if (!local_forwards.empty() || !remote_forwards.empty()) {
      // As ssh's -L/-R: for the life of the session. Said only where a script needs to hear it (a
      // port the system picked), so that exec's stderr stays the program's.
      Forwarder::Events events;
      events.ready = [&client](const std::string& line, bool picked) {
        if (picked)
          client.notice_line("forwarding " + line);
        else
          log::info("forwarding " + line);
      };
      events.say = [&client](const std::string& line) { client.say_line(line); };
      events.failed = [] {};  // a -R the agent could not keep said why; the session goes on, as ssh's does
      // `events` goes with the lambda: the companion starts inside client.run(), after this block.
      client.set_companion({[&, events](std::string& why, std::function<void()> ready) mutable {
                              events.all_ready = std::move(ready);
                              forwarder = std::make_unique<Forwarder>(uv_default_loop(), options, local_forwards,
                                                                      remote_forwards, client.messages(), events);
                              return forwarder->start(why);
                            },
                            [&] { forwarder->stop(SIGHUP, [] {}); }});
    }
    status = client.run();
  }
  auto close_file = [](int fd, const char* what, const std::string& path) {
    uv_fs_t req;
    int rc = uv_fs_close(nullptr, &req, fd, nullptr);
    uv_fs_req_cleanup(&req);
    if (rc < 0)  // a file system that reports a failed write only now (NFS)
      std::cerr << "hvterm: cannot write the " << what << " " << path << ": " << uv_strerror(rc) << "\n";
  };
  if (close_transcript) close_file(options.transcript_fd, "transcript", cli.log_file);
  if (close_recording) close_file(options.recording_fd, "recording", cli.record_file);
  return status;
}

// What hvterm printed through stdio itself (ls, ping, vms, --help) must have reached stdout: a full
// disk is an error, not success. A reader that went away is treated as SIGPIPE would treat a
// local program: no message, status 141.
int check_stdout(int status) {
  std::cout.flush();
  if (std::fflush(stdout) == 0 && !std::ferror(stdout)) return status;
  int error = errno;
  if (error == EPIPE) return status != 0 ? status : 128 + 13;  // 13: SIGPIPE (not defined on Windows)
  std::cerr << "hvterm: cannot write to stdout: " << (error != 0 ? platform::crt_error_text(error) : "write error")
            << "\n";
  return 255;
}

}  // namespace

int main(int argc, char** argv) { return check_stdout(run(argc, argv)); }
