#include "agent/forward_policy.h"

#include <uv.h>

#include <algorithm>

#include "protocol/destination_text.h"

namespace hvterm {
namespace {

bool matches(const ForwardPolicy::Rule& rule, const wire::Destination& d) {
  const wire::Destination& r = rule.destination;
  if (r.kind != d.kind) return false;
  if (d.kind != wire::Destination::Kind::Tcp) return r.host == d.host;
  return wire::canonical_host(r.host) == wire::canonical_host(d.host) && (rule.any_port || r.port == d.port);
}

}  // namespace

std::optional<ForwardPolicy::Reach> parse_forward_reach(const std::string& text) {
  if (text == "none") return ForwardPolicy::Reach::None;
  if (text == "local") return ForwardPolicy::Reach::Local;
  if (text == "any") return ForwardPolicy::Reach::Any;
  return std::nullopt;
}

bool parse_forward_allow(const std::string& text, ForwardPolicy& policy, std::string& error) {
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    std::string item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? text.size() + 1 : comma + 1;
    ForwardPolicy::Rule rule;
    std::string spelled = item;
    if (item.size() > 2 && item.compare(item.size() - 2, 2, ":*") == 0) {
      rule.any_port = true;
      spelled = item.substr(0, item.size() - 1) + "1";  // parse the host with a placeholder port
    }
    std::string why;
    auto destination = wire::parse_destination(spelled, why);
    if (!destination || (rule.any_port && destination->kind != wire::Destination::Kind::Tcp)) {
      error = "--forward-allow: '" + item + "' is not HOST:PORT, HOST:*, unix:PATH or pipe:NAME" +
              (why.empty() ? "" : " (" + why + ")");
      return false;
    }
    rule.destination = *destination;
    if (rule.any_port) rule.destination.port = 0;
    policy.allow.push_back(rule);
  }
  return true;
}

bool is_loopback_host(const std::string& host) {
  std::string h = wire::canonical_host(host);
  if (h == "localhost" || h == "ip6-localhost" || h == "ip6-loopback") return true;
  unsigned char address[16];
  if (uv_inet_pton(AF_INET, h.c_str(), address) == 0) return address[0] == 127;
  if (uv_inet_pton(AF_INET6, h.c_str(), address) == 0) {
    static const unsigned char kLoopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return std::equal(address, address + 16, kLoopback6);
  }
  return false;
}

std::string forward_refusal(const ForwardPolicy& policy, const wire::Destination& d) {
  std::string name = wire::describe(d);
  switch (policy.reach) {
    case ForwardPolicy::Reach::None: return "this agent opens no connections (hvtermd --forward none)";
    case ForwardPolicy::Reach::Local:
      if (d.kind == wire::Destination::Kind::Tcp && !is_loopback_host(d.host))
        return "this agent connects only to the guest itself (hvtermd --forward local), not to " + name;
      break;
    case ForwardPolicy::Reach::Any: break;
  }
  if (!policy.allow.empty() &&
      std::none_of(policy.allow.begin(), policy.allow.end(), [&](const auto& rule) { return matches(rule, d); }))
    return name + " is not among the destinations this agent allows (hvtermd --forward-allow)";
  return {};
}

std::string listen_refusal(const ForwardPolicy& policy, const wire::Destination& where) {
  std::string name = wire::describe(where);
  switch (policy.reach) {
    case ForwardPolicy::Reach::None: return "this agent listens on no ports for clients (hvtermd --forward none)";
    case ForwardPolicy::Reach::Local:
      if (where.kind == wire::Destination::Kind::Tcp && (where.host == "*" || !is_loopback_host(where.host)))
        return "this agent listens only on the guest's loopback (hvtermd --forward local), not on " + name;
      break;
    case ForwardPolicy::Reach::Any: break;
  }
  if (!policy.allow.empty() &&
      std::none_of(policy.allow.begin(), policy.allow.end(), [&](const auto& rule) { return matches(rule, where); }))
    return name + " is not among the addresses this agent allows (hvtermd --forward-allow)";
  return {};
}

}  // namespace hvterm
