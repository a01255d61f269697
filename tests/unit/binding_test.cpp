// Binding (client/binding.h): what the client asks the agent on each connection, what each answer
// and each lost connection means (the OPEN whose answer was lost, the early cut, takeover, EXIT
// before SESSION, --no-reconnect), and when COLLECT is due.
#include <doctest/doctest.h>

#include <initializer_list>
#include <utility>

#include "client/binding.h"
#include "client/reconnection.h"

using namespace hvterm;
using Ask = Binding::Ask;
using Answer = Binding::Answer;
using AfterLoss = Binding::AfterLoss;
using OnError = Binding::OnError;
using Phase = Binding::Phase;
using Route = Binding::Route;
using T = wire::FrameType;

namespace {
constexpr uint32_t kAgent = wire::kCapResume | wire::kCapOpenId | wire::kCapCollectOk | wire::kCapConnect |
                            wire::kCapListen;
constexpr uint32_t kOldAgent = wire::kCapResume;  // takes no ids, sends no OK to COLLECT, opens no connections

wire::SessionId id_of(uint8_t byte) {
  wire::SessionId id;
  id.fill(byte);
  return id;
}
const wire::SessionId kFresh = id_of(0x11);
const wire::SessionId kNone{};

Binding::Options open_options() {
  Binding::Options o;
  o.fresh_id = kFresh;
  return o;
}

Binding::Options attach_options(const wire::SessionId& id) {
  Binding::Options o;
  o.attach = true;
  o.attach_id = id;
  return o;
}

Binding::Ask handshake(Binding& b, uint32_t capabilities = kAgent) {
  b.connecting();
  CHECK(b.phase() == Phase::Connecting);
  b.connected();
  CHECK(b.phase() == Phase::Hello);
  Ask ask = b.hello_answered(capabilities);
  CHECK(b.phase() == Phase::Request);
  return ask;
}

// A command opened with our id, its SESSION answered and set up.
Binding bound_session(Binding::Options o = open_options()) {
  Binding b(o);
  handshake(b);
  CHECK(b.session_answered(kFresh) == Answer::New);
  b.bound();
  return b;
}

wire::Exit exit_of(wire::ExitKind kind, int32_t code) {
  wire::Exit exit;
  exit.kind = kind;
  exit.code = code;
  return exit;
}
}  // namespace

TEST_CASE("Binding: an OPEN carries an id of ours once the agent takes ids, and its SESSION binds it") {
  Binding b(open_options());
  CHECK(b.idle());
  CHECK(b.may_start_agent());
  CHECK_FALSE(b.may_run());
  Ask ask = handshake(b);
  CHECK_FALSE(b.idle());
  CHECK(ask.kind == Ask::Kind::Open);
  CHECK(ask.id == kFresh);
  CHECK(b.id() == kFresh);
  CHECK(b.may_run());  // the OPEN is out: the command may be running
  CHECK_FALSE(b.resumable());

  CHECK(b.session_answered(kFresh) == Answer::New);
  CHECK(b.resumable());
  CHECK_FALSE(b.may_start_agent());  // a vanished local agent took the session with it
  CHECK_FALSE(b.is_bound());         // not before it is set up
  b.bound();
  CHECK(b.is_bound());
  CHECK(b.phase() == Phase::Bound);
}

TEST_CASE("Binding: an agent that takes no ids chooses one; a lost answer then leaves nothing to look up") {
  Binding b(open_options());
  Ask ask = handshake(b, kOldAgent);
  CHECK(ask.kind == Ask::Kind::Open);
  CHECK(ask.id == kNone);
  CHECK_FALSE(b.may_run());  // nothing to find a session by: a signal ends the run
  CHECK(b.lost(false) == AfterLoss::End);

  Binding answered(open_options());
  handshake(answered, kOldAgent);
  CHECK(answered.session_answered(id_of(0x22)) == Answer::New);  // whatever it chose
  CHECK(answered.id() == id_of(0x22));

  Binding no_random(Binding::Options{});  // no fresh id could be had: the agent chooses too
  CHECK(handshake(no_random).id == kNone);
  CHECK(no_random.lost(false) == AfterLoss::End);
}

TEST_CASE("Binding: an id the caller chose is sent, and a SESSION with another id is not ours") {
  auto o = open_options();
  o.open_id = id_of(0x33);
  Binding b(o);
  Ask ask = handshake(b, kOldAgent);
  CHECK(ask.kind == Ask::Kind::Open);
  CHECK(ask.id == id_of(0x33));
  CHECK(b.session_answered(id_of(0x44)) == Answer::NotOurs);
  CHECK(b.id() == id_of(0x33));  // the messages name ours
  CHECK_FALSE(b.resumable());
}

TEST_CASE("Binding: connections and listeners need an agent that can make them, and an id of ours") {
  auto connection = open_options();
  connection.mode = wire::SessionMode::Connection;
  Binding b(connection);
  CHECK(handshake(b, wire::kCapConnect).kind == Ask::Kind::TooOldToConnect);  // no ids
  Binding b2(connection);
  CHECK(handshake(b2, wire::kCapOpenId).kind == Ask::Kind::TooOldToConnect);  // no connections
  Binding b3(connection);
  CHECK(handshake(b3).kind == Ask::Kind::Open);

  connection.fresh_id = kNone;
  Binding no_id(connection);
  CHECK(handshake(no_id).kind == Ask::Kind::NoId);

  auto listener = open_options();
  listener.mode = wire::SessionMode::Listen;
  Binding l(listener);
  CHECK(handshake(l, kAgent & ~wire::kCapListen).kind == Ask::Kind::TooOldToListen);
  Binding l2(listener);
  CHECK(handshake(l2).kind == Ask::Kind::Open);
}

TEST_CASE("Binding: a named session needs an agent that takes names, and an id of ours to carry it") {
  auto named = open_options();
  named.named = true;
  Binding old(named);
  CHECK(handshake(old, kAgent).kind == Ask::Kind::TooOldToName);  // kAgent: before names
  Binding b(named);
  Ask ask = handshake(b, kAgent | wire::kCapNames);
  CHECK(ask.kind == Ask::Kind::Open);
  CHECK(ask.id == kFresh);
  named.fresh_id = kNone;
  Binding no_id(named);
  CHECK(handshake(no_id, kAgent | wire::kCapNames).kind == Ask::Kind::NoId);
  Binding unnamed(open_options());  // without a name, the old agent is fine
  CHECK(handshake(unnamed, kAgent).kind == Ask::Kind::Open);
}

TEST_CASE("Binding: ATTACH asks for the session named, or the most recent detached one") {
  Binding b(attach_options(id_of(0x55)));
  CHECK_FALSE(b.may_run());
  Ask ask = handshake(b);
  CHECK(ask.kind == Ask::Kind::Attach);
  CHECK(ask.id == id_of(0x55));
  CHECK_FALSE(ask.resume);
  CHECK_FALSE(b.may_run());  // an ATTACH starts nothing: a signal ends the run
  CHECK(b.session_answered(id_of(0x55)) == Answer::New);
  CHECK(b.id() == id_of(0x55));

  Binding recent(attach_options(kNone));
  Ask most_recent = handshake(recent);
  CHECK(most_recent.kind == Ask::Kind::Attach);
  CHECK(most_recent.id == kNone);
  CHECK(recent.session_answered(id_of(0x66)) == Answer::New);  // the agent picked it
  CHECK(recent.id() == id_of(0x66));
  recent.bound();
  CHECK(recent.lost(false) == AfterLoss::Reconnect);
  Ask resume = handshake(recent);
  CHECK(resume.id == id_of(0x66));  // the same one again, not the most recent by then
  CHECK(resume.resume);
}

TEST_CASE("Binding: an ATTACH starts nothing, whatever id the options hold for an OPEN") {
  auto o = attach_options(id_of(0x55));
  o.open_id = id_of(0x33);
  Binding b(o);
  handshake(b);
  CHECK_FALSE(b.may_run());
  CHECK(b.lost(false) == AfterLoss::CutEarly);  // not in doubt: asked again
  CHECK_FALSE(b.resumable());
  handshake(b);
  CHECK(b.session_answered(id_of(0x55)) == Answer::New);
}

TEST_CASE("Binding: the OPEN's answer lost, the ATTACH on reconnecting finds the session it started") {
  Binding b(open_options());
  handshake(b);
  CHECK(b.lost(false) == AfterLoss::Reconnect);  // not a reason to give up, nor to OPEN again
  CHECK(b.waiting());
  CHECK(b.resumable());
  CHECK(b.may_run());                // ^C waits for the session and goes to it
  CHECK_FALSE(b.may_start_agent());  // a new local agent would not have it

  Ask ask = handshake(b);
  CHECK(ask.kind == Ask::Kind::Attach);
  CHECK(ask.id == kFresh);
  CHECK(ask.resume);  // from 0: everything it printed is still to come
  CHECK(b.session_answered(kFresh) == Answer::Found);
  b.bound();
  CHECK(b.is_bound());

  // From here on it is a session like any other: a later cut resumes it.
  CHECK(b.lost(false) == AfterLoss::Reconnect);
  handshake(b);
  CHECK(b.session_answered(kFresh) == Answer::Resumed);
}

TEST_CASE("Binding: the OPEN's answer lost, no such session on the ATTACH means the command never started") {
  Binding b(open_options());
  handshake(b);
  CHECK(b.lost(false) == AfterLoss::Reconnect);
  handshake(b);
  CHECK(b.error(wire::ErrorCode::NoSuchSession) == OnError::NeverStarted);
}

TEST_CASE("Binding: while the OPEN is in doubt, a reconnect cut before its answer is a failed attempt") {
  Binding b(open_options());
  handshake(b);
  CHECK(b.lost(false) == AfterLoss::Reconnect);
  b.connecting();
  CHECK(b.connect_failed() == AfterLoss::AttemptFailed);  // nothing listens yet: keep trying
  CHECK(b.waiting());
  b.connecting();
  b.connected();
  CHECK(b.lost(true) == AfterLoss::AttemptFailed);  // cut during the handshake
  handshake(b);
  CHECK(b.lost(true) == AfterLoss::AttemptFailed);  // cut after the ATTACH
  CHECK(b.resumable());
  handshake(b);
  CHECK(b.session_answered(kFresh) == Answer::Found);

  // The OPEN itself went out on a connection made after an early cut (Reconnection's outage runs
  // since then): its loss is one more failed attempt of that outage.
  Binding late(open_options());
  late.connecting();
  late.connected();
  CHECK(late.lost(false) == AfterLoss::CutEarly);
  handshake(late);
  CHECK(late.lost(true) == AfterLoss::AttemptFailed);
  CHECK(late.resumable());
}

TEST_CASE("Binding: a cut before the agent answered HELLO is connected again, while Reconnection allows") {
  Reconnection::Limits limits;
  limits.early_cuts = 3;
  Reconnection reconnection(limits);
  Binding b(open_options());
  for (int i = 0; i < 3; ++i) {
    b.connecting();
    b.connected();
    CHECK(b.lost(reconnection.in_outage()) == AfterLoss::CutEarly);
    CHECK(b.waiting());
    CHECK(reconnection.early_cut());  // SessionClient connects again
    reconnection.schedule(1000, b.has_exit());
  }
  b.connecting();
  b.connected();
  CHECK(b.lost(reconnection.in_outage()) == AfterLoss::CutEarly);
  CHECK_FALSE(reconnection.early_cut());  // the fourth cut in a row: a peer that closes every connection
  CHECK_FALSE(b.resumable());
  CHECK(b.end());

  // One that got through sends its OPEN once, on the connection that was answered.
  Binding through(open_options());
  through.connecting();
  through.connected();
  CHECK(through.lost(false) == AfterLoss::CutEarly);
  Ask ask = handshake(through);
  CHECK(ask.kind == Ask::Kind::Open);
  CHECK(ask.id == kFresh);
}

TEST_CASE("Binding: a cut after an ATTACH is harmless; after an OPEN the agent could not be asked about, final") {
  Binding by_id(attach_options(id_of(0x55)));
  handshake(by_id);
  CHECK(by_id.lost(false) == AfterLoss::CutEarly);
  Ask again = handshake(by_id);
  CHECK(again.kind == Ask::Kind::Attach);
  CHECK(again.id == id_of(0x55));
  CHECK_FALSE(again.resume);

  Binding recent(attach_options(kNone));
  handshake(recent);
  CHECK(recent.lost(false) == AfterLoss::CutEarly);

  Binding old(open_options());
  handshake(old, kOldAgent);
  CHECK(old.lost(false) == AfterLoss::End);  // it may have started a session nobody can find
}

TEST_CASE("Binding: --no-reconnect ends on any loss, naming the session that may run") {
  auto o = open_options();
  o.reconnect = false;

  Binding early(o);
  early.connecting();
  early.connected();
  CHECK(early.lost(false) == AfterLoss::End);  // no early cut is retried either

  Binding doubt(o);
  handshake(doubt);
  CHECK(doubt.lost(false) == AfterLoss::EndInDoubt);
  CHECK(doubt.id() == kFresh);  // the session to attach to, if it started

  Binding bound = bound_session(o);
  CHECK(bound.lost(false) == AfterLoss::EndLeaving);

  Binding collecting = bound_session(o);
  collecting.exited(exit_of(wire::ExitKind::Exited, 0));
  CHECK(collecting.collect_sent());
  CHECK(collecting.lost(false) == AfterLoss::EndLeaving);
}

TEST_CASE("Binding: a bound session's loss starts an outage; attempts that fail before SESSION count as such") {
  Binding b = bound_session();
  CHECK(b.lost(false) == AfterLoss::Reconnect);
  CHECK(b.waiting());
  CHECK(b.may_run());
  b.connecting();
  CHECK(b.connect_failed() == AfterLoss::AttemptFailed);
  b.connecting();
  b.connected();
  CHECK(b.lost(true) == AfterLoss::AttemptFailed);  // cut before HELLO was answered
  Ask ask = handshake(b);
  CHECK(ask.kind == Ask::Kind::Attach);
  CHECK(ask.id == kFresh);
  CHECK(ask.resume);
  CHECK(b.lost(true) == AfterLoss::AttemptFailed);  // and before the SESSION
  handshake(b);
  CHECK(b.session_answered(kFresh) == Answer::Resumed);
  CHECK_FALSE(b.is_bound());
  b.bound();
  CHECK(b.is_bound());
}

TEST_CASE("Binding: a resume answered for another session is a mismatch") {
  Binding b = bound_session();
  b.lost(false);
  handshake(b);
  CHECK(b.session_answered(id_of(0x77)) == Answer::Mismatch);
  CHECK(b.id() == kFresh);
}

TEST_CASE("Binding: the exit status makes COLLECT due once bound; the agent's OK ends the run") {
  Binding b = bound_session();
  CHECK_FALSE(b.collect_due());
  CHECK_FALSE(b.has_exit());
  auto exited = b.exited(exit_of(wire::ExitKind::Exited, 3));
  CHECK(exited.code == 3);
  CHECK_FALSE(exited.end_now);  // the output may still be on its way
  CHECK(b.has_exit());
  CHECK(b.collect_due());
  CHECK(b.collect_sent());  // the agent sends OK: wait for it
  CHECK(b.phase() == Phase::Collecting);
  CHECK_FALSE(b.collect_due());             // sent once a connection
  CHECK(b.route(T::Ack) == Route::Ignore);  // under way when COLLECT went out
  CHECK(b.route(T::Pong) == Route::Ignore);
  CHECK(b.route(T::Data) == Route::Ignore);
  CHECK(b.route(T::Ok) == Route::Collected);
  // An error now concerns only the clean-up (a repeated COLLECT finding the session gone).
  CHECK(b.error(wire::ErrorCode::NoSuchSession) == OnError::AfterExit);
  CHECK(b.error(wire::ErrorCode::TakenOver) == OnError::AfterExit);
}

TEST_CASE("Binding: a cut after the exit status, with output still to write, collects on the resumed session") {
  Binding b = bound_session();
  b.exited(exit_of(wire::ExitKind::Exited, 9));
  CHECK(b.collect_due());  // SessionClient waits for its writes before it sends COLLECT
  CHECK(b.lost(false) == AfterLoss::Reconnect);
  CHECK_FALSE(b.collect_due());
  handshake(b);
  CHECK_FALSE(b.collect_due());
  CHECK(b.session_answered(kFresh) == Answer::Resumed);
  b.bound();
  CHECK(b.collect_due());
}

TEST_CASE("Binding: a cut during COLLECT reconnects, resumes and collects again") {
  Binding b = bound_session();
  b.exited(exit_of(wire::ExitKind::Signaled, 15));
  CHECK(b.collect_sent());
  CHECK(b.lost(false) == AfterLoss::Reconnect);
  CHECK(b.has_exit());  // reconnecting only to collect
  Ask ask = handshake(b);
  CHECK(ask.kind == Ask::Kind::Attach);
  CHECK(ask.resume);
  CHECK(b.session_answered(kFresh) == Answer::Resumed);
  b.bound();
  CHECK(b.collect_due());
  CHECK(b.collect_sent());
  // The first COLLECT did arrive after all: the agent has forgotten the session.
  CHECK(b.error(wire::ErrorCode::NoSuchSession) == OnError::AfterExit);
}

TEST_CASE("Binding: an agent that sends no OK to COLLECT: the run is over once COLLECT is out") {
  Binding b(open_options());
  handshake(b, kOldAgent | wire::kCapOpenId);
  b.session_answered(kFresh);
  b.bound();
  b.exited(exit_of(wire::ExitKind::Exited, 0));
  CHECK(b.collect_due());
  CHECK_FALSE(b.collect_sent());
  CHECK(b.is_bound());
}

TEST_CASE("Binding: takeover and the agent's other errors end the run, each said its own way") {
  Binding b = bound_session();
  CHECK(b.route(T::Error) == Route::Error);
  CHECK(b.error(wire::ErrorCode::TakenOver) == OnError::TakenOver);
  CHECK(b.error(wire::ErrorCode::NoSuchSession) == OnError::Gone);
  CHECK(b.error(wire::ErrorCode::Internal) == OnError::Failed);

  Binding attach(attach_options(id_of(0x55)));
  handshake(attach);
  CHECK(attach.error(wire::ErrorCode::NoSuchSession) == OnError::Refused);  // the agent's words
  CHECK(attach.error(wire::ErrorCode::TakenOver) == OnError::TakenOver);

  Binding open(open_options());
  handshake(open);
  CHECK(open.error(wire::ErrorCode::Limit) == OnError::Failed);
  CHECK(open.error(wire::ErrorCode::NoSuchSession) == OnError::Refused);  // the OPEN was answered: no doubt
}

TEST_CASE("Binding: EXIT before SESSION: a command not found or not executable ends the run at once") {
  Binding not_found(open_options());
  handshake(not_found);
  CHECK(not_found.route(T::Exit) == Route::Exit);
  auto exited = not_found.exited(exit_of(wire::ExitKind::NotFound, 0));
  CHECK(exited.code == 127);
  CHECK(exited.end_now);

  Binding cannot(open_options());
  handshake(cannot);
  exited = cannot.exited(exit_of(wire::ExitKind::CannotExecute, 0));
  CHECK(exited.code == 126);
  CHECK(exited.end_now);

  // Once bound, its output comes first: the end waits for COLLECT.
  Binding bound = bound_session();
  exited = bound.exited(exit_of(wire::ExitKind::NotFound, 0));
  CHECK(exited.code == 127);
  CHECK_FALSE(exited.end_now);
  CHECK(bound.collect_due());
}

TEST_CASE("Binding: the program's exit status becomes hvterm's as a shell reports it") {
  Binding b = bound_session();
  CHECK(b.exited(exit_of(wire::ExitKind::Exited, 7)).code == 7);
  CHECK(b.exited(exit_of(wire::ExitKind::Exited, 300)).code == 44);  // the low 8 bits
  CHECK(b.exited(exit_of(wire::ExitKind::Signaled, 9)).code == 137);
  CHECK(b.exited(exit_of(wire::ExitKind::ConnectionFailed, 0)).code == 255);
  CHECK_FALSE(b.exited(exit_of(wire::ExitKind::ConnectionFailed, 0)).end_now);
}

TEST_CASE("Binding: frames go where their phase expects them; anything else is malformed or ignored") {
  auto routes = [](const Binding& b, std::initializer_list<std::pair<T, Route>> table) {
    for (const auto& entry : table) {  // not a structured binding: clang 14 cannot capture one (CAPTURE)
      int type = static_cast<int>(entry.first);
      CAPTURE(type);
      CHECK(b.route(entry.first) == entry.second);
    }
  };
  Binding b(open_options());
  routes(b, {{T::Hello, Route::Ignore}});  // idle: no connection
  b.connecting();
  routes(b, {{T::Session, Route::Ignore}});
  b.connected();
  routes(b, {{T::Hello, Route::Hello}, {T::Session, Route::Malformed}, {T::Error, Route::Error}});
  b.hello_answered(kAgent);
  routes(b, {{T::Session, Route::Session},
             {T::Exit, Route::Exit},
             {T::Data, Route::Malformed},
             {T::Hello, Route::Malformed},
             {T::Error, Route::Error}});
  b.session_answered(kFresh);
  routes(b, {{T::Data, Route::Malformed}});  // not set up yet
  b.bound();
  routes(b, {{T::Data, Route::Data},
             {T::Eof, Route::Eof},
             {T::Ack, Route::Ack},
             {T::Exit, Route::Exit},
             {T::Pong, Route::Ignore},
             {T::Session, Route::Malformed},
             {T::Ok, Route::Malformed},
             {T::Hello, Route::Malformed},
             {T::Error, Route::Error}});
  b.lost(false);
  routes(b, {{T::Data, Route::Ignore}});  // waiting: what is left of the old connection
  CHECK(b.end());
  routes(b, {{T::Data, Route::Ignore}, {T::Error, Route::Error}});
}

TEST_CASE("Binding: a failed first connect ends the run; the run ends once and then nothing counts") {
  Binding b(open_options());
  b.connecting();
  CHECK(b.connect_failed() == AfterLoss::End);
  CHECK(b.end());
  CHECK(b.done());
  CHECK_FALSE(b.end());
  CHECK(b.lost(false) == AfterLoss::Nothing);
  CHECK(b.connect_failed() == AfterLoss::Nothing);
  CHECK(b.done());

  Binding before_start(open_options());  // a signal, or what runs beside it failed, before the first connect
  CHECK(before_start.end());
  CHECK_FALSE(before_start.idle());  // its ready call connects nothing
}

TEST_CASE("Binding: a viewer whose connection is cut joins again rather than resume") {
  auto o = attach_options(id_of(0x55));
  o.read_only = true;
  Binding b(o);
  Ask ask = handshake(b, kAgent | wire::kCapViewers);
  CHECK(ask.kind == Ask::Kind::Attach);
  CHECK(ask.read_only);
  CHECK_FALSE(ask.take);
  CHECK(b.session_answered(id_of(0x55), wire::AttachRole::ReadOnlyViewer) == Answer::New);
  CHECK(b.viewer());
  b.bound();
  CHECK(b.route(T::WindowSize) == Route::SessionSize);  // the agent tells viewers the session's size
  CHECK(b.lost(false) == AfterLoss::Reconnect);
  Ask again = handshake(b, kAgent | wire::kCapViewers);
  CHECK(again.kind == Ask::Kind::Attach);
  CHECK(again.id == id_of(0x55));
  CHECK_FALSE(again.resume);  // the agent kept nothing for it
  CHECK(again.read_only);     // and it still only watches
  CHECK(b.session_answered(id_of(0x66), wire::AttachRole::ReadOnlyViewer) == Answer::Mismatch);
  CHECK(b.session_answered(id_of(0x55), wire::AttachRole::ReadOnlyViewer) == Answer::Rejoined);

  // A viewer that finds the session's client gone becomes the client: from then on it resumes.
  Binding joined(attach_options(id_of(0x55)));
  handshake(joined, kAgent | wire::kCapViewers);
  joined.session_answered(id_of(0x55), wire::AttachRole::Viewer);
  joined.bound();
  joined.lost(false);
  CHECK_FALSE(handshake(joined, kAgent | wire::kCapViewers).resume);
  CHECK(joined.session_answered(id_of(0x55), wire::AttachRole::Client) == Answer::Rejoined);
  CHECK_FALSE(joined.viewer());
  joined.bound();
  joined.lost(false);
  CHECK(handshake(joined, kAgent | wire::kCapViewers).resume);
}

TEST_CASE("Binding: an agent that cannot share a session is not asked to, and does not take it unasked") {
  auto watch = attach_options(id_of(0x55));
  watch.read_only = true;
  Binding watcher(watch);
  CHECK(handshake(watcher, kAgent).kind == Ask::Kind::TooOldToShare);

  auto shared = attach_options(id_of(0x55));
  shared.shared = true;  // the session had a client when hvterm looked it up
  Binding joiner(shared);
  CHECK(handshake(joiner, kAgent).kind == Ask::Kind::TooOldToShare);
  shared.take = true;
  Binding taker(shared);
  Ask take = handshake(taker, kAgent);
  CHECK(take.kind == Ask::Kind::Attach);
  CHECK_FALSE(take.take);  // such an agent takes it over anyway, and knows no flag for it
  Binding taker_now(shared);
  CHECK(handshake(taker_now, kAgent | wire::kCapViewers).take);

  Binding older(attach_options(id_of(0x55)));  // a detached session: an older agent is fine
  CHECK(handshake(older, kAgent).kind == Ask::Kind::Attach);
  older.session_answered(id_of(0x55));
  older.bound();
  CHECK(older.route(T::WindowSize) == Route::Malformed);  // never said by an agent that did not announce it
}
