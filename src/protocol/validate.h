#pragma once
// Checks of decoded messages beyond their layout: what a frame may parse as and still not mean
// anything the receiver could act on. Each returns a one-line reason naming the field, or "".
#include <string>
#include <string_view>

#include "protocol/wire.h"

namespace hvterm::wire {

// Why a HELLO payload did not decode (wrong magic, cut short).
std::string hello_problem(std::string_view payload);

// The version both sides speak, given the highest version the peer announced (a peer speaks every
// version from kMinVersion up to the one it announces); 0 when there is none.
uint16_t common_version(uint16_t peer_version);

// The agent's HELLO answer names the version the connection speaks: one this build speaks, or the
// agent is not one we can talk to ("" when it is).
std::string answered_version_problem(uint16_t answered);

// Session names: 1 to kMaxSessionNameBytes letters, digits, '.', '_' or '-', starting with a letter or a
// digit (so a name is never read as an option, and fits a column, a shell word and a file name). ""
// when `name` is one; otherwise the reason, naming the rule.
inline constexpr size_t kMaxSessionNameBytes = 32;
std::string session_name_problem(const std::string& name);

// OPEN: strings that the program would see cut at a NUL byte, environment entries without a name.
std::string open_problem(const Open& open);

}  // namespace hvterm::wire
