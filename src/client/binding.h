#pragma once
// Binding: which session in the agent this client is bound to, and what each answer of the agent
// and each lost connection means for it. What it guarantees: a command an OPEN asked for runs at
// most once and is not orphaned (an OPEN whose answer was lost is never sent again: the client
// ATTACHes to the id it chose and learns whether the command started); a session that may be
// running is given up only when reconnecting is off (then the user is told how to attach); and
// the agent is told to forget a finished session (COLLECT) only once the client holds its exit
// status and every byte. Loop-free, like Liveness and Reconnection: SessionClient reports each
// event and does what the answer says; the unit tests drive every path.
#include <cstdint>

#include "protocol/wire.h"

namespace hvterm {

class Binding {
 public:
  struct Options {
    bool attach = false;                                // ATTACH an existing session instead of OPEN
    wire::SessionId attach_id{};                        // all zero: the most recently detached session
    wire::SessionMode mode = wire::SessionMode::Pipes;  // what an OPEN asks for
    wire::SessionId open_id{};                          // all zero: `fresh_id`, once the agent takes our ids
    wire::SessionId fresh_id{};  // random; all zero when none could be had (the agent then chooses)
    bool reconnect = true;       // false: --no-reconnect
    bool named = false;          // the OPEN names the session (-n): the agent must take names, and our id
    bool resume_copy = false;    // a copy with --resume: the agent must answer for partial files
    bool take = false;           // attach --take: be the session's client, whoever shows it
    bool read_only = false;      // attach --read-only: watch, never type
    bool shared = false;         // the session had a client when we looked it up (hvterm attach ID)
  };
  enum class Phase : uint8_t {
    Idle,        // nothing asked yet (what runs beside the session is starting)
    Connecting,  // a connect is under way
    Hello,       // HELLO sent, its answer awaited
    Request,     // OPEN or ATTACH sent, SESSION (or EXIT, or ERROR) awaited
    Bound,       // the session's frames flow
    Collecting,  // COLLECT sent, its OK awaited (agents with kCapCollectOk)
    Waiting,     // for the next connect
    Done,
  };
  // What a frame from the agent means in this phase: which handler it goes to, or none (Ignore: a
  // PONG, or what was under way when COLLECT went out; Malformed: the connection is given up).
  // Collected: the OK to our COLLECT: the agent has forgotten the session, the run is over.
  // SessionSize: the agent says what size the session's terminal has (kCapViewers).
  enum class Route : uint8_t { Ignore, Malformed, Error, Hello, Session, Exit, Data, Eof, Ack, Collected, SessionSize };
  // What the agent's answer to HELLO calls for.
  struct Ask {
    enum class Kind : uint8_t {
      Attach,           // send ATTACH for `id` (all zero: the most recent detached session)
      Open,             // send OPEN with `id` (all zero: the agent chooses)
      TooOldToConnect,  // the agent cannot open a connection in the guest: end, 255
      TooOldToListen,   // nor listen there: end, 255
      TooOldToName,     // the agent takes no session names: end, 255 (before anything starts)
      TooOldToCopy,     // nor copy files itself: end, 255
      TooOldToResume,   // nor resume partial files in a copy: end, 255
      TooOldToShare,    // nor let a second client show a session (to join or watch it): end, 255
      NoId,             // a connection, a copy or a name needs an id of ours, and none could be had
    };
    Kind kind = Kind::Open;
    wire::SessionId id{};
    bool resume = false;     // Attach: from the positions we hold (from 0 for the session our OPEN may have started)
    bool take = false;       // Attach, fresh: as Options::take
    bool read_only = false;  // Attach, fresh: as Options::read_only
  };
  // What the agent's SESSION answer is.
  enum class Answer : uint8_t {
    New,       // the session we opened or attached to: set up, then bound()
    Found,     // the session our OPEN started although its answer was lost: set up, then bound()
    Resumed,   // the session we were bound to, again: rewind to the agent's positions, then bound()
    Rejoined,  // the session we viewed, joined again: its streams start over (from the screen), then bound()
    Mismatch,  // resuming, the agent answered with another session: end, 255
    NotOurs,   // our OPEN named the session and the agent answered with another: end, 255
  };
  // What an ERROR from the agent means. Each ends the run.
  enum class OnError : uint8_t {
    AfterExit,     // we hold the exit status and every byte: it concerns only the clean-up; end with the status
    TakenOver,     // another client attached to the session: end, 255
    NeverStarted,  // no such session after our OPEN's answer was lost: the command did not start; end, 255
    Gone,          // the session we were bound to no longer exists: end, 255
    Refused,       // the agent's own words (no session to attach to, ...): end, 255
    Failed,        // any other error: end, 255
  };
  // What the program's exit status means: hvterm's own status, and whether to end now.
  struct Exited {
    int code = 255;
    bool end_now = false;  // it could not even start: no SESSION follows
  };
  // What a lost connection (or a failed connect) calls for.
  enum class AfterLoss : uint8_t {
    Nothing,        // the run is over already
    CutEarly,       // nothing could have started: connect again while Reconnection allows early cuts, else as End
    End,            // nothing to resume: say why the connection went, end, 255
    EndInDoubt,     // --no-reconnect with our OPEN unanswered: name the session it may have started; end, 255
    EndLeaving,     // --no-reconnect: the session may still run; say how to attach; end, 255
    Reconnect,      // the bound session (or our OPEN in doubt) lost its connection: an outage starts
    AttemptFailed,  // a reconnect got no further than the handshake: Reconnection counts it
  };

  explicit Binding(Options options) : options_(options), open_id_(options.open_id) {}

  void connecting();  // a connect starts
  void connected();   // and succeeded: HELLO went out
  Route route(wire::FrameType type) const;
  Ask hello_answered(uint32_t capabilities);
  Answer session_answered(const wire::SessionId& id, wire::AttachRole role = wire::AttachRole::Client);
  void bound();  // the session is set up: its frames flow
  Exited exited(const wire::Exit& exit);
  OnError error(wire::ErrorCode code) const;
  // The connection is gone (cut, given up, or a protocol error). `in_outage`: Reconnection is in
  // one already (the connection was itself a reconnect attempt).
  AfterLoss lost(bool in_outage);
  AfterLoss connect_failed();
  // The exit status is ours and the session bound: once our output is written, COLLECT is due.
  bool collect_due() const { return has_exit_ && phase_ == Phase::Bound; }
  // COLLECT went out. True: wait for the agent's OK; false: it sends none, the run is over.
  bool collect_sent();
  bool end();  // the run ends: true the first time

  Phase phase() const { return phase_; }
  bool idle() const { return phase_ == Phase::Idle; }
  bool is_bound() const { return phase_ == Phase::Bound; }
  bool waiting() const { return phase_ == Phase::Waiting; }
  bool done() const { return phase_ == Phase::Done; }
  bool has_exit() const { return has_exit_; }
  // A session exists, or our OPEN may have started one: it is resumed, not asked for again.
  bool resumable() const { return bound_ || open_in_doubt_; }
  // Once a session exists, a vanished local agent means the session is gone: no new agent is started.
  bool may_start_agent() const { return !resumable(); }
  // A session may run in the agent: a signal waits for it (as during a reconnect) instead of ending the run.
  bool may_run() const { return resumable() || (phase_ == Phase::Request && open_with_id()); }
  const wire::SessionId& id() const { return id_; }
  const wire::SessionId& open_id() const { return open_id_; }
  wire::AttachRole role() const { return role_; }
  bool viewer() const { return role_ != wire::AttachRole::Client; }

 private:
  // Our OPEN names the session: a lost answer can be looked up.
  bool open_with_id() const { return !options_.attach && open_id_ != wire::SessionId{}; }

  Options options_;
  Phase phase_ = Phase::Idle;
  wire::SessionId open_id_;
  wire::SessionId id_{};
  uint32_t capabilities_ = 0;  // the agent's, from its HELLO
  bool bound_ = false;         // a SESSION answered: there is a session to resume
  // OPEN (with our id) went out and the connection dropped before the answer: the agent may or may
  // not have started the session. Reconnecting ATTACHes to that id to find out.
  bool open_in_doubt_ = false;
  bool has_exit_ = false;
  wire::AttachRole role_ = wire::AttachRole::Client;  // what the last SESSION made us
};

}  // namespace hvterm
