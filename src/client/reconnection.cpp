#include "client/reconnection.h"

#include <algorithm>

namespace hvterm {

Reconnection::Next Reconnection::failed(uint64_t now, bool nothing_listens, bool have_exit) {
  if (!nothing_listens) {
    nothing_listens_since_ms_ = 0;
  } else if (nothing_listens_since_ms_ == 0) {
    nothing_listens_since_ms_ = now;
  } else if (now - nothing_listens_since_ms_ >= limits_.agent_gone_ms && !have_exit) {
    // Sessions live in the agent's process: when its socket stays dead, so are they. Not at once:
    // the socket may be a relay to a VM's agent, restarting.
    return Next{Verdict::AgentGone};
  }
  bool say = !said_unreachable_ && !have_exit;
  uint64_t left = 0;
  if (say) {
    said_unreachable_ = true;
    uint64_t waited = lost_at_ms_ == 0 ? 0 : now - lost_at_ms_;
    left = limits_.give_up_ms > waited ? limits_.give_up_ms - waited : 0;
    if (nothing_listens) left = std::min(left, limits_.agent_gone_ms);
  }
  Next next = schedule(now, have_exit);
  next.say_unreachable = say;
  next.retrying_for_ms = left;
  return next;
}

Reconnection::Next Reconnection::schedule(uint64_t now, bool have_exit) {
  if (lost_at_ms_ == 0) lost_at_ms_ = now;
  if (have_exit && now - lost_at_ms_ > limits_.collect_ms) return Next{Verdict::Done};
  if (now - lost_at_ms_ > limits_.give_up_ms) return Next{Verdict::GiveUp};
  Next next{Verdict::Retry, delay_ms_, attempts_ + 1};
  delay_ms_ = std::min(delay_ms_ * 2, limits_.max_delay_ms);
  return next;
}

void Reconnection::bound() {
  lost_at_ms_ = 0;
  nothing_listens_since_ms_ = 0;
  said_unreachable_ = false;
  delay_ms_ = limits_.first_delay_ms;
  attempts_ = 0;
  early_cuts_ = 0;
}

}  // namespace hvterm
