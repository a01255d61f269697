#include "transport/end_of_turn.h"

namespace hvterm {

struct EndOfTurn::Handles {
  uv_check_t after_io{};
  uv_idle_t before_wait{};
  std::function<void()> fn;
  bool armed = false;
  int open = 2;

  void fire() {
    disarm();
    fn();  // may re-arm, or destroy the owner (the handles outlive it until closed)
  }
  void disarm() {
    if (!armed) return;
    armed = false;
    uv_check_stop(&after_io);
    uv_idle_stop(&before_wait);
  }
};

EndOfTurn::EndOfTurn(uv_loop_t* loop, std::function<void()> fn) : handles_(new Handles) {
  handles_->fn = std::move(fn);
  uv_check_init(loop, &handles_->after_io);
  uv_idle_init(loop, &handles_->before_wait);
  handles_->after_io.data = handles_;
  handles_->before_wait.data = handles_;
}

EndOfTurn::~EndOfTurn() {
  handles_->disarm();
  auto closed = [](uv_handle_t* h) {
    auto* handles = static_cast<Handles*>(h->data);
    if (--handles->open == 0) delete handles;
  };
  uv_close(reinterpret_cast<uv_handle_t*>(&handles_->after_io), closed);
  uv_close(reinterpret_cast<uv_handle_t*>(&handles_->before_wait), closed);
}

void EndOfTurn::arm() {
  if (handles_->armed) return;
  handles_->armed = true;
  uv_check_start(&handles_->after_io, [](uv_check_t* h) { static_cast<Handles*>(h->data)->fire(); });
  uv_idle_start(&handles_->before_wait, [](uv_idle_t* h) { static_cast<Handles*>(h->data)->fire(); });
}

void EndOfTurn::disarm() { handles_->disarm(); }

bool EndOfTurn::armed() const { return handles_->armed; }

}  // namespace hvterm
