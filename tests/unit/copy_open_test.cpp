// The copy session's OPEN (mode 4): its bytes, its checks, and how hvterm cp reads its operands.
#include <doctest/doctest.h>

#include "client/cp_command.h"
#include "protocol/codec.h"
#include "protocol/validate.h"

using namespace hvterm;
using namespace hvterm::wire;

namespace {

std::string payload_of(const std::string& frame) { return frame.substr(kHeaderSize); }

Open copy_open() {
  Open open;
  open.mode = SessionMode::Copy;
  for (size_t i = 0; i < open.id.size(); ++i) open.id[i] = static_cast<uint8_t>(i + 1);
  open.copy.direction = CopySpec::Direction::OutOfGuest;
  open.copy.flags = CopySpec::kRecursive | CopySpec::kPreserve;
  open.copy.paths = {"/var/log", std::string("a\nb\xff", 4)};
  return open;
}

}  // namespace

TEST_CASE("copy OPEN: the id, then direction, flags and paths; round trip; truncations and trailing bytes") {
  Open open = copy_open();
  std::string payload = payload_of(encode(open));
  // The fixed part: mode 4, size, three empty strings, two empty lists, the id.
  REQUIRE(payload.size() > 35);
  CHECK(static_cast<uint8_t>(payload[0]) == 4);
  std::string tail = payload.substr(35);
  CHECK(tail.substr(0, 2) == std::string("\x01\x03", 2));            // out of the guest; recursive + preserve
  CHECK(tail.substr(2, 2) == std::string("\x02\x00", 2));            // two paths
  CHECK(tail.substr(4, 10) == std::string("\x08\x00/var/log", 10));  // u16 length, bytes
  Open out;
  REQUIRE(decode(payload, out));
  CHECK(out.mode == SessionMode::Copy);
  CHECK(out.id == open.id);
  CHECK(out.copy == open.copy);
  for (size_t n = 0; n < payload.size(); ++n) CHECK_FALSE(decode(payload.substr(0, n), out));
  CHECK_FALSE(decode(payload + "x", out));
  SUBCASE("a copy must name its session (a lost answer is resumed by id)") {
    Open no_id = open;
    no_id.id = SessionId{};
    CHECK_FALSE(decode(payload_of(encode(no_id)), out));
  }
  SUBCASE("a direction other than 0 or 1 is malformed") {
    std::string bad = payload;
    bad[35] = 2;
    CHECK_FALSE(decode(bad, out));
  }
}

TEST_CASE("copy OPEN: what the agent refuses") {
  Open open = copy_open();
  CHECK(open_problem(open).empty());
  auto problem_with = [&](auto change) {
    Open o = open;
    change(o);
    return open_problem(o);
  };
  CHECK(problem_with([](Open& o) { o.argv = {"sh"}; }).find("takes no command") != std::string::npos);
  CHECK(problem_with([](Open& o) { o.copy.flags = 0x20; }).find("unknown copy flags") != std::string::npos);
  CHECK(problem_with([](Open& o) { o.copy.paths.clear(); }).find("names no path") != std::string::npos);
  CHECK(problem_with([](Open& o) { o.copy.paths = {std::string("a\0b", 3)}; }).find("NUL") != std::string::npos);
  CHECK(problem_with([](Open& o) { o.copy.paths = {""}; }).find("empty path") != std::string::npos);
  CHECK(problem_with([](Open& o) {
          o.copy.direction = CopySpec::Direction::IntoGuest;
          o.copy.paths = {"/a", "/b"};
        }).find("one destination") != std::string::npos);
}

TEST_CASE("hvterm cp operands: which side is the guest's, and the target's own colons") {
  std::string error;
  auto parse = [&](std::vector<std::string> operands, std::string target = "") {
    error.clear();
    return parse_copy_operands(operands, target, error);
  };
  auto push = parse({"a", "b c", "vm1:/tmp/"});
  REQUIRE(push);
  CHECK(push->into_guest);
  CHECK(push->target == "vm1");
  CHECK(push->sources == std::vector<std::string>{"a", "b c"});
  CHECK(push->dest == "/tmp/");

  auto pull = parse({"local:/etc/hosts", "local:rel", "./out:dir"});
  REQUIRE(pull);
  CHECK_FALSE(pull->into_guest);
  CHECK(pull->target == "local");
  CHECK(pull->sources == std::vector<std::string>{"/etc/hosts", "rel"});
  CHECK(pull->dest == "./out:dir");  // a '/' before the ':' makes it local

  auto vsock = parse({"x", "vsock:3:/tmp/x"});
  REQUIRE(vsock);
  CHECK(vsock->target == "vsock:3");
  CHECK(vsock->dest == "/tmp/x");
  auto port = parse({"x", "vsock:3:2222:/tmp/x"});
  REQUIRE(port);
  CHECK(port->target == "vsock:3:2222");
  CHECK(port->dest == "/tmp/x");
  auto hv = parse({"hv:4f1c0a4e-0000-4000-8000-00000000abcd:00000ac9-facb-11e6-bd58-64006a7986d3:C:/x", "."});
  REQUIRE(hv);
  CHECK(hv->target == "hv:4f1c0a4e-0000-4000-8000-00000000abcd:00000ac9-facb-11e6-bd58-64006a7986d3");
  CHECK(hv->sources == std::vector<std::string>{"C:/x"});
  auto home = parse({"x", "vm1:"});
  REQUIRE(home);
  CHECK(home->dest == ".");

  auto explicit_target = parse({"a", ":/srv/www"}, "unix:/run/hvterm.sock");
  REQUIRE(explicit_target);
  CHECK(explicit_target->target == "unix:/run/hvterm.sock");
  CHECK(explicit_target->into_guest);
  CHECK(explicit_target->dest == "/srv/www");
  auto hybrid = parse({":/var/log/x", "vm1:y"}, "hybrid:/run/vm.sock:18518");
  REQUIRE(hybrid);  // with --target, vm1:y is a local file name
  CHECK_FALSE(hybrid->into_guest);
  CHECK(hybrid->dest == "vm1:y");

  CHECK_FALSE(parse({"a", "unix:/run/x.sock:/tmp"}));
  CHECK(error.find("--target") != std::string::npos);
  CHECK_FALSE(parse({"a", "hybrid:/run/vm.sock:18518:/tmp"}));
  CHECK(error.find("--target") != std::string::npos);
  CHECK_FALSE(parse({"a", "b"}));
  CHECK(error.find("TARGET:PATH") != std::string::npos);
  CHECK_FALSE(parse({"a", "b"}, "vm1"));
  CHECK(error.find(":PATH") != std::string::npos);
  CHECK_FALSE(parse({"vm1:a", "vm1:b"}));
  CHECK(error.find("not both") != std::string::npos);
  CHECK_FALSE(parse({"vm1:a", "b", "c"}));
  CHECK(error.find("not both") != std::string::npos);
  CHECK_FALSE(parse({"vm1:a", "vm2:b", "c"}));
  CHECK(error.find("two targets") != std::string::npos);
  CHECK_FALSE(parse({"-", "a", "vm1:/x"}));
  CHECK(error.find("only source") != std::string::npos);
  CHECK_FALSE(parse({"vm1:a", "vm1:b", "-"}));
  CHECK(error.find("one source") != std::string::npos);
  CHECK_FALSE(parse({"vm1:/x"}));
  CHECK_FALSE(parse({"vsock:3", "x"}));
  CHECK(error.find("vsock:CID:PATH") != std::string::npos);
}
