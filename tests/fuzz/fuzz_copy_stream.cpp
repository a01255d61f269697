// libFuzzer target: a copy stream (hvterm cp) as a hostile peer may send it, fed in pieces the
// input chooses. Whatever comes, every name handed on is one check_relative_path accepts, file
// bytes come only inside a file, and a stream the decoder refuses says why. The first byte's low
// bit makes it a resuming copy's stream: then a file's bytes come only after its resume record.
#include <cstdint>
#include <string_view>

#include "copy/format.h"

namespace {

struct Checker : hvterm::copy::Decoder::Handler {
  bool in_file = false, resuming = false, resumed = false;
  void named(const hvterm::copy::Entry& e) {
    if (!hvterm::copy::check_relative_path(e.path).empty() || in_file) __builtin_trap();
  }
  void on_directory(const hvterm::copy::Entry& e) override { named(e); }
  void on_file(const hvterm::copy::Entry& e) override {
    named(e);
    in_file = true;
    resumed = false;
  }
  void on_resume(uint64_t) override {
    if (!in_file || resumed) __builtin_trap();
    resumed = true;
  }
  void on_data(std::string_view) override {
    if (!in_file || (resuming && !resumed)) __builtin_trap();
  }
  void on_file_end(uint64_t, const hvterm::copy::Checksum&) override { in_file = false; }
  void on_file_abort(const std::string&) override { in_file = false; }
  void on_symlink(const hvterm::copy::Entry& e) override {
    named(e);
    if (e.target.empty()) __builtin_trap();
  }
  void on_end() override {
    if (in_file) __builtin_trap();
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Checker checker;
  hvterm::copy::Decoder decoder(checker);
  if (size == 0) return 0;
  checker.resuming = (data[0] & 1) != 0;
  if (checker.resuming) decoder.expect_resume();
  size_t i = 1;
  while (i < size) {
    size_t n = 1 + data[i] % 64;
    if (i + 1 + n > size) n = size - i - 1;
    if (!decoder.feed(std::string_view(reinterpret_cast<const char*>(data) + i + 1, n))) {
      if (decoder.error().empty()) __builtin_trap();
      break;
    }
    i += 1 + n;
  }
  return 0;
}
