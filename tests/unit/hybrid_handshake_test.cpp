// The Firecracker / Cloud Hypervisor "CONNECT <port>" handshake (transport/hybrid_handshake.h).
#include <doctest/doctest.h>

#include <string>

#include "transport/hybrid_handshake.h"

using namespace hvterm;
using Status = HybridReplyParser::Status;

namespace {
Status feed(HybridReplyParser& parser, const std::string& bytes) { return parser.feed(bytes.data(), bytes.size()); }

Status feed_bytewise(HybridReplyParser& parser, const std::string& bytes) {
  Status status = Status::NeedMore;
  for (size_t i = 0; i < bytes.size(); ++i) {
    status = parser.feed(bytes.data() + i, 1);
    if (i + 1 < bytes.size() && bytes[i] != '\n') {
      INFO("after byte " << i);
      CHECK(status == Status::NeedMore);
    }
  }
  return status;
}
}  // namespace

TEST_CASE("connect line") {
  CHECK(hybrid_connect_line(18518) == "CONNECT 18518\n");
  CHECK(hybrid_connect_line(1) == "CONNECT 1\n");
  CHECK(hybrid_connect_line(4294967294u) == "CONNECT 4294967294\n");
}

TEST_CASE("OK <port> is accepted, whole or a byte at a time") {
  HybridReplyParser whole;
  CHECK(feed(whole, "OK 1073741824\n") == Status::Ok);
  CHECK(whole.leftover().empty());
  CHECK(whole.error().empty());

  HybridReplyParser bytewise;
  CHECK(feed_bytewise(bytewise, "OK 1073741824\n") == Status::Ok);
  CHECK(bytewise.leftover().empty());

  HybridReplyParser small;
  CHECK(feed(small, "OK 5\n") == Status::Ok);
}

TEST_CASE("nothing yet, or a line without its newline, needs more") {
  HybridReplyParser parser;
  CHECK(feed(parser, "") == Status::NeedMore);
  CHECK(feed(parser, "OK 10737") == Status::NeedMore);
  CHECK(feed(parser, "41824") == Status::NeedMore);
  CHECK(feed(parser, "\n") == Status::Ok);
}

TEST_CASE("bytes after the newline are kept for the protocol") {
  HybridReplyParser parser;
  std::string after("\x01\x00\x00\x00rest\nmore", 13);
  CHECK(feed(parser, "OK 1073741824\n" + after) == Status::Ok);
  CHECK(parser.leftover() == after);

  HybridReplyParser split;
  CHECK(feed(split, "OK 7") == Status::NeedMore);
  CHECK(feed(split, "\nAB") == Status::Ok);
  CHECK(split.leftover() == "AB");
  CHECK(feed(split, "CD") == Status::Ok);
  CHECK(split.leftover() == "ABCD");
}

TEST_CASE("refusals and malformed replies are errors") {
  for (const std::string reply : {"ERR\n", "\n", "OK\n", "OK \n", "OK x\n", "OK 12x\n", "ok 12\n", "OK  12\n",
                                  "OK -1\n", " OK 12\n", "OK 12 \n", "OK 12\r\n", "CONNECT 5\n", "OK\t12\n"}) {
    INFO("reply '" << reply << "'");
    HybridReplyParser parser;
    CHECK(feed(parser, reply) == Status::Error);
    CHECK_FALSE(parser.error().empty());
    CHECK(parser.error().find('\n') == std::string::npos);
    HybridReplyParser bytewise;
    CHECK(feed_bytewise(bytewise, reply) == Status::Error);
  }
}

TEST_CASE("the error quotes the reply, with unprintable bytes masked") {
  HybridReplyParser parser;
  CHECK(feed(parser, std::string("NO\x01\n", 4)) == Status::Error);
  CHECK(parser.error().find("'NO?'") != std::string::npos);

  HybridReplyParser empty;
  CHECK(feed(empty, "\n") == Status::Error);
  CHECK(empty.error().find("empty") != std::string::npos);
}

TEST_CASE("a reply of 32 or more bytes without a newline is an error") {
  HybridReplyParser parser;
  CHECK(feed(parser, std::string(31, '1')) == Status::NeedMore);
  CHECK(feed(parser, "1") == Status::Error);
  CHECK(parser.error().find("32") != std::string::npos);

  HybridReplyParser big;
  CHECK(feed(big, "OK " + std::string(100, '1')) == Status::Error);

  HybridReplyParser longest;  // 31 bytes of line plus the newline still fit
  CHECK(feed(longest, "OK " + std::string(28, '9') + "\n") == Status::Ok);

  HybridReplyParser too_long;
  CHECK(feed(too_long, "OK " + std::string(29, '9') + "\n") == Status::Error);
}

TEST_CASE("after an error the parser stays failed") {
  HybridReplyParser parser;
  REQUIRE(feed(parser, "ERR\n") == Status::Error);
  std::string reason = parser.error();
  CHECK(feed(parser, "OK 5\n") == Status::Error);
  CHECK(parser.error() == reason);
  CHECK(parser.leftover().empty());
}
