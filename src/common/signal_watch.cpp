#include "common/signal_watch.h"

namespace hvterm {

void SignalWatch::start(uv_loop_t* loop, std::span<const int> signals, std::function<void(int)> fire) {
  for (int signum : signals) {
    auto* handle = new Handle{{}, fire};
    uv_signal_init(loop, &handle->signal);
    handle->signal.data = handle;
    handles_.push_back(handle);
    uv_signal_start(
        &handle->signal,
        [](uv_signal_t* s, int n) {
          // `fire` may close this very watch: it runs from a copy, as Timer's does.
          auto fire = static_cast<Handle*>(s->data)->fire;
          fire(n);
        },
        signum);
  }
}

void SignalWatch::close() {
  for (Handle* handle : handles_)
    uv_close(reinterpret_cast<uv_handle_t*>(&handle->signal),
             [](uv_handle_t* h) { delete static_cast<Handle*>(h->data); });
  handles_.clear();
}

}  // namespace hvterm
