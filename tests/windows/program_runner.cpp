#include "tests/windows/program_runner.h"

#include "platform/system.h"
#include "platform/windows/internal.h"

namespace hvterm::test {
namespace {

struct Output {
  std::string* sink;
  int* open;
  char buffer[65536];
};

}  // namespace

std::string program_path(const std::string& name) { return platform::executable_dir() + "\\" + name + ".exe"; }

ProgramRun run_program(const std::vector<std::string>& argv, const std::string& input, uint64_t timeout_ms) {
  ProgramRun run;
  uv_loop_t loop;
  uv_loop_init(&loop);
  uv_pipe_t pipes[3];
  uv_stdio_container_t stdio[3];
  for (int i = 0; i < 3; ++i) {
    uv_pipe_init(&loop, &pipes[i], 0);
    stdio[i].flags = static_cast<uv_stdio_flags>(UV_CREATE_PIPE | (i == 0 ? UV_READABLE_PIPE : UV_WRITABLE_PIPE));
    stdio[i].data.stream = reinterpret_cast<uv_stream_t*>(&pipes[i]);
  }
  std::vector<std::string> args = argv;
  std::vector<char*> argv_c;
  for (auto& a : args) argv_c.push_back(a.data());
  argv_c.push_back(nullptr);
  uv_process_options_t options{};
  options.file = argv_c[0];
  options.args = argv_c.data();
  options.stdio = stdio;
  options.stdio_count = 3;
  options.flags = UV_PROCESS_WINDOWS_HIDE;
  options.exit_cb = [](uv_process_t* p, int64_t status, int) {
    static_cast<ProgramRun*>(p->data)->exit_code = static_cast<int>(status);
    uv_close(reinterpret_cast<uv_handle_t*>(p), nullptr);
  };
  uv_process_t process;
  process.data = &run;
  int rc = uv_spawn(&loop, &process, &options);
  if (rc != 0) {
    run.err = std::string("cannot start ") + argv[0] + ": " + uv_strerror(rc);
    uv_close(reinterpret_cast<uv_handle_t*>(&process), nullptr);
  }
  int open = 0;
  Output outputs[2] = {{&run.out, &open, {}}, {&run.err, &open, {}}};
  for (int i = 1; i < 3 && rc == 0; ++i) {
    ++open;
    pipes[i].data = &outputs[i - 1];
    uv_read_start(
        reinterpret_cast<uv_stream_t*>(&pipes[i]),
        [](uv_handle_t* h, size_t, uv_buf_t* buf) {
          auto* o = static_cast<Output*>(h->data);
          *buf = uv_buf_init(o->buffer, sizeof(o->buffer));
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
          auto* o = static_cast<Output*>(s->data);
          if (n > 0) o->sink->append(buf->base, static_cast<size_t>(n));
          if (n < 0) uv_close(reinterpret_cast<uv_handle_t*>(s), nullptr);
        });
  }
  std::string data = input;
  uv_write_t write;
  uv_buf_t buf = uv_buf_init(data.data(), static_cast<unsigned>(data.size()));
  if (rc == 0) {
    uv_write(&write, reinterpret_cast<uv_stream_t*>(&pipes[0]), &buf, 1, [](uv_write_t* w, int) {
      uv_close(reinterpret_cast<uv_handle_t*>(w->handle), nullptr);  // stdin EOF once written
    });
  } else {
    for (auto& p : pipes) uv_close(reinterpret_cast<uv_handle_t*>(&p), nullptr);
  }
  uv_timer_t timer;
  uv_timer_init(&loop, &timer);
  struct Deadline {
    ProgramRun* run;
    uv_process_t* process;
  } deadline{&run, &process};
  timer.data = &deadline;
  uv_timer_start(
      &timer,
      [](uv_timer_t* t) {
        auto* d = static_cast<Deadline*>(t->data);
        d->run->timed_out = true;
        if (d->run->exit_code == -1) uv_process_kill(d->process, SIGTERM);
      },
      timeout_ms, 0);
  uv_unref(reinterpret_cast<uv_handle_t*>(&timer));  // the child and its pipes decide when we are done
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_close(reinterpret_cast<uv_handle_t*>(&timer), nullptr);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return run;
}

Agent::Agent(const std::string& pipe_name) : pipe_(pipe_name) {
  uv_loop_init(&loop_);
  std::string program = program_path("hvtermd");
  std::string listen = "unix:" + pipe_;
  char* args[] = {program.data(),
                  const_cast<char*>("--listen"),
                  listen.data(),
                  const_cast<char*>("--log-level"),
                  const_cast<char*>("warn"),
                  nullptr};
  uv_process_options_t options{};
  options.file = program.c_str();
  options.args = args;
  options.flags = UV_PROCESS_WINDOWS_HIDE;
  started_ = uv_spawn(&loop_, &process_, &options) == 0;
  std::wstring wide = platform::detail::widen(pipe_);
  for (int i = 0; started_ && !ready_ && i < 100; ++i) {
    ready_ = WaitNamedPipeW(wide.c_str(), 100) != 0;
    if (!ready_) Sleep(50);  // not created yet: WaitNamedPipe does not wait for that
  }
}

Agent::~Agent() {
  if (started_) uv_process_kill(&process_, SIGTERM);
  uv_close(reinterpret_cast<uv_handle_t*>(&process_), nullptr);
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
}

}  // namespace hvterm::test
