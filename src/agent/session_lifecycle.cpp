#include "agent/session_lifecycle.h"

namespace hvterm {

SessionLifecycle::Step SessionLifecycle::arm(Step step, Wait wait, uint64_t ms) {
  step.arm = wait;
  step.arm_ms = ms;
  step.disarm = false;
  waiting_ = wait;
  return step;
}

SessionLifecycle::Step SessionLifecycle::adopted() {
  if (removing_ || attached_ || terminating_) return {};
  return arm({}, Wait::Unclaimed, limits_.unclaimed_ms);
}

SessionLifecycle::Step SessionLifecycle::attached(bool another) {
  Step step;
  if (removing_) return step;
  step.take_over = another && attached_;
  attached_ = true;
  detached_at_ms_ = 0;
  // A client is here: neither the linger nor the unclaimed clock runs (a terminated session's
  // kill grace does: nobody attaches to it, the agent refuses).
  if (waiting_ == Wait::Linger || waiting_ == Wait::Unclaimed) {
    step.disarm = true;
    waiting_ = Wait::None;
  }
  return step;
}

SessionLifecycle::Step SessionLifecycle::detached(uint64_t now_ms, bool watched) {
  if (!attached_ || removing_) return {};
  attached_ = false;
  detached_at_ms_ = now_ms;
  // Collected: the client has everything and has gone; nothing is left to linger for.
  if (collected_) return removal_if_due({});
  if (watched) return {};
  return arm({}, Wait::Linger, limits_.linger_ms);
}

SessionLifecycle::Step SessionLifecycle::unwatched() {
  if (attached_ || removing_ || terminating_ || collected_ || waiting_ != Wait::None) return {};
  return arm({}, Wait::Linger, limits_.linger_ms);
}

SessionLifecycle::Step SessionLifecycle::exited() {
  if (exited_ || removing_) return {};
  exited_ = true;
  Step step;
  if (terminating_) step.end_output = true;  // the hang-up was for good: no trailing output is waited for
  if (waiting_ == Wait::KillGrace) {
    step.disarm = true;
    waiting_ = Wait::None;
  }
  return removal_if_due(step);
}

SessionLifecycle::Step SessionLifecycle::collected() {
  if (removing_) return {};
  collected_ = true;
  return removal_if_due({});
}

SessionLifecycle::Step SessionLifecycle::terminate() {
  if (removing_) return {};
  Step step;
  terminating_ = true;
  collected_ = true;  // nobody will collect it now
  if (attached_) {
    attached_ = false;
    step.drop_client = true;
  }
  if (!exited_) {
    step.hang_up = true;
    step.end_output = true;
    step = arm(step, Wait::KillGrace, limits_.kill_grace_ms);
  } else if (waiting_ != Wait::None) {
    step.disarm = true;
    waiting_ = Wait::None;
  }
  return removal_if_due(step);
}

SessionLifecycle::Step SessionLifecycle::expired() {
  Wait was = waiting_;
  waiting_ = Wait::None;
  if (removing_) return {};
  switch (was) {
    case Wait::None: return {};
    case Wait::Linger:
    case Wait::Unclaimed: return terminate();
    case Wait::KillGrace: {
      Step step;
      step.kill = !exited_;
      return step;
    }
  }
  return {};
}

SessionLifecycle::Step SessionLifecycle::removal_if_due(Step step) {
  if (removing_ || !collected_ || !exited_ || attached_) return step;
  removing_ = true;
  step.remove = true;
  step.arm = Wait::None;
  step.disarm = true;
  waiting_ = Wait::None;
  return step;
}

wire::SessionState SessionLifecycle::state() const {
  if (exited_) return wire::SessionState::Exited;
  return attached_ ? wire::SessionState::Attached : wire::SessionState::Detached;
}

}  // namespace hvterm
