#pragma once
// Which connections the agent opens for clients (hvtermd --forward, --forward-allow).
#include <optional>
#include <string>
#include <vector>

#include "protocol/wire.h"

namespace hvterm {

struct ForwardPolicy {
  enum class Reach { None, Local, Any };
  Reach reach = Reach::Any;
  // When not empty, only these destinations: HOST:PORT, HOST:* (any port), unix:PATH, pipe:NAME.
  struct Rule {
    wire::Destination destination;
    bool any_port = false;
  };
  std::vector<Rule> allow;
};

// "none", "local" or "any".
std::optional<ForwardPolicy::Reach> parse_forward_reach(const std::string& text);
// One --forward-allow value: comma-separated rules, appended to `policy.allow`. False with `error`.
bool parse_forward_allow(const std::string& text, ForwardPolicy& policy, std::string& error);
// Why `destination` is refused (naming the option that refuses it), or empty when it is allowed.
std::string forward_refusal(const ForwardPolicy& policy, const wire::Destination& destination);
// Why listening at `where` for a client (hvterm forward -R) is refused, or empty when it is
// allowed: --forward none refuses it, --forward local allows only the guest's loopback, and a
// --forward-allow list must name the address.
std::string listen_refusal(const ForwardPolicy& policy, const wire::Destination& where);
// Whether a TCP host names this machine itself: localhost, 127.0.0.0/8, ::1 (and empty).
bool is_loopback_host(const std::string& host);

}  // namespace hvterm
