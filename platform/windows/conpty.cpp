// A ConPTY session. libuv cannot start a process on a pseudo console, so CreateProcessW does it; the
// console's two pipes are libuv pipes (overlapped on our side, synchronous on conhost's side, as
// ConPTY requires), and the process's end reaches the loop through a thread-pool wait + uv_async.
//
// A pseudo console keeps its output pipe open until ClosePseudoConsole, even after the child is
// gone. So the child's exit closes the console, and that (conhost flushing and leaving) is what
// ends the output. ClosePseudoConsole can block until conhost has written everything, so it runs
// on a worker thread while the loop keeps reading. Closing it is also the hang-up: attached
// processes get CTRL_CLOSE_EVENT, Windows' SIGHUP.
//
// The ConPTY functions are looked up at run time: hvterm.exe shares this code and must still start
// on Hyper-V hosts older than Windows 10 1809.
#include <io.h>

#include <algorithm>

#include "platform/process.h"
#include "platform/terminal.h"
#include "platform/windows/command_line.h"
#include "platform/windows/conpty.h"
#include "platform/windows/internal.h"

namespace hvterm::platform::detail {
namespace {

using CreatePseudoConsoleFn = HRESULT(WINAPI*)(COORD, HANDLE, HANDLE, DWORD, void**);
using ResizePseudoConsoleFn = HRESULT(WINAPI*)(void*, COORD);
using ClosePseudoConsoleFn = void(WINAPI*)(void*);

struct ConPtyApi {
  CreatePseudoConsoleFn create = nullptr;
  ResizePseudoConsoleFn resize = nullptr;
  ClosePseudoConsoleFn close = nullptr;
};

const ConPtyApi* conpty_api() {
  static const HMODULE kernel32 = GetModuleHandleW(L"kernel32.dll");
  static const ConPtyApi api{dll_function<CreatePseudoConsoleFn>(kernel32, "CreatePseudoConsole"),
                             dll_function<ResizePseudoConsoleFn>(kernel32, "ResizePseudoConsole"),
                             dll_function<ClosePseudoConsoleFn>(kernel32, "ClosePseudoConsole")};
  return api.create != nullptr && api.resize != nullptr && api.close != nullptr ? &api : nullptr;
}

constexpr DWORD_PTR kPseudoConsoleAttribute = 0x00020016;  // PROC_THREAD_ATTRIBUTE_PSEUDOCONSOLE

COORD to_coord(const TerminalSize& size) {
  auto clamp = [](uint16_t v) { return static_cast<SHORT>(std::clamp<int>(v, 1, 32767)); };
  return COORD{clamp(size.cols), clamp(size.rows)};
}

// Runs on a thread-pool thread when the process ends.
void CALLBACK on_process_signaled(void* async, BOOLEAN) { uv_async_send(static_cast<uv_async_t*>(async)); }

class ConPtyChild final : public Child {
 public:
  ConPtyChild(const ConPtyApi& api, ExitCallback on_exit) : api_(api), on_exit_(std::move(on_exit)) {}

  bool start(uv_loop_t* loop, const std::vector<std::string>& argv, const std::vector<std::string>& env,
             const std::string& cwd, const TerminalSize& size, ExitStatus& failure) {
    loop_ = loop;
    auto fail = [&failure](ExitKind kind, int code, const std::string& message) {
      failure = {kind, code, message};
      return false;
    };
    // Conhost's ends (read of input, write of output) stay synchronous; ours are overlapped.
    uv_file in[2], out[2];
    int rc = uv_pipe(in, 0, UV_NONBLOCK_PIPE);
    if (rc != 0) return fail(ExitKind::CannotExecute, 126, std::string("cannot create a pipe: ") + uv_strerror(rc));
    rc = uv_pipe(out, UV_NONBLOCK_PIPE, 0);
    if (rc != 0) {
      _close(in[0]);
      _close(in[1]);
      return fail(ExitKind::CannotExecute, 126, std::string("cannot create a pipe: ") + uv_strerror(rc));
    }
    HRESULT hr = api_.create(to_coord(size), uv_get_osfhandle(in[0]), uv_get_osfhandle(out[1]), 0, &console_);
    _close(in[0]);  // conhost holds its own duplicates
    _close(out[1]);
    bool input_open = open_pipe(in[1], input_);
    bool output_open = open_pipe(out[0], output_);
    if (FAILED(hr)) {
      console_ = nullptr;
      return fail(ExitKind::CannotExecute, 126,
                  "cannot create a pseudo console: " + system_error_text(static_cast<unsigned long>(hr)));
    }
    if (!input_open || !output_open) return fail(ExitKind::CannotExecute, 126, "cannot use the pseudo console's pipes");

    SIZE_T attributes_size = 0;
    InitializeProcThreadAttributeList(nullptr, 1, 0, &attributes_size);
    std::vector<BYTE> attributes(attributes_size);
    auto* list = reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(attributes.data());
    STARTUPINFOEXW startup{};
    startup.StartupInfo.cb = sizeof(startup);
    // Null standard handles: without them the child would get copies of the agent's own stdio
    // instead of the pseudo console's (microsoft/terminal#11276).
    startup.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
    startup.lpAttributeList = list;
    if (!InitializeProcThreadAttributeList(list, 1, 0, &attributes_size) ||
        !UpdateProcThreadAttribute(list, 0, kPseudoConsoleAttribute, console_, sizeof(console_), nullptr, nullptr))
      return fail(ExitKind::CannotExecute, 126,
                  "cannot attach the pseudo console: " + system_error_text(GetLastError()));
    std::wstring command_line = widen(windows_command_line(argv));
    std::wstring block = environment_block(env);
    std::wstring directory = widen(cwd);
    PROCESS_INFORMATION info{};
    BOOL created = CreateProcessW(nullptr, command_line.data(), nullptr, nullptr, FALSE,
                                  EXTENDED_STARTUPINFO_PRESENT | CREATE_UNICODE_ENVIRONMENT, block.data(),
                                  directory.c_str(), &startup.StartupInfo, &info);
    DWORD err = GetLastError();
    DeleteProcThreadAttributeList(list);
    if (!created) {
      bool missing = err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND;
      return fail(missing ? ExitKind::NotFound : ExitKind::CannotExecute, missing ? 127 : 126,
                  missing ? "command not found: " + argv[0]
                          : "cannot execute " + argv[0] + ": " + system_error_text(err));
    }
    CloseHandle(info.hThread);
    process_ = info.hProcess;
    pid_ = info.dwProcessId;
    exit_async_ = new uv_async_t;
    uv_async_init(loop, exit_async_, [](uv_async_t* a) { static_cast<ConPtyChild*>(a->data)->on_process_exit(); });
    exit_async_->data = this;
    RegisterWaitForSingleObject(&wait_, process_, on_process_signaled, exit_async_, INFINITE, WT_EXECUTEONLYONCE);
    return true;
  }

  uv_stream_t* input() override { return reinterpret_cast<uv_stream_t*>(input_); }
  uv_stream_t* output() override { return reinterpret_cast<uv_stream_t*>(output_); }
  uv_stream_t* error_output() override { return nullptr; }
  void close_input() override {}
  uint32_t pid() const override { return pid_; }

  void resize(const TerminalSize& size) override {
    if (console_ != nullptr) api_.resize(console_, to_coord(size));
  }

  int signal(int classic_signal) override {
    if (exited_ || process_ == nullptr) return UV_ESRCH;
    switch (classic_signal) {
      case sig::kInt: return send_interrupt();
      case sig::kHup: hang_up(); return 0;
      case sig::kWinch: return 0;
      case sig::kTerm:
      case sig::kKill:
      case sig::kQuit:
      case sig::kPipe:
        if (!TerminateProcess(process_, 1)) return uv_translate_sys_error(GetLastError());
        signal_sent_ = classic_signal;
        return 0;
      default: return UV_ENOSYS;
    }
  }

  void hang_up() override { close_console(); }
  bool exited() const override { return exited_; }

  void close(std::function<void()> on_closed) override {
    on_closed_ = std::move(on_closed);
    ++closing_;                                                           // held until everything below is under way
    if (wait_ != nullptr) UnregisterWaitEx(wait_, INVALID_HANDLE_VALUE);  // waits out a running callback
    wait_ = nullptr;
    close_handle(input_);
    close_handle(output_);  // conhost's writes fail from here on, so closing the console cannot hang
    close_handle(exit_async_);
    close_console();
    if (process_ != nullptr) CloseHandle(process_);
    process_ = nullptr;
    handle_closed();
  }

 private:
  struct ConsoleClose {
    uv_work_t work{};
    ClosePseudoConsoleFn close;
    void* console;
    ConPtyChild* child;
  };

  // The handle exists (and is closed like the others) even when adopting the fd fails.
  bool open_pipe(uv_file fd, uv_pipe_t*& pipe) {
    pipe = new uv_pipe_t;
    uv_pipe_init(loop_, pipe, 0);
    if (uv_pipe_open(pipe, fd) == 0) return true;
    _close(fd);
    return false;
  }

  template <typename Handle>
  void close_handle(Handle*& handle) {
    if (handle == nullptr) return;
    ++closing_;
    handle->data = this;
    uv_close(reinterpret_cast<uv_handle_t*>(handle), [](uv_handle_t* h) {
      auto* self = static_cast<ConPtyChild*>(h->data);
      delete reinterpret_cast<Handle*>(h);
      self->handle_closed();
    });
    handle = nullptr;
  }

  void close_console() {
    if (console_ == nullptr) return;
    auto* op = new ConsoleClose{{}, api_.close, console_, this};
    console_ = nullptr;
    ++closing_;
    op->work.data = op;
    uv_queue_work(
        loop_, &op->work,
        [](uv_work_t* w) {
          auto* op = static_cast<ConsoleClose*>(w->data);
          op->close(op->console);
        },
        [](uv_work_t* w, int) {
          std::unique_ptr<ConsoleClose> op(static_cast<ConsoleClose*>(w->data));
          op->child->handle_closed();
        });
  }

  // ^C typed into the console: conhost turns it into CTRL_C_EVENT for whoever has processed input.
  int send_interrupt() {
    if (input_ == nullptr) return UV_EPIPE;
    static char ctrl_c = '\x03';
    auto* request = new uv_write_t;
    uv_buf_t buf = uv_buf_init(&ctrl_c, 1);
    int rc = uv_write(request, reinterpret_cast<uv_stream_t*>(input_), &buf, 1, [](uv_write_t* r, int) { delete r; });
    if (rc != 0) delete request;
    return rc;
  }

  void on_process_exit() {
    if (exited_) return;
    exited_ = true;
    DWORD code = 0;
    GetExitCodeProcess(process_, &code);
    close_console();  // ends the output once conhost has flushed it
    if (on_exit_) on_exit_(exit_status_from_code(code, signal_sent_));
  }

  void handle_closed() {
    if (--closing_ != 0) return;
    auto done = std::move(on_closed_);
    if (done) done();
  }

  const ConPtyApi& api_;
  ExitCallback on_exit_;
  std::function<void()> on_closed_;
  uv_loop_t* loop_ = nullptr;
  void* console_ = nullptr;
  uv_pipe_t* input_ = nullptr;
  uv_pipe_t* output_ = nullptr;
  uv_async_t* exit_async_ = nullptr;
  HANDLE process_ = nullptr;
  HANDLE wait_ = nullptr;
  uint32_t pid_ = 0;
  int signal_sent_ = 0;
  bool exited_ = false;
  int closing_ = 0;
};

}  // namespace

std::unique_ptr<Child> spawn_conpty(uv_loop_t* loop, const std::vector<std::string>& argv,
                                    const std::vector<std::string>& env, const std::string& cwd,
                                    const TerminalSize& size, ExitCallback on_exit, ExitStatus& failure) {
  const ConPtyApi* api = conpty_api();
  if (api == nullptr) {
    failure = {ExitKind::CannotExecute, 126,
               "this Windows has no pseudo console (ConPTY needs Windows 10 1809 or later)"};
    return nullptr;
  }
  auto child = std::make_unique<ConPtyChild>(*api, std::move(on_exit));
  if (child->start(loop, argv, env, cwd, size, failure)) return child;
  ConPtyChild* orphan = child.release();  // its pipes and console close asynchronously
  orphan->close([orphan] { delete orphan; });
  return nullptr;
}

}  // namespace hvterm::platform::detail
