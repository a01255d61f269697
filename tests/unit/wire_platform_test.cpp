// The wire's sizes, exit statuses and signals as the platform layer's types (transport/wire_platform.h).
#include <doctest/doctest.h>

#include <utility>

#include "transport/wire_platform.h"

using namespace hvterm;

TEST_CASE("a terminal size crosses between the wire and the platform field by field") {
  wire::WinSize size{43, 132, 1056, 688};
  platform::TerminalSize local = to_platform(size);
  CHECK(local.rows == 43);
  CHECK(local.cols == 132);
  CHECK(local.xpixel == 1056);
  CHECK(local.ypixel == 688);
  CHECK(to_wire(local) == size);
}

TEST_CASE("each kind of exit keeps its meaning on the wire, with its code and message") {
  struct Case {
    platform::ExitKind local;
    wire::ExitKind sent;
  };
  for (auto [local, sent] : {Case{platform::ExitKind::Exited, wire::ExitKind::Exited},
                             Case{platform::ExitKind::Signaled, wire::ExitKind::Signaled},
                             Case{platform::ExitKind::NotFound, wire::ExitKind::NotFound},
                             Case{platform::ExitKind::CannotExecute, wire::ExitKind::CannotExecute}}) {
    wire::Exit exit = to_wire(platform::ExitStatus{local, 42, "why"});
    CHECK(exit.kind == sent);
    CHECK(exit.code == 42);
    CHECK(exit.message == "why");
  }
}

TEST_CASE("the wire's signal numbers are the platform's") {
  using namespace platform::sig;
  const std::pair<uint8_t, int> same[] = {
      {wire::sig::kHup, kHup},   {wire::sig::kInt, kInt},   {wire::sig::kQuit, kQuit}, {wire::sig::kKill, kKill},
      {wire::sig::kUsr1, kUsr1}, {wire::sig::kUsr2, kUsr2}, {wire::sig::kPipe, kPipe}, {wire::sig::kTerm, kTerm},
      {wire::sig::kCont, kCont}, {wire::sig::kStop, kStop}, {wire::sig::kTstp, kTstp}, {wire::sig::kWinch, kWinch}};
  for (auto [sent, local] : same) CHECK(to_platform_signal(sent) == local);
}
