#pragma once
// What the copy stream's tests (copy_format_test, copy_extract_test) build their records from.
#include <string>
#include <string_view>

#include "copy/format.h"

namespace hvterm::copy::test {

inline Checksum checksum_of(std::string_view bytes) {
  Hasher h;
  h.update(bytes.data(), bytes.size());
  return h.digest();
}

// An entry with a fixed, recognisable modification time.
inline Entry entry(std::string path, uint32_t mode = 0644) {
  Entry e;
  e.path = std::move(path);
  e.mode = mode;
  e.mtime_s = 1700000000;
  e.mtime_ns = 5;
  return e;
}

}  // namespace hvterm::copy::test
