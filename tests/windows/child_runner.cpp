#include "tests/windows/child_runner.h"

#include <memory>

#include "platform/process.h"
#include "platform/system.h"

namespace hvterm::test {
namespace {

struct Run;

struct Reader {
  Run* run;
  std::string* sink;
  char buffer[65536];
};

struct Run {
  ChildRun& result;
  std::unique_ptr<platform::Child> child;
  Reader readers[2];
  int open_outputs = 0;
  bool exited = false, closing = false;
  uv_timer_t timer{};
  uv_write_t write{};
  std::string input;
  bool pty = false;

  explicit Run(ChildRun& r) : result(r), readers{{this, &r.output, {}}, {this, &r.errors, {}}} {}

  void start_reading(uv_stream_t* stream, Reader& reader) {
    if (stream == nullptr) return;
    ++open_outputs;
    stream->data = &reader;
    uv_read_start(
        stream,
        [](uv_handle_t* h, size_t, uv_buf_t* buf) {
          auto* r = static_cast<Reader*>(h->data);
          *buf = uv_buf_init(r->buffer, sizeof(r->buffer));
        },
        [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
          auto* r = static_cast<Reader*>(s->data);
          if (n > 0) r->sink->append(buf->base, static_cast<size_t>(n));
          if (n >= 0) return;
          uv_read_stop(s);
          --r->run->open_outputs;
          r->run->maybe_finish();
        });
  }

  void maybe_finish() {
    if (exited && open_outputs == 0) finish();
  }

  void finish() {
    if (closing) return;
    closing = true;
    uv_timer_stop(&timer);
    uv_close(reinterpret_cast<uv_handle_t*>(&timer), nullptr);
    child->close([] {});
  }
};

}  // namespace

ChildRun run_child(const platform::SpawnRequest& request, const std::string& input, uint64_t timeout_ms) {
  ChildRun result;
  uv_loop_t loop;
  uv_loop_init(&loop);
  Run run(result);
  run.pty = request.pty;
  run.child = platform::spawn(
      &loop, request,
      [&run](const platform::ExitStatus& s) {
        run.result.status = s;
        run.exited = true;
        run.maybe_finish();
      },
      result.status);
  result.spawned = run.child != nullptr;
  if (run.child) {
    uv_timer_init(&loop, &run.timer);
    run.timer.data = &run;
    uv_timer_start(
        &run.timer,
        [](uv_timer_t* t) {
          auto* r = static_cast<Run*>(t->data);
          r->result.timed_out = true;
          r->child->signal(platform::sig::kKill);
          r->finish();
        },
        timeout_ms, 0);
    run.start_reading(run.child->output(), run.readers[0]);
    run.start_reading(run.child->error_output(), run.readers[1]);
    if (!input.empty() || !request.pty) {
      run.input = input;
      run.write.data = &run;
      uv_buf_t buf = uv_buf_init(run.input.data(), static_cast<unsigned>(run.input.size()));
      uv_write(&run.write, run.child->input(), &buf, 1, [](uv_write_t* w, int) {
        auto* r = static_cast<Run*>(w->data);
        if (!r->pty && !r->closing) r->child->close_input();
      });
    }
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  run.child.reset();
  uv_run(&loop, UV_RUN_DEFAULT);  // handles the child's close left for a last turn
  uv_loop_close(&loop);
  return result;
}

std::string test_child_path() { return platform::executable_dir() + "\\hvterm_test_child.exe"; }

}  // namespace hvterm::test
