#pragma once
// Watches heap allocations made through operator new while a probe is alive, so a test can
// prove that an untrusted length in the input does not drive an allocation.
// The replacement operator new lives in alloc_probe.cpp and costs nothing when no probe is active.
#include <cstddef>

namespace hvterm::test {

class AllocProbe {
 public:
  AllocProbe();
  ~AllocProbe();
  AllocProbe(const AllocProbe&) = delete;
  AllocProbe& operator=(const AllocProbe&) = delete;
  size_t largest() const;  // largest single request seen so far
  size_t total() const;    // sum of all requests seen so far
};

}  // namespace hvterm::test
