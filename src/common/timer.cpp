#include "common/timer.h"

namespace hvterm {

void Timer::start(uv_loop_t* loop, uint64_t timeout_ms, uint64_t repeat_ms, std::function<void()> fire) {
  if (handle_ == nullptr) {
    handle_ = new Handle{};
    uv_timer_init(loop, &handle_->timer);
    handle_->timer.data = handle_;
  }
  handle_->fire = std::move(fire);
  uv_timer_start(
      &handle_->timer,
      [](uv_timer_t* t) {
        // `fire` may close or restart this very timer: it runs from a copy, so whatever it does to the
        // handle leaves the function that is running intact.
        auto fire = static_cast<Handle*>(t->data)->fire;
        fire();
      },
      timeout_ms, repeat_ms);
}

void Timer::again() {
  if (handle_ != nullptr) uv_timer_again(&handle_->timer);
}

void Timer::stop() {
  if (handle_ != nullptr) uv_timer_stop(&handle_->timer);
}

bool Timer::active() const {
  return handle_ != nullptr && uv_is_active(reinterpret_cast<const uv_handle_t*>(&handle_->timer)) != 0;
}

void Timer::unref() {
  if (handle_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(&handle_->timer));
}

void Timer::close() {
  if (handle_ == nullptr) return;
  uv_close(reinterpret_cast<uv_handle_t*>(&handle_->timer),
           [](uv_handle_t* h) { delete static_cast<Handle*>(h->data); });
  handle_ = nullptr;
}

}  // namespace hvterm
