#include "client/request.h"

#include <cctype>

#include "common/log.h"
#include "common/printable.h"
#include "common/units.h"
#include "protocol/validate.h"
#include "transport/framed_connection.h"

namespace hvterm {
namespace {

class Exchange final : public FramedConnection::Handler {
 public:
  Exchange(std::string token, std::string request, wire::FrameType last)
      : token_(std::move(token)), request_(std::move(request)), last_(last) {}

  void begin(uv_stream_t* stream, bool trace_frames) {
    conn_ = FramedConnection::create(stream, this);
    conn_->trace_frames(trace_frames);
    conn_->start();
    hello_sent_ns_ = uv_hrtime();
    wire::Hello hello;
    hello.capabilities = wire::kCapNames | wire::kCapKillRecipient | wire::kCapViewers;
    hello.software = std::string("hvterm ") + HVTERM_VERSION;
    hello.token = token_;
    conn_->send(wire::encode(hello));
  }

  void on_frame(wire::Frame& frame) override {
    if (frame.type == wire::FrameType::Error) {
      wire::ErrorMsg error;
      result.error = wire::decode(frame.payload.view(), error) ? printable(error.message)
                                                               : "the agent reported an error";
      return done();
    }
    if (!hello_seen_) {
      wire::Hello hello;
      if (frame.type != wire::FrameType::Hello || !wire::decode(frame.payload.view(), hello)) {
        result.error = "the peer did not answer like an hvterm agent";
        return done();
      }
      if (auto problem = wire::answered_version_problem(hello.version); !problem.empty()) {
        result.error = problem;
        return done();
      }
      hello_seen_ = true;
      result.agent = printable(hello.software);
      result.capabilities = hello.capabilities;
      log::info("handshake done in " + format_elapsed(uv_hrtime() - hello_sent_ns_) + ": " + result.agent +
                ", protocol " + std::to_string(hello.version));
      conn_->send(request_);
      return;
    }
    result.replies.push_back(frame);
    if (frame.type == last_) {
      result.ok = true;
      done();
    }
  }

  void on_disconnect(const std::string& reason) override {
    conn_ = nullptr;
    if (!result.ok && result.error.empty())
      result.error = reason.empty() ? "the agent closed the connection" : "connection failed: " + reason;
    if (timer != nullptr) uv_timer_stop(timer);
  }

  void done() {
    if (conn_ != nullptr) conn_->close();
    conn_ = nullptr;
    if (timer != nullptr) uv_timer_stop(timer);
  }

  RequestResult result;
  uv_timer_t* timer = nullptr;

 private:
  FramedConnection* conn_ = nullptr;
  std::string token_, request_;
  wire::FrameType last_;
  bool hello_seen_ = false;
  uint64_t hello_sent_ns_ = 0;
};

}  // namespace

RequestResult request_once(uv_loop_t* loop, const Target& target, const ConnectOptions& options,
                           const std::string& token, const std::string& request, wire::FrameType last_reply) {
  Exchange exchange(token, request, last_reply);
  uv_timer_t timer;
  uv_timer_init(loop, &timer);
  timer.data = &exchange;
  exchange.timer = &timer;
  bool connected = false;
  connect_target(loop, target, options, [&](uv_stream_t* stream, const ConnectFailure& failure) {
    if (stream == nullptr) {
      exchange.result.error = failure.message;
      return;
    }
    connected = true;
    exchange.begin(stream, options.trace_frames);
    uv_timer_start(
        &timer,
        [](uv_timer_t* t) {
          auto* ex = static_cast<Exchange*>(t->data);
          if (!ex->result.ok && ex->result.error.empty()) ex->result.error = "timed out waiting for the agent's answer";
          ex->done();
        },
        options.timeout_ms, 0);
  });
  uv_run(loop, UV_RUN_DEFAULT);
  (void)connected;
  uv_close(reinterpret_cast<uv_handle_t*>(&timer), nullptr);
  uv_run(loop, UV_RUN_DEFAULT);
  return exchange.result;
}

const wire::ListEntry* pick_session(const std::vector<wire::ListEntry>& entries, const std::string& which,
                                    const std::string& where, std::string& error) {
  // A name is a deliberate choice and unique in its agent: it wins over ids that happen to start
  // with the same hex digits.
  for (const auto& entry : entries)
    if (!entry.name.empty() && entry.name == which) return &entry;
  if (!wire::parse_session_id_prefix(which)) {
    error = wire::session_name_problem(which).empty()
                ? "no session named '" + which + "' on " + where
                : "'" + printable(which) + "' is neither a session id (hex digits, as 'hvterm ls' shows) nor a name";
    return nullptr;
  }
  std::string wanted;
  for (char c : which) wanted.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  std::vector<const wire::ListEntry*> matches;
  for (const auto& entry : entries)
    if (wire::session_id_hex(entry.id).compare(0, wanted.size(), wanted) == 0) matches.push_back(&entry);
  if (matches.size() == 1) return matches[0];
  if (matches.empty()) {
    error = "no session " + which + " on " + where;
    return nullptr;
  }
  error = "session id " + which + " is ambiguous on " + where + ":";
  const char* separator = " ";
  for (const auto* match : matches) {
    error += separator + wire::session_id_hex(match->id).substr(0, 8);
    if (!match->name.empty()) error += " (" + match->name + ")";
    separator = ", ";
  }
  error += "; give more digits or a name";
  return nullptr;
}

SessionLookup find_session(uv_loop_t* loop, const Target& target, const ConnectOptions& options,
                           const std::string& token, const std::string& which) {
  SessionLookup lookup;
  auto result = request_once(loop, target, options, token, wire::encode_empty(wire::FrameType::List),
                             wire::FrameType::ListEnd);
  if (!result.ok) {
    lookup.error = result.error;
    return lookup;
  }
  lookup.capabilities = result.capabilities;
  lookup.agent = result.agent;
  std::vector<wire::ListEntry> entries;
  for (const auto& frame : result.replies) {
    wire::ListEntry entry;
    if (frame.type == wire::FrameType::ListEnd) break;
    if (frame.type != wire::FrameType::ListEntry || !wire::decode(frame.payload.view(), entry)) {
      lookup.error = std::string("protocol error: the agent's list holds a malformed ") +
                     wire::frame_type_name(frame.type);
      return lookup;
    }
    entries.push_back(std::move(entry));
  }
  const wire::ListEntry* picked = pick_session(entries, which, target.text, lookup.error);
  if (picked == nullptr) return lookup;
  lookup.entry = *picked;
  lookup.ok = true;
  return lookup;
}

}  // namespace hvterm
