// -L specifications (client/forward_spec.h): ssh's shapes, and one line for each mistake.
#include <doctest/doctest.h>

#include "client/forward_spec.h"

using namespace hvterm;

TEST_CASE("parse_local_forward: PORT:DESTINATION listens on the loopback") {
  std::string error;
  auto f = parse_local_forward("8080:80", error);
  REQUIRE(f);
  CHECK(f->bind == "127.0.0.1");
  CHECK(f->port == 8080);
  CHECK(f->destination.kind == wire::Destination::Kind::Tcp);
  CHECK(f->destination.host.empty());
  CHECK(f->destination.port == 80);

  f = parse_local_forward("0:db.internal:5432", error);
  REQUIRE(f);
  CHECK(f->port == 0);
  CHECK(f->destination.host == "db.internal");
  CHECK(f->destination.port == 5432);

  f = parse_local_forward("8080:[::1]:80", error);
  REQUIRE(f);
  CHECK(f->destination.host == "::1");

  f = parse_local_forward("2222:unix:/run/app.sock", error);
  REQUIRE(f);
  CHECK(f->destination.kind == wire::Destination::Kind::Unix);
  CHECK(f->destination.host == "/run/app.sock");
}

TEST_CASE("parse_local_forward: BIND:PORT:DESTINATION") {
  std::string error;
  auto f = parse_local_forward("0.0.0.0:8080:localhost:80", error);
  REQUIRE(f);
  CHECK(f->bind == "0.0.0.0");
  CHECK(f->port == 8080);
  CHECK(f->destination.host == "localhost");
  CHECK(parse_local_forward("*:8080:80", error)->bind == "0.0.0.0");
  CHECK(parse_local_forward("localhost:8080:80", error)->bind == "127.0.0.1");
  f = parse_local_forward("[::1]:8080:80", error);
  REQUIRE(f);
  CHECK(f->bind == "::1");
  CHECK(describe_listen_address(f->bind, f->port) == "[::1]:8080");
  CHECK(describe_listen_address("127.0.0.1", 1) == "127.0.0.1:1");
}

TEST_CASE("parse_local_forward: mistakes are one line naming the part") {
  std::string error;
  CHECK_FALSE(parse_local_forward("8080", error));
  CHECK(error.find("is not [BIND:]PORT:DESTINATION") != std::string::npos);
  CHECK_FALSE(parse_local_forward("70000:80", error));
  CHECK(error.find("'70000' in '70000:80' is not a port to listen on") != std::string::npos);
  CHECK_FALSE(parse_local_forward("web:8080:80", error));
  CHECK(error.find("'web' is not an address to listen on") != std::string::npos);
  CHECK_FALSE(parse_local_forward("8080:0", error));
  CHECK(error.find("'0' is not a port") != std::string::npos);
  CHECK_FALSE(parse_local_forward("[::1:8080:80", error));
  CHECK(error.find("as [::1]:PORT:DESTINATION") != std::string::npos);
  CHECK_FALSE(parse_local_forward("8080:", error));
  CHECK(error.find("is not a port") != std::string::npos);
}

TEST_CASE("parse_remote_forward: where the guest listens, and where its connections go here") {
  std::string error;
  auto f = parse_remote_forward("3128:proxy.corp:3128", error);
  REQUIRE(f);
  CHECK(f->listen == wire::Destination{wire::Destination::Kind::Tcp, "127.0.0.1", 3128});
  CHECK(f->destination == wire::Destination{wire::Destination::Kind::Tcp, "proxy.corp", 3128});
  f = parse_remote_forward("*:8080:unix:/run/app.sock", error);
  REQUIRE(f);
  CHECK(f->listen.host == "0.0.0.0");
  CHECK(f->destination.kind == wire::Destination::Kind::Unix);
  CHECK_FALSE(parse_remote_forward("0:22", error));
  CHECK(error.find("not 0") != std::string::npos);
  CHECK_FALSE(parse_remote_forward("22", error));
}
