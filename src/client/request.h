#pragma once
// One-shot exchanges with an agent (ls, kill, ping, resolving a session id): connect, HELLO,
// one request, and the reply frames up to the agent's answer. Runs the loop until done.
#include <uv.h>

#include <string>
#include <vector>

#include "protocol/codec.h"
#include "transport/connector.h"

namespace hvterm {

struct RequestResult {
  bool ok = false;
  std::string error;                 // one line, when !ok
  std::string agent;                 // the agent's software string from HELLO
  uint32_t capabilities = 0;         // and what it announced it can do (wire::kCap*)
  std::vector<wire::Frame> replies;  // every frame after HELLO, up to and including the last
};

// `last_reply` is the frame type that completes the answer (LIST_END, OK, PONG).
RequestResult request_once(uv_loop_t* loop, const Target& target, const ConnectOptions& options,
                           const std::string& token, const std::string& request, wire::FrameType last_reply);

// LIST, then the one session `which` names (the one place a client turns a name or an id prefix
// into a session; the agent keeps names unique, so one LIST answers both).
struct SessionLookup {
  bool ok = false;
  std::string error;
  wire::ListEntry entry;
  uint32_t capabilities = 0;  // what the agent announced (wire::kCap*)
  std::string agent;          // its software string
};
SessionLookup find_session(uv_loop_t* loop, const Target& target, const ConnectOptions& options,
                           const std::string& token, const std::string& which);

// The session of `entries` that `which` names: the one with that name, else the one whose id starts
// with it (hex digits, any case). nullptr with `error` when none does or several ids do (the error
// lists them, with their names); `where` is the target, for the error.
const wire::ListEntry* pick_session(const std::vector<wire::ListEntry>& entries, const std::string& which,
                                    const std::string& where, std::string& error);

}  // namespace hvterm
