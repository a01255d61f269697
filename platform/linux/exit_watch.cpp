// A child's exit through its pidfd: readable once the child has exited, then reaped with
// waitid(P_PIDFD) on that child alone.
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <utility>

#include "platform/posix/internal.h"

namespace hvterm::platform::detail {
namespace {

class PidfdWatch final : public ExitWatch {
 public:
  PidfdWatch(int pidfd, std::function<void(int64_t, int)> on_exit) : pidfd_(pidfd), on_exit_(std::move(on_exit)) {
    poll_.data = this;
  }

  bool start(uv_loop_t* loop) {
    if (uv_poll_init(loop, &poll_, pidfd_) != 0) return false;
    initialised_ = true;
    return uv_poll_start(&poll_, UV_READABLE,
                         [](uv_poll_t* p, int, int) { static_cast<PidfdWatch*>(p->data)->on_readable(); }) == 0;
  }

  void close(std::function<void()> closed) override {
    closed_ = std::move(closed);
    if (!initialised_) return finish();
    uv_close(reinterpret_cast<uv_handle_t*>(&poll_),
             [](uv_handle_t* h) { static_cast<PidfdWatch*>(h->data)->finish(); });
  }

  ~PidfdWatch() override {
    if (pidfd_ >= 0) ::close(pidfd_);
  }

 private:
  void on_readable() {
    siginfo_t info{};
    int rc;
    do rc = waitid(P_PIDFD, static_cast<id_t>(pidfd_), &info, WEXITED | WNOHANG);
    while (rc < 0 && errno == EINTR);
    if (rc == 0 && info.si_pid == 0) return;  // not yet (a spurious wake-up): the poll stays
    uv_poll_stop(&poll_);
    auto done = std::move(on_exit_);
    if (!done) return;
    if (rc < 0)
      done(255, 0);  // reaped by someone else: the status is lost, but the child is gone
    else if (info.si_code == CLD_EXITED)
      done(info.si_status, 0);
    else
      done(0, info.si_status);  // CLD_KILLED or CLD_DUMPED: si_status is the signal
  }

  void finish() {
    auto closed = std::move(closed_);
    if (closed) closed();
  }

  int pidfd_;
  std::function<void(int64_t, int)> on_exit_;
  std::function<void()> closed_;
  uv_poll_t poll_{};
  bool initialised_ = false;
};

}  // namespace

std::unique_ptr<ExitWatch> watch_exit(uv_loop_t* loop, int pid, std::function<void(int64_t, int)> on_exit) {
  // The system call itself: glibc 2.36's <sys/pidfd.h> declares pidfd_open without C linkage.
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return nullptr;  // ENOSYS: a kernel before 5.3
  auto watch = std::make_unique<PidfdWatch>(pidfd, std::move(on_exit));
  if (!watch->start(loop)) {
    // Initialised but not watching: its handle must still be closed before it goes.
    PidfdWatch* orphan = watch.release();
    orphan->close([orphan] { delete orphan; });
    return nullptr;
  }
  return watch;
}

}  // namespace hvterm::platform::detail
