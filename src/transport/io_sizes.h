#pragma once
// The sizes every reader of a libuv stream shares (a child's output in the agent, the client's
// stdin, every connection): one place for each, with why.
#include <cstddef>

#include "protocol/wire.h"

namespace hvterm {

// A read fills exactly four DATA frames, sent in one writev; one size for every reader, so one
// block pool (common/buffer.h) serves them all.
inline constexpr size_t kReadBlockSize = 4 * wire::kMaxDataBytes;
// A read shorter than this is copied out, so its big block goes on to the next read instead of
// being held by a few bytes waiting in a replay buffer.
inline constexpr size_t kCompactBelow = 8 * 1024;
// A child's output pipe found full is widened once to this: fewer wake-ups per byte than the 64 KiB
// default, without handing the page allocator the cost of a wider one (tests/bench/README.md).
inline constexpr size_t kWideChildPipe = 128 * 1024;
// hvterm's own stdin or stdout pipe found full is widened once to this (Linux's default
// pipe-max-size): the reader or writer at its other end is often on another CPU, where a wider
// pipe carries more per wake-up (tests/bench/README.md).
inline constexpr size_t kWideLocalPipe = 1024 * 1024;

// What hvterm hands libuv at once for its terminal; the rest waits in hvterm. A detach drops what
// waits and lets this piece finish (libuv cannot say how much of a cancelled write went out): the
// most a user sees after typing ~., and the most the next attach repeats if the terminal does not
// take it within the detach's wait.
inline constexpr size_t kTerminalWriteInFlight = 64 * 1024;

}  // namespace hvterm
