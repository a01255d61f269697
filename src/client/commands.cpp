#include "client/commands.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "client/request.h"
#include "common/guid.h"
#include "common/printable.h"
#include "common/units.h"
#include "platform/system.h"
#include "platform/terminal.h"
#include "platform/vms.h"

namespace hvterm {
namespace {

int fail(const std::string& message, int code = 255) {
  std::cerr << "hvterm: " << message << "\n";
  return code;
}

std::string local_time(uint64_t unix_ms) {
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  char buf[32];
  std::tm tm = platform::calendar_time(t, false);
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

// One object per line, so a person can read it and grep finds a session, and still one JSON document.
// A command line may hold any bytes: what is not UTF-8 becomes U+FFFD instead of invalid JSON.
void print_json_lines(const std::vector<nlohmann::ordered_json>& objects) {
  std::cout << "[";
  for (size_t i = 0; i < objects.size(); ++i)
    std::cout << (i ? ",\n " : "\n ")
              << objects[i].dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  std::cout << (objects.empty() ? "]\n" : "\n]\n");
}

// The COMMAND column of `hvterm ls`: the rest of the terminal's width (at least 20 characters), or
// 80 characters when stdout is not a terminal. `--json` has every command whole.
size_t ls_command_columns(size_t before_command) {
  constexpr size_t kMinimum = 20, kNotATerminal = 80;
  if (!platform::is_terminal(1)) return kNotATerminal;
  size_t width = platform::open_terminal(1)->size().cols;
  return width > before_command + kMinimum ? width - before_command : kMinimum;
}

}  // namespace

int command_ls(const CommonOptions& options, bool json) {
  auto result = request_once(uv_default_loop(), options.target, options.connect, options.token,
                             wire::encode_empty(wire::FrameType::List), wire::FrameType::ListEnd);
  if (!result.ok) return fail(result.error);
  std::vector<wire::ListEntry> entries;
  for (const auto& frame : result.replies) {
    wire::ListEntry e;
    if (frame.type == wire::FrameType::ListEnd) break;
    if (frame.type != wire::FrameType::ListEntry || !wire::decode(frame.payload.view(), e))
      return fail(std::string("protocol error: the agent's list holds a malformed ") +
                  wire::frame_type_name(frame.type));
    entries.push_back(e);
  }
  if (json) {
    std::vector<nlohmann::ordered_json> objects;
    for (const auto& e : entries) {
      nlohmann::ordered_json o;
      o["id"] = wire::session_id_hex(e.id);
      o["state"] = wire::session_state_name(e.state);
      // After the state: the completions read the id and the state from the start of each line.
      o["name"] = e.name.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(e.name);
      o["mode"] = wire::session_mode_name(e.mode);
      o["clients"] = e.clients >= 0 ? nlohmann::ordered_json(e.clients) : nullptr;  // null: the agent did not say
      o["pid"] = e.pid;
      o["rows"] = e.size.rows;
      o["cols"] = e.size.cols;
      o["created_unix_ms"] = e.created_unix_ms;
      o["idle_ms"] = e.idle_ms;
      o["exit_code"] = e.state == wire::SessionState::Exited ? nlohmann::ordered_json(e.exit_code) : nullptr;
      o["command"] = e.command;
      objects.push_back(std::move(o));
    }
    print_json_lines(objects);
    return 0;
  }
  if (entries.empty()) {
    std::cout << "no sessions on " << options.target.text << "\n";
    return 0;
  }
  // Names are at most 32 characters: the column is as wide as the longest one here.
  int name_width = 4;
  for (const auto& e : entries) name_width = std::max(name_width, static_cast<int>(e.name.size()));
  // PID: pid_max is at most 4194304 on Linux. CREATED: a local time is 19 characters.
  std::printf("%-10s %-*s %-9s %-7s %-7s %-8s %-7s %-19s %s\n", "ID", name_width, "NAME", "STATE", "CLIENTS", "PID",
              "SIZE", "IDLE", "CREATED", "COMMAND");
  size_t command_columns = ls_command_columns(74 + static_cast<size_t>(name_width) + 1);
  for (const auto& e : entries) {
    std::string state = wire::session_state_name(e.state);
    if (e.state == wire::SessionState::Exited) state += "(" + std::to_string(e.exit_code) + ")";
    std::string size = e.mode == wire::SessionMode::Pty
                           ? std::to_string(e.size.cols) + "x" + std::to_string(e.size.rows)
                           : "-";
    std::string command = shorten(printable(e.command), command_columns);
    std::string pid = wire::runs_program(e.mode) ? std::to_string(e.pid) : "-";  // else the agent's own
    std::string name = e.name.empty() ? "-" : printable(e.name);  // the agent checked it; an old one sends none
    std::string clients = e.clients >= 0 ? std::to_string(e.clients) : "-";  // attached terminals, viewers too
    std::printf("%-10s %-*s %-9s %-7s %-7s %-8s %-7s %-19s %s\n", wire::session_id_hex(e.id).substr(0, 8).c_str(),
                name_width, name.c_str(), state.c_str(), clients.c_str(), pid.c_str(), size.c_str(),
                format_duration(e.idle_ms).c_str(), local_time(e.created_unix_ms).c_str(), command.c_str());
  }
  return 0;
}

int command_kill(const CommonOptions& options, const std::string& session, const std::string& signal,
                 wire::KillRecipient recipient) {
  uint8_t sig = wire::parse_signal_name(signal);
  if (sig == 0) return fail("unknown signal '" + signal + "' (use a name such as TERM, HUP, KILL or a number)", 2);
  auto lookup = find_session(uv_default_loop(), options.target, options.connect, options.token, session);
  if (!lookup.ok) return fail(lookup.error);
  if (recipient != wire::KillRecipient::Foreground && (lookup.capabilities & wire::kCapKillRecipient) == 0)
    return fail("this agent (" + lookup.agent + ") signals only the terminal's foreground job" +
                (recipient == wire::KillRecipient::Close ? " and cannot close a session"
                                                         : "; add --foreground for that") +
                ", or update hvtermd there");
  if (recipient == wire::KillRecipient::Close) sig = wire::sig::kHup;  // unused; the decoder wants one
  auto result = request_once(uv_default_loop(), options.target, options.connect, options.token,
                             wire::encode(wire::Kill{lookup.entry.id, sig, recipient}), wire::FrameType::Ok);
  if (!result.ok) return fail(result.error);
  return 0;
}

int command_ping(const CommonOptions& options, double wait_seconds) {
  auto deadline = std::chrono::steady_clock::now() +
                  std::chrono::milliseconds(static_cast<int64_t>(wait_seconds * 1000));
  for (;;) {
    auto start = std::chrono::steady_clock::now();
    auto result = request_once(uv_default_loop(), options.target, options.connect, options.token, wire::encode_ping(0),
                               wire::FrameType::Pong);
    auto rtt = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (result.ok) {
      std::printf("%s answered from %s in %.2f ms (connect + handshake + ping)\n", result.agent.c_str(),
                  options.target.text.c_str(), rtt);
      return 0;
    }
    if (std::chrono::steady_clock::now() >= deadline) return fail(result.error);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // polling an agent that is not up yet
  }
}

int command_vms(bool json) {
  std::vector<platform::VmInfo> vms;
  std::string error;
  if (!platform::list_vms(vms, error)) return fail(error);
  if (json) {
    std::vector<nlohmann::ordered_json> objects;
    for (const auto& vm : vms) objects.push_back({{"id", vm.id}, {"name", vm.name}, {"state", vm.state}});
    print_json_lines(objects);
    return 0;
  }
  std::printf("%-38s %-10s %s\n", "ID", "STATE", "NAME");
  for (const auto& vm : vms)
    std::printf("%-38s %-10s %s\n", printable(vm.id).c_str(), printable(vm.state).c_str(), printable(vm.name).c_str());
  return 0;
}

int command_service_id(const std::string& port_text) {
  auto port = parse_port(port_text);
  if (!port) return fail("'" + port_text + "' is not a port number (1-4294967294)", 2);
  std::cout << format_guid(service_guid_for_port(*port)) << "\n";
  return 0;
}

int command_port(const std::string& guid_text) {
  auto guid = parse_guid(guid_text);
  if (!guid) return fail("'" + guid_text + "' is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", 2);
  auto port = port_of_service_guid(*guid);
  if (!port) return fail(guid_text + " is not a vsock service GUID (they end in -facb-11e6-bd58-64006a7986d3)");
  std::cout << *port << "\n";
  return 0;
}

int command_register(uint32_t port, const std::string& name) {
  std::string guid = format_guid(service_guid_for_port(port));
  std::string error;
  if (platform::register_service(port, name, error)) {
    std::cout << "registered service " << guid << " (" << name << ", port " << port << ")\n";
    return 0;
  }
  std::cerr << "hvterm: " << error << ". On the Hyper-V host, as administrator, run:\n";
  std::cout
      << "$key = 'HKLM:\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Virtualization\\GuestCommunicationServices\\"
      << guid << "'\n"
      << "New-Item -Path $key -Force | Out-Null\n"
      << "New-ItemProperty -Path $key -Name ElementName -Value '" << name
      << "' -PropertyType String -Force | Out-Null\n";
  return 0;
}

}  // namespace hvterm
