#include <cctype>
#include <cstdlib>

#include "protocol/wire.h"

namespace hvterm::wire {
namespace {
struct Named {
  const char* name;
  uint8_t number;
};
constexpr Named kSignals[] = {{"HUP", sig::kHup},   {"INT", sig::kInt},   {"QUIT", sig::kQuit}, {"KILL", sig::kKill},
                              {"USR1", sig::kUsr1}, {"USR2", sig::kUsr2}, {"PIPE", sig::kPipe}, {"TERM", sig::kTerm},
                              {"CONT", sig::kCont}, {"STOP", sig::kStop}, {"TSTP", sig::kTstp}, {"WINCH", sig::kWinch}};
}  // namespace

uint8_t parse_signal_name(const std::string& text) {
  if (text.empty()) return 0;
  if (std::isdigit(static_cast<unsigned char>(text[0]))) {
    char* end = nullptr;
    long n = std::strtol(text.c_str(), &end, 10);
    return (*end == '\0' && n > 0 && n < 65) ? static_cast<uint8_t>(n) : 0;
  }
  std::string upper;
  for (char c : text) upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (upper.rfind("SIG", 0) == 0) upper.erase(0, 3);
  for (const auto& s : kSignals)
    if (upper == s.name) return s.number;
  return 0;
}

const char* signal_name(uint8_t wire_signal) {
  for (const auto& s : kSignals)
    if (s.number == wire_signal) return s.name;
  return nullptr;
}

}  // namespace hvterm::wire
