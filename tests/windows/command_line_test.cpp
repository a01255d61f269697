// Command lines, environments and exit codes of Windows children (platform/windows/command_line).
#include <doctest/doctest.h>

#include "platform/windows/command_line.h"
#include "platform/windows/internal.h"  // first of the Windows headers: uv.h orders winsock2.h, windows.h

#include <shellapi.h>

using namespace hvterm::platform::detail;
namespace sig = hvterm::platform::sig;
using hvterm::platform::ExitKind;

namespace {

// What a child's C runtime sees: CommandLineToArgvW splits like the MSVC runtime does.
std::vector<std::string> split(const std::string& line) {
  int argc = 0;
  wchar_t** argv = CommandLineToArgvW(widen(line).c_str(), &argc);
  std::vector<std::string> out;
  for (int i = 0; i < argc; ++i) out.push_back(narrow(argv[i], wcslen(argv[i])));
  LocalFree(argv);
  return out;
}

}  // namespace

TEST_CASE("command lines split back into the same arguments") {
  std::vector<std::vector<std::string>> cases = {
      {"prog.exe", "plain"},
      {"prog.exe", "two words", ""},
      {"prog.exe", "quote\"inside", "tab\there"},
      {"prog.exe", "C:\\path with space\\", "trailing\\\\"},
      {"prog.exe", "back\\\"slash-quote", "\\\\server\\share"},
      {"prog.exe", "caf\xC3\xA9", "\xE2\x82\xAC"},
  };
  for (const auto& argv : cases) {
    std::string line = windows_command_line(argv);
    CAPTURE(line);
    CHECK(split(line) == argv);
  }
  CHECK(windows_command_line({"cmd.exe", "/c", "echo", "hi"}) == "cmd.exe /c echo hi");
}

TEST_CASE("environment: overrides replace entries of the same key regardless of case") {
  std::vector<std::string> base = {"Path=C:\\Windows", "TEMP=C:\\Temp", "=C:=C:\\work"};
  auto env = merge_environment(base, {"PATH=C:\\bin", "TERM=xterm-256color", "temp=D:\\t"});
  CHECK(env == std::vector<std::string>{"PATH=C:\\bin", "temp=D:\\t", "=C:=C:\\work", "TERM=xterm-256color"});
}

TEST_CASE("environment block: sorted without regard to case, NUL-separated, doubly terminated") {
  std::wstring block = environment_block({"b=2", "A=1", "", "=C:=C:\\"});
  CHECK(block == std::wstring(L"=C:=C:\\\0A=1\0b=2\0\0", 17));
}

TEST_CASE("exit codes as exit statuses") {
  auto ok = exit_status_from_code(0, 0);
  CHECK(ok.kind == ExitKind::Exited);
  CHECK(ok.code == 0);
  CHECK(exit_status_from_code(3, 0).code == 3);
  auto terminated = exit_status_from_code(1, sig::kTerm);
  CHECK(terminated.kind == ExitKind::Signaled);
  CHECK(terminated.code == sig::kTerm);
  auto interrupted = exit_status_from_code(0xC000013Au, 0);  // STATUS_CONTROL_C_EXIT
  CHECK(interrupted.kind == ExitKind::Signaled);
  CHECK(interrupted.code == sig::kInt);
}
