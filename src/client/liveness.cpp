#include "client/liveness.h"

namespace hvterm {

void Liveness::enter(Stage stage, uint64_t now) {
  if (stage == Stage::Answer) {
    last_heard_ms_ = now;
    said_silent_ = false;
  }
  stage_ = stage;
  stage_started_ms_ = now;
}

bool Liveness::heard(uint64_t now) {
  last_heard_ms_ = now;
  bool was_silent = said_silent_;
  said_silent_ = false;
  return was_silent;
}

Liveness::Actions Liveness::tick(uint64_t now) {
  Actions actions;
  uint64_t in_stage = now - stage_started_ms_;
  switch (stage_) {
    case Stage::None: return actions;
    case Stage::Answer:
      if (in_stage > limits_.answer_ms) actions.drop = Drop::Unanswered;
      return actions;
    case Stage::Collect:
      if (in_stage > limits_.collect_ms) actions.drop = Drop::CollectUnanswered;
      return actions;
    case Stage::Bound: break;
  }
  uint64_t silent = silent_ms(now);
  if (silent >= limits_.dead_ms) {
    actions.drop = Drop::Silent;
    return actions;
  }
  if (silent >= limits_.notice_ms && !said_silent_) {
    said_silent_ = true;
    actions.say_not_responding = true;
  }
  actions.ping = silent >= limits_.keepalive_ms;  // on every tick while silent: one lost PING is no end
  return actions;
}

}  // namespace hvterm
