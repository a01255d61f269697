// platform::spawn on a real loop: exec on pipes and PTY sessions on ConPTY.
#include <doctest/doctest.h>

#include "tests/windows/child_runner.h"

using hvterm::test::run_child;
using hvterm::test::test_child_path;
namespace platform = hvterm::platform;
namespace sig = hvterm::platform::sig;
using hvterm::platform::ExitKind;

namespace {

platform::SpawnRequest request(std::vector<std::string> argv, bool pty = false) {
  platform::SpawnRequest r;
  r.argv = std::move(argv);
  r.pty = pty;
  return r;
}

}  // namespace

TEST_CASE("pipes: stdin reaches the child and comes back byte for byte") {
  std::string data;
  for (int i = 0; i < 300000; ++i) data.push_back(static_cast<char>(i * 7 % 256));
  auto run = run_child(request({test_child_path(), "cat"}), data);
  REQUIRE(run.spawned);
  CHECK_FALSE(run.timed_out);
  CHECK(run.status.kind == ExitKind::Exited);
  CHECK(run.status.code == 0);
  CHECK(run.output.size() == data.size());
  CHECK(run.output == data);
}

TEST_CASE("pipes: stdout and stderr stay apart") {
  auto out = run_child(request({test_child_path(), "stdout", "to-out"}));
  auto err = run_child(request({test_child_path(), "stderr", "to-err"}));
  CHECK(out.output == "to-out");
  CHECK(out.errors.empty());
  CHECK(err.errors == "to-err");
  CHECK(err.output.empty());
}

TEST_CASE("pipes: the exit code comes back") {
  auto run = run_child(request({test_child_path(), "exit", "42"}));
  CHECK(run.status.kind == ExitKind::Exited);
  CHECK(run.status.code == 42);
}

TEST_CASE("pipes: an unknown program is 'not found' (127)") {
  auto run = run_child(request({"hvterm-no-such-program-here"}));
  CHECK_FALSE(run.spawned);
  CHECK(run.status.kind == ExitKind::NotFound);
  CHECK(run.status.code == 127);
  CHECK(run.status.message.find("hvterm-no-such-program-here") != std::string::npos);
}

TEST_CASE("pipes: a program in the system directory is found with no PATH, as CreateProcess finds it") {
  // A service may start with no PATH; its sessions must still find cmd.
  auto r = request({"cmd", "/c", "exit", "7"});
  r.env = {"PATH="};
  auto run = run_child(r);
  REQUIRE(run.spawned);
  CHECK(run.status.kind == ExitKind::Exited);
  CHECK(run.status.code == 7);
}

TEST_CASE("pipes: the request's environment reaches the child, overriding ours regardless of case") {
  auto r = request({test_child_path(), "env", "HVTERM_TEST_VAR"});
  r.env = {"HVTERM_TEST_VAR=from-request"};
  CHECK(run_child(r).output == "from-request");
  r.env = {"hvterm_test_var=lower-case-key"};
  CHECK(run_child(r).output == "lower-case-key");
}

TEST_CASE("pipes: a missing working directory is an error, not a surprise elsewhere") {
  auto r = request({test_child_path(), "exit", "0"});
  r.cwd = "C:\\hvterm-no-such-directory";
  auto run = run_child(r);
  CHECK_FALSE(run.spawned);
  CHECK(run.status.kind == ExitKind::CannotExecute);
  CHECK(run.status.code == 126);
}

TEST_CASE("pipes: another user is refused with a reason") {
  auto r = request({test_child_path(), "exit", "0"});
  r.user = "hvterm-no-such-user";
  auto run = run_child(r);
  CHECK_FALSE(run.spawned);
  CHECK(run.status.message == "no such user: hvterm-no-such-user");
}

namespace {

// A sleeping child ended by `signal`; the exit it reports.
platform::ExitStatus exit_after_signal(int signal) {
  platform::ExitStatus status;
  uv_loop_t loop;
  uv_loop_init(&loop);
  std::unique_ptr<platform::Child> child;
  child = platform::spawn(
      &loop, request({test_child_path(), "sleep", "30000"}),
      [&](const platform::ExitStatus& s) {
        status = s;
        child->close([] {});
      },
      status);
  REQUIRE(child);
  CHECK(child->signal(signal) == 0);
  uv_run(&loop, UV_RUN_DEFAULT);
  child.reset();
  CHECK(uv_loop_close(&loop) == 0);
  return status;
}

}  // namespace

TEST_CASE("pipes: TERM, and PIPE for a client whose stdout is gone, end the child as death by that signal") {
  for (int signal : {sig::kTerm, sig::kPipe}) {
    CAPTURE(signal);
    auto status = exit_after_signal(signal);
    CHECK(status.kind == ExitKind::Signaled);
    CHECK(status.code == signal);
  }
}

// Wine's ConPTY passes on only what a program writes to a console it opened itself (CONOUT$), so
// the test child does that; on Windows any console program would do.
TEST_CASE("ConPTY: the child's console output reaches the session, then the output ends") {
  auto run = run_child(request({test_child_path(), "conout", "hello-from-conpty"}, true));
  REQUIRE(run.spawned);
  CHECK_FALSE(run.timed_out);
  CHECK(run.output.find("hello-from-conpty") != std::string::npos);
  CHECK(run.status.kind == ExitKind::Exited);
  CHECK(run.status.code == 0);
}

TEST_CASE("ConPTY: keys typed into the session reach the child") {
  auto run = run_child(request({test_child_path(), "echo-line"}, true), "typed-line\r");
  REQUIRE(run.spawned);
  CHECK_FALSE(run.timed_out);
  CHECK(run.output.find("got typed-line") != std::string::npos);
}

TEST_CASE("ConPTY: the exit code comes back") {
  auto run = run_child(request({test_child_path(), "exit", "5"}, true));
  REQUIRE(run.spawned);
  CHECK(run.status.code == 5);
}

TEST_CASE("ConPTY: an unknown program is 'not found' (127)") {
  auto run = run_child(request({"hvterm-no-such-program-here"}, true));
  CHECK_FALSE(run.spawned);
  CHECK(run.status.kind == ExitKind::NotFound);
  CHECK(run.status.code == 127);
}
