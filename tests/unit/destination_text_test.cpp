// Destinations as people write them (hvterm nc, hvtermd --forward-allow) and the agent's policy.
#include <doctest/doctest.h>

#include "agent/forward_policy.h"
#include "protocol/destination_text.h"

using namespace hvterm;
using Kind = wire::Destination::Kind;

namespace {
wire::Destination parsed(const std::string& text) {
  std::string error;
  auto d = wire::parse_destination(text, error);
  REQUIRE_MESSAGE(d.has_value(), error);
  return *d;
}

std::string problem(const std::string& text) {
  std::string error;
  CHECK_FALSE(wire::parse_destination(text, error).has_value());
  return error;
}
}  // namespace

TEST_CASE("destinations: ports, hosts, IPv6, Unix sockets and pipes") {
  CHECK(parsed("22") == wire::Destination{Kind::Tcp, "", 22});
  CHECK(parsed("db:5432") == wire::Destination{Kind::Tcp, "db", 5432});
  CHECK(parsed("10.0.0.1:65535") == wire::Destination{Kind::Tcp, "10.0.0.1", 65535});
  CHECK(parsed("[::1]:80") == wire::Destination{Kind::Tcp, "::1", 80});
  CHECK(parsed("unix:/run/a b.sock") == wire::Destination{Kind::Unix, "/run/a b.sock", 0});
  CHECK(parsed("pipe:app") == wire::Destination{Kind::NamedPipe, R"(\\.\pipe\app)", 0});
  CHECK(parsed(R"(\\.\pipe\app)") == wire::Destination{Kind::NamedPipe, R"(\\.\pipe\app)", 0});
  CHECK(problem("0").find("'0' is not a port") != std::string::npos);
  CHECK(problem("65536").find("is not a port") != std::string::npos);
  CHECK(problem("x:-1").find("is not a port") != std::string::npos);
  CHECK(problem("x:").find("'' is not a port") != std::string::npos);
  CHECK(problem(":22").find("names no host") != std::string::npos);
  CHECK(problem("[]:22").find("names no host") != std::string::npos);
  CHECK(problem("::1:22").find("brackets") != std::string::npos);
  CHECK(problem("[::1]22").find("[ADDRESS]:PORT") != std::string::npos);
  CHECK(problem("unix:").find("names no path") != std::string::npos);
  CHECK(problem(std::string(300, 'a') + ":1").find("longer than 255") != std::string::npos);
}

TEST_CASE("forward policy: none, local, any, and an allow list") {
  ForwardPolicy policy;
  CHECK(forward_refusal(policy, parsed("192.0.2.1:22")).empty());
  policy.reach = ForwardPolicy::Reach::None;
  CHECK(forward_refusal(policy, parsed("22")).find("--forward none") != std::string::npos);
  policy.reach = ForwardPolicy::Reach::Local;
  for (const char* local : {"22", "localhost:22", "LOCALHOST:22", "127.1.2.3:22", "[::1]:22", "unix:/x"})
    CHECK_MESSAGE(forward_refusal(policy, parsed(local)).empty(), local);
  for (const char* remote : {"192.0.2.1:22", "example.com:22", "[::2]:22", "128.0.0.1:22"})
    CHECK_MESSAGE(forward_refusal(policy, parsed(remote)).find("--forward local") != std::string::npos, remote);

  policy.reach = ForwardPolicy::Reach::Any;
  std::string error;
  REQUIRE(parse_forward_allow("localhost:22,db:*", policy, error));
  REQUIRE(parse_forward_allow("unix:/run/app.sock", policy, error));
  CHECK(forward_refusal(policy, parsed("22")).empty());  // localhost is what an empty host means
  CHECK(forward_refusal(policy, parsed("db:1")).empty());
  CHECK(forward_refusal(policy, parsed("DB:65535")).empty());
  CHECK(forward_refusal(policy, parsed("unix:/run/app.sock")).empty());
  CHECK(forward_refusal(policy, parsed("23")).find("--forward-allow") != std::string::npos);
  CHECK(forward_refusal(policy, parsed("unix:/run/other.sock")).find("--forward-allow") != std::string::npos);
  CHECK_FALSE(parse_forward_allow("db", policy, error));
  CHECK(error.find("'db'") != std::string::npos);
  CHECK_FALSE(parse_forward_allow("unix:/x:*", policy, error));
  CHECK_FALSE(parse_forward_allow("a:1,,b:2", policy, error));
  CHECK(parse_forward_reach("local") == ForwardPolicy::Reach::Local);
  CHECK_FALSE(parse_forward_reach("all").has_value());
}

TEST_CASE("listen policy (forward -R): none refuses, local keeps to the loopback, an allow list must name it") {
  ForwardPolicy policy;
  CHECK(listen_refusal(policy, parsed("0.0.0.0:8080")).empty());
  policy.reach = ForwardPolicy::Reach::None;
  CHECK(listen_refusal(policy, parsed("127.0.0.1:8080"))
            .find("listens on no ports for clients (hvtermd --forward none)") != std::string::npos);
  policy.reach = ForwardPolicy::Reach::Local;
  for (const char* local : {"127.0.0.1:8080", "[::1]:8080", "localhost:8080", "unix:/run/x.sock"})
    CHECK_MESSAGE(listen_refusal(policy, parsed(local)).empty(), local);
  for (const char* open : {"0.0.0.0:8080", "*:8080", "192.0.2.1:8080", "[::]:8080"})
    CHECK_MESSAGE(listen_refusal(policy, parsed(open)).find("only on the guest's loopback (hvtermd --forward local)") !=
                      std::string::npos,
                  open);
  policy.reach = ForwardPolicy::Reach::Any;
  std::string error;
  REQUIRE(parse_forward_allow("127.0.0.1:3128", policy, error));
  CHECK(listen_refusal(policy, parsed("127.0.0.1:3128")).empty());
  CHECK(listen_refusal(policy, parsed("127.0.0.1:3129")).find("--forward-allow") != std::string::npos);
}

TEST_CASE("hosts as compared: lowercase, empty is localhost") {
  CHECK(wire::canonical_host("") == "localhost");
  CHECK(wire::canonical_host("DB.Example") == "db.example");
  CHECK(wire::names_localhost(""));
  CHECK(wire::names_localhost("LocalHost"));
  CHECK(wire::names_localhost("localhost."));
  CHECK_FALSE(wire::names_localhost("127.0.0.1"));  // an address, not a name: it needs no resolver either
  CHECK_FALSE(wire::names_localhost("localhost.example"));
}
