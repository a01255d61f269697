#include "client/binding.h"

namespace hvterm {

void Binding::connecting() { phase_ = Phase::Connecting; }

void Binding::connected() { phase_ = Phase::Hello; }

Binding::Route Binding::route(wire::FrameType type) const {
  using T = wire::FrameType;
  if (type == T::Error) return Route::Error;  // in any phase: it ends the run
  switch (phase_) {
    case Phase::Hello: return type == T::Hello ? Route::Hello : Route::Malformed;
    case Phase::Request:
      if (type == T::Exit) return Route::Exit;  // the command could not even start
      return type == T::Session ? Route::Session : Route::Malformed;
    case Phase::Bound:
      switch (type) {
        case T::Data: return Route::Data;
        case T::Eof: return Route::Eof;
        case T::Ack: return Route::Ack;
        case T::Exit: return Route::Exit;
        case T::Pong: return Route::Ignore;
        case T::WindowSize: return (capabilities_ & wire::kCapViewers) != 0 ? Route::SessionSize : Route::Malformed;
        default: return Route::Malformed;
      }
    case Phase::Collecting:
      // Anything else was under way when COLLECT went out (an ACK, a PONG).
      return type == T::Ok ? Route::Collected : Route::Ignore;
    case Phase::Idle:
    case Phase::Connecting:
    case Phase::Waiting:
    case Phase::Done: return Route::Ignore;
  }
  return Route::Ignore;
}

Binding::Ask Binding::hello_answered(uint32_t capabilities) {
  capabilities_ = capabilities;
  phase_ = Phase::Request;
  if (resumable() && viewer()) {
    // A viewer's streams are not kept for it: it joins again (the session's client may have gone
    // meanwhile: then it becomes the client, unless it only watches).
    return Ask{Ask::Kind::Attach, id_, false, false, role_ == wire::AttachRole::ReadOnlyViewer};
  }
  if (resumable() || options_.attach) {
    // In doubt: a resume from 0 of the session our OPEN may have started.
    if (resumable()) return Ask{Ask::Kind::Attach, id_, true};
    bool sharing = (capabilities & wire::kCapViewers) != 0;
    // An agent that cannot share takes the session from whoever shows it: only when asked to.
    if (!sharing && (options_.read_only || (options_.shared && !options_.take))) return Ask{Ask::Kind::TooOldToShare};
    return Ask{Ask::Kind::Attach, options_.attach_id, false, options_.take && sharing, options_.read_only};
  }
  bool connection = wire::carries_socket(options_.mode);
  constexpr uint32_t kConnecting = wire::kCapConnect | wire::kCapOpenId;
  if (connection && (capabilities & kConnecting) != kConnecting) return Ask{Ask::Kind::TooOldToConnect};
  if (options_.mode == wire::SessionMode::Listen && (capabilities & wire::kCapListen) == 0)
    return Ask{Ask::Kind::TooOldToListen};
  if (options_.named && (capabilities & wire::kCapNames) == 0) return Ask{Ask::Kind::TooOldToName};
  constexpr uint32_t kCopying = wire::kCapCopy | wire::kCapOpenId;
  bool copy = options_.mode == wire::SessionMode::Copy;
  if (copy && (capabilities & kCopying) != kCopying) return Ask{Ask::Kind::TooOldToCopy};
  if (copy && options_.resume_copy && (capabilities & wire::kCapCopyResume) == 0) return Ask{Ask::Kind::TooOldToResume};
  if ((capabilities & wire::kCapOpenId) != 0 && open_id_ == wire::SessionId{}) open_id_ = options_.fresh_id;
  id_ = open_id_;
  if ((connection || copy || options_.named) && open_id_ == wire::SessionId{}) return Ask{Ask::Kind::NoId};
  return Ask{Ask::Kind::Open, open_id_};
}

Binding::Answer Binding::session_answered(const wire::SessionId& id, wire::AttachRole role) {
  if (bound_ && viewer()) {
    if (id != id_) return Answer::Mismatch;
    role_ = role;
    return Answer::Rejoined;
  }
  if (bound_) return id == id_ ? Answer::Resumed : Answer::Mismatch;
  role_ = role;
  if (open_with_id() && id != open_id_) return Answer::NotOurs;
  bool found = open_in_doubt_;
  open_in_doubt_ = false;
  id_ = id;
  bound_ = true;
  return found ? Answer::Found : Answer::New;
}

void Binding::bound() { phase_ = Phase::Bound; }

Binding::Exited Binding::exited(const wire::Exit& exit) {
  has_exit_ = true;
  Exited exited;
  switch (exit.kind) {  // as a shell reports its commands
    case wire::ExitKind::Exited: exited.code = exit.code & 0xFF; break;
    case wire::ExitKind::Signaled: exited.code = 128 + exit.code; break;
    case wire::ExitKind::NotFound: exited.code = 127; break;
    case wire::ExitKind::CannotExecute: exited.code = 126; break;
    case wire::ExitKind::ConnectionFailed: exited.code = 255; break;
  }
  exited.end_now = !bound_ && (exit.kind == wire::ExitKind::NotFound || exit.kind == wire::ExitKind::CannotExecute);
  return exited;
}

Binding::OnError Binding::error(wire::ErrorCode code) const {
  // A COLLECT repeated after its OK was lost finds the session gone already.
  if (has_exit_) return OnError::AfterExit;
  switch (code) {
    case wire::ErrorCode::TakenOver: return OnError::TakenOver;
    case wire::ErrorCode::NoSuchSession:
      return open_in_doubt_ ? OnError::NeverStarted : bound_ ? OnError::Gone : OnError::Refused;
    default: return OnError::Failed;
  }
}

Binding::AfterLoss Binding::lost(bool in_outage) {
  if (phase_ == Phase::Done) return AfterLoss::Nothing;
  Phase was = phase_;
  // Our OPEN may have started the session: find out, rather than orphan it.
  if (!bound_ && was == Phase::Request && open_with_id()) open_in_doubt_ = true;
  if (!resumable()) {
    // Cut before anything that could start a session reached the agent (or, for ATTACH, before an
    // answer that changes nothing if asked again): connect again, as after any cut.
    bool harmless = was == Phase::Hello || (was == Phase::Request && options_.attach);
    if (!harmless || !options_.reconnect) return AfterLoss::End;
    phase_ = Phase::Waiting;
    return AfterLoss::CutEarly;
  }
  if (!options_.reconnect) return open_in_doubt_ ? AfterLoss::EndInDoubt : AfterLoss::EndLeaving;
  phase_ = Phase::Waiting;
  if (was == Phase::Bound || was == Phase::Collecting || (open_in_doubt_ && !in_outage)) return AfterLoss::Reconnect;
  return AfterLoss::AttemptFailed;
}

Binding::AfterLoss Binding::connect_failed() {
  if (phase_ == Phase::Done) return AfterLoss::Nothing;
  if (!resumable()) return AfterLoss::End;
  phase_ = Phase::Waiting;
  return AfterLoss::AttemptFailed;
}

bool Binding::collect_sent() {
  // Without an OK to wait for, a COLLECT lost with the connection leaves the session behind for the
  // linger time; with one, an unanswered COLLECT is sent again on a new connection.
  if ((capabilities_ & wire::kCapCollectOk) == 0) return false;
  phase_ = Phase::Collecting;
  return true;
}

bool Binding::end() {
  if (phase_ == Phase::Done) return false;
  phase_ = Phase::Done;
  return true;
}

}  // namespace hvterm
