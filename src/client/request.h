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

// LIST, then the one session whose id starts with `prefix` (empty: not resolved).
struct SessionLookup {
  bool ok = false;
  std::string error;
  wire::ListEntry entry;
};
SessionLookup find_session(uv_loop_t* loop, const Target& target, const ConnectOptions& options,
                           const std::string& token, const std::string& prefix);

}  // namespace hvterm
