// hvterm.exe and hvtermd.exe as a user runs them: conversions, one-line failures with exit 255,
// and sessions through an agent on a named pipe (exec on pipes, exec -t on ConPTY, the local agent).
#include <doctest/doctest.h>

#include <algorithm>
#include <thread>

#include "platform/sockets.h"
#include "platform/system.h"
#include "platform/windows/internal.h"
#include "protocol/codec.h"
#include "tests/windows/child_runner.h"
#include "tests/windows/program_runner.h"

using hvterm::test::Agent;
using hvterm::test::program_path;
using hvterm::test::run_program;
using hvterm::test::test_child_path;

namespace {

const std::string kHvterm = program_path("hvterm");

bool one_line(const std::string& text) {
  return !text.empty() && text.back() == '\n' && std::count(text.begin(), text.end(), '\n') == 1;
}

std::string unique_pipe(const char* what) {
  return "\\\\.\\pipe\\hvterm-test-" + std::string(what) + "-" + std::to_string(GetCurrentProcessId());
}

}  // namespace

TEST_CASE("service-id and port convert between a vsock port and a Hyper-V service GUID") {
  auto guid = run_program({kHvterm, "service-id", "2761"});
  CHECK(guid.exit_code == 0);
  CHECK(guid.out == "00000ac9-facb-11e6-bd58-64006a7986d3\n");
  auto port = run_program({kHvterm, "port", "00000ac9-facb-11e6-bd58-64006a7986d3"});
  CHECK(port.exit_code == 0);
  CHECK(port.out == "2761\n");
}

TEST_CASE("exec to a Hyper-V VM that cannot be reached: one line on stderr, exit 255") {
  auto run = run_program({kHvterm, "exec", "--connect-timeout", "3s", "hv:4a3f1c2e-0000-4000-8000-123456789abc", "--",
                          "cmd"});
  CHECK(run.exit_code == 255);
  CHECK(one_line(run.err));
  CHECK(run.err.rfind("hvterm: ", 0) == 0);
  CHECK(run.out.empty());
}

TEST_CASE("exec to a VM name that cannot be resolved: one line, exit 255") {
  auto run = run_program({kHvterm, "exec", "hvterm-no-such-vm", "--", "cmd"});
  CHECK(run.exit_code == 255);
  CHECK(one_line(run.err));
}

TEST_CASE("vms lists the host's VMs, or says in one line why it cannot") {
  auto run = run_program({kHvterm, "vms"});
  if (run.exit_code == 0) {
    CHECK(run.out.rfind("ID", 0) == 0);
  } else {
    CHECK(run.exit_code == 255);
    CHECK(one_line(run.err));
  }
}

TEST_CASE("exec through an agent on a named pipe: output, exit code, stdin byte for byte") {
  Agent agent(unique_pipe("exec"));
  REQUIRE(agent.ready());
  auto hello = run_program({kHvterm, "exec", agent.target(), "--", test_child_path(), "stdout", "hello"});
  CHECK(hello.exit_code == 0);
  CHECK(hello.out == "hello");
  auto err = run_program({kHvterm, "exec", agent.target(), "--", test_child_path(), "stderr", "to-stderr"});
  CHECK(err.out.empty());
  CHECK(err.err == "to-stderr");
  CHECK(run_program({kHvterm, "exec", agent.target(), "--", test_child_path(), "exit", "7"}).exit_code == 7);
  std::string data;
  for (int i = 0; i < 200000; ++i) data.push_back(static_cast<char>(i * 31 % 256));
  auto cat = run_program({kHvterm, "exec", agent.target(), "--", test_child_path(), "cat"}, data);
  CHECK(cat.exit_code == 0);
  CHECK(cat.out.size() == data.size());
  CHECK(cat.out == data);
}

TEST_CASE("exec of a program the agent cannot find: one line, exit 127") {
  Agent agent(unique_pipe("missing"));
  REQUIRE(agent.ready());
  auto run = run_program({kHvterm, "exec", agent.target(), "--", "hvterm-no-such-program"});
  CHECK(run.exit_code == 127);
  CHECK(run.err == "hvterm: command not found: hvterm-no-such-program\n");
}

TEST_CASE("exec -t runs the command on the agent's ConPTY and its console output arrives") {
  Agent agent(unique_pipe("pty"));
  REQUIRE(agent.ready());
  auto run = run_program({kHvterm, "exec", "-t", agent.target(), "--", test_child_path(), "conout", "hello-from-pty"});
  CHECK(run.exit_code == 0);
  CHECK(run.out.find("hello-from-pty") != std::string::npos);
}

TEST_CASE("the local target starts a per-user agent on first use, which the next client finds") {
  // A runtime directory of the test's own, so no agent of the person running the tests is touched.
  wchar_t temp[MAX_PATH];
  GetTempPathW(MAX_PATH, temp);
  std::wstring local = std::wstring(temp) + L"hvterm-test-local-" + std::to_wstring(GetCurrentProcessId());
  CreateDirectoryW(local.c_str(), nullptr);
  wchar_t saved[MAX_PATH] = L"";
  GetEnvironmentVariableW(L"LOCALAPPDATA", saved, MAX_PATH);
  SetEnvironmentVariableW(L"LOCALAPPDATA", local.c_str());
  auto first = run_program({kHvterm, "exec", "local", "--", test_child_path(), "stdout", "first"});
  auto second = run_program({kHvterm, "exec", "local", "--", test_child_path(), "stdout", "second"});
  CHECK(first.exit_code == 0);
  CHECK(first.out == "first");
  CHECK(second.out == "second");
  // Stop the agent the first client started: it is the server of the local agent's pipe.
  std::string ignored;
  auto dir = hvterm::platform::runtime_dir(ignored);
  REQUIRE(dir);
  auto pipe = hvterm::platform::detail::named_pipe_for(*dir + "/agent.sock");
  REQUIRE(pipe);
  HANDLE client = CreateFileW(hvterm::platform::detail::widen(pipe->name).c_str(), GENERIC_READ | GENERIC_WRITE, 0,
                              nullptr, OPEN_EXISTING, 0, nullptr);
  REQUIRE(client != INVALID_HANDLE_VALUE);
  ULONG pid = 0;
  CHECK(GetNamedPipeServerProcessId(client, &pid));
  CloseHandle(client);
  HANDLE agent = OpenProcess(PROCESS_TERMINATE | SYNCHRONIZE, FALSE, pid);
  REQUIRE(agent != nullptr);
  TerminateProcess(agent, 0);
  WaitForSingleObject(agent, 5000);
  CloseHandle(agent);
  SetEnvironmentVariableW(L"LOCALAPPDATA", saved[0] != L'\0' ? saved : nullptr);
}

TEST_CASE("register writes the service's GuestCommunicationServices key, or prints the PowerShell that does") {
  std::string key = hvterm::platform::detail::service_registry_key(2761);
  std::wstring wide_key = hvterm::platform::detail::widen(key);
  HKEY existing = nullptr;
  bool existed = RegOpenKeyExW(HKEY_LOCAL_MACHINE, wide_key.c_str(), 0, KEY_READ | KEY_WOW64_64KEY, &existing) ==
                 ERROR_SUCCESS;
  if (existing != nullptr) RegCloseKey(existing);
  auto run = run_program({kHvterm, "register", "--port", "2761", "--name", "hvterm test"});
  CHECK(run.exit_code == 0);
  if (run.out.rfind("registered service 00000ac9-facb-11e6-bd58-64006a7986d3", 0) == 0) {
    wchar_t value[64];
    DWORD size = sizeof(value);
    REQUIRE(RegGetValueW(HKEY_LOCAL_MACHINE, wide_key.c_str(), L"ElementName", RRF_RT_REG_SZ | RRF_SUBKEY_WOW6464KEY,
                         nullptr, value, &size) == ERROR_SUCCESS);
    CHECK(std::wstring(value) == L"hvterm test");
    CHECK(run_program({kHvterm, "register", "--port", "2761", "--name", "hvterm test"}).exit_code == 0);  // again
    if (!existed) RegDeleteKeyExW(HKEY_LOCAL_MACHINE, wide_key.c_str(), KEY_WOW64_64KEY, 0);
  } else {
    CHECK(run.out.find("HKLM:\\" + key) != std::string::npos);  // not an administrator: the PowerShell
  }
}

TEST_CASE("hvtermd without --listen where there are no hypervisor sockets: a usage error that says what to do") {
  if (hvterm::platform::hypervisor_sockets_available()) return;
  auto run = run_program({program_path("hvtermd")});
  CHECK(run.exit_code == 2);
  CHECK(one_line(run.err));
  CHECK(run.err.find("--listen") != std::string::npos);
}

namespace {

// A loopback TCP port in this process standing in for a guest's service: it echoes one connection
// to its end and then closes its side, as `cat` behind `nc -l` would.
class EchoOnce {
 public:
  EchoOnce() {
    hvterm::platform::detail::ensure_winsock();
    listener_ = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int size = sizeof address;
    if (bind(listener_, reinterpret_cast<sockaddr*>(&address), size) != 0 ||
        getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &size) != 0 || listen(listener_, 1) != 0)
      return;
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] {
      SOCKET c = accept(listener_, nullptr, nullptr);
      if (c == INVALID_SOCKET) return;
      char buffer[65536];
      for (int n; (n = recv(c, buffer, static_cast<int>(sizeof buffer), 0)) > 0;)
        for (int sent = 0, k; sent < n; sent += k)
          if ((k = send(c, buffer + sent, n - sent, 0)) <= 0) break;
      shutdown(c, SD_SEND);
      closesocket(c);
    });
  }
  ~EchoOnce() {
    closesocket(listener_);  // ends a thread still waiting in accept()
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return port_; }

 private:
  SOCKET listener_ = INVALID_SOCKET;
  int port_ = 0;
  std::thread thread_;
};

}  // namespace

TEST_CASE("nc through an agent on a named pipe: a loopback TCP port byte for byte; a closed one in one line") {
  Agent agent(unique_pipe("nc"));
  REQUIRE(agent.ready());
  EchoOnce echo;
  REQUIRE(echo.port() != 0);
  std::string data;
  for (int i = 0; i < 300000; ++i) data.push_back(static_cast<char>(i * 7 % 251));
  auto nc = run_program({kHvterm, "nc", agent.target(), "127.0.0.1:" + std::to_string(echo.port())}, data);
  CHECK(nc.exit_code == 0);
  CHECK(nc.err.empty());
  CHECK(nc.out.size() == data.size());
  CHECK(nc.out == data);

  SOCKET closed = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);  // bound, never listening: refused
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int size = sizeof address;
  REQUIRE(bind(closed, reinterpret_cast<sockaddr*>(&address), size) == 0);
  REQUIRE(getsockname(closed, reinterpret_cast<sockaddr*>(&address), &size) == 0);
  auto refused = run_program({kHvterm, "nc", agent.target(), "127.0.0.1:" + std::to_string(ntohs(address.sin_port))});
  closesocket(closed);
  CHECK(refused.exit_code == 255);
  CHECK(one_line(refused.err));
  CHECK(refused.err.find("cannot connect to 127.0.0.1:") != std::string::npos);
  auto unix_path = run_program({kHvterm, "nc", agent.target(), "unix:/run/x.sock"});
  CHECK(unix_path.exit_code == 255);
  CHECK(unix_path.err.find("named pipes, not Unix socket paths") != std::string::npos);
}

namespace {

// A loopback port nothing listens on now (bound, read, closed): for a forward to listen on.
int free_port() {
  SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int size = sizeof address;
  bind(s, reinterpret_cast<sockaddr*>(&address), size);
  getsockname(s, reinterpret_cast<sockaddr*>(&address), &size);
  closesocket(s);
  return ntohs(address.sin_port);
}

}  // namespace

TEST_CASE("exec -L and -R on Windows: a program reaches a port through each forward, byte for byte") {
  Agent agent(unique_pipe("forward"));
  REQUIRE(agent.ready());
  std::string data;
  for (int i = 0; i < 5000; ++i) data.push_back(static_cast<char>(i * 13 % 251));
  {
    // -L: the program (in the "guest") connects to this machine's port, which leads back into the guest.
    EchoOnce echo;
    REQUIRE(echo.port() != 0);
    std::string port = std::to_string(free_port());
    auto run = run_program({kHvterm, "exec", agent.target(), "-L", port + ":127.0.0.1:" + std::to_string(echo.port()),
                            "--", test_child_path(), "connect", port},
                           data);
    CHECK(run.exit_code == 0);
    CHECK(run.err.empty());
    CHECK(run.out == data);
  }
  {
    // -R: the agent listens; what the program sends there reaches the echo here and comes back.
    EchoOnce echo;
    REQUIRE(echo.port() != 0);
    std::string port = std::to_string(free_port());
    auto run = run_program({kHvterm, "exec", agent.target(), "-R", port + ":127.0.0.1:" + std::to_string(echo.port()),
                            "--", test_child_path(), "connect", port},
                           data);
    CHECK(run.exit_code == 0);
    CHECK(run.err.empty());
    CHECK(run.out == data);
  }
}

TEST_CASE("nc to a named pipe in the guest: the agent's own pipe answers an hvterm HELLO through it") {
  // A named pipe that speaks a known protocol, with nothing else to set up: the agent's own. What
  // goes in through nc is a client's HELLO; what comes back must be the agent's.
  std::string pipe = unique_pipe("nc-pipe");
  Agent agent(pipe);
  REQUIRE(agent.ready());
  hvterm::wire::Hello hello;
  hello.software = "hvterm-test";
  auto run = run_program({kHvterm, "nc", agent.target(), "pipe:" + pipe}, hvterm::wire::encode(hello));
  CHECK(run.exit_code == 0);
  CHECK(run.err.empty());
  CHECK(run.out.find("hvtermd ") != std::string::npos);  // the agent's software string, in its HELLO
  auto missing = run_program({kHvterm, "nc", agent.target(), "pipe:hvterm-test-no-such-pipe"});
  CHECK(missing.exit_code == 255);
  CHECK(one_line(missing.err));
  CHECK(missing.err.find("cannot connect to pipe:") != std::string::npos);
}
