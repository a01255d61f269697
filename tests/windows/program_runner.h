#pragma once
// Runs hvterm.exe / hvtermd.exe as a user would (the tests live beside them), with stdin fed and
// stdout, stderr and the exit code collected.
#include <string>
#include <vector>

#include <uv.h>

namespace hvterm::test {

struct ProgramRun {
  int exit_code = -1;
  std::string out, err;
  bool timed_out = false;
};

std::string program_path(const std::string& name);  // "hvterm" -> <dir of the tests>\hvterm.exe
ProgramRun run_program(const std::vector<std::string>& argv, const std::string& input = {},
                       uint64_t timeout_ms = 30000);

// An agent on a named pipe of its own for the duration of a test.
class Agent {
 public:
  explicit Agent(const std::string& pipe_name);
  ~Agent();
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;
  bool ready() const { return ready_; }
  std::string target() const { return "unix:" + pipe_; }

 private:
  std::string pipe_;
  uv_loop_t loop_{};
  uv_process_t process_{};
  bool started_ = false, ready_ = false;
};

}  // namespace hvterm::test
