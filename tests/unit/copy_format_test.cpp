// The copy stream (src/copy): its records, the names a receiver accepts, how it decodes in any
// pieces, what stops it, and the progress line.
#include <doctest/doctest.h>

#include <vector>

#include "copy/format.h"
#include "copy/progress.h"
#include "copy_test_support.h"

using namespace hvterm;
using namespace hvterm::copy;
using namespace hvterm::copy::test;

namespace {

// Everything a decoder reported, as text, for comparisons.
struct Recorder : Decoder::Handler {
  std::string log;
  void on_directory(const Entry& e) override { log += "D " + e.path + " " + std::to_string(e.mode) + "\n"; }
  void on_file(const Entry& e) override { log += "F " + e.path + " " + std::to_string(e.size) + "\n"; }
  void on_data(std::string_view b) override { log += std::string(b); }
  void on_file_end(uint64_t size, const Checksum&) override { log += "\nE " + std::to_string(size) + "\n"; }
  void on_file_abort(const std::string& r) override { log += "A " + r + "\n"; }
  void on_symlink(const Entry& e) override { log += "L " + e.path + " -> " + e.target + "\n"; }
  void on_end() override { log += "END\n"; }
};

}  // namespace

TEST_CASE("names a receiver accepts: relative, no '.', '..' or empty component, no NUL") {
  CHECK(check_relative_path("a").empty());
  CHECK(check_relative_path("a b/c\nd/\xff\xfe").empty());
  CHECK(check_relative_path("..a/b..").empty());
  CHECK_FALSE(check_relative_path("").empty());
  CHECK_FALSE(check_relative_path("/etc/passwd").empty());
  CHECK_FALSE(check_relative_path("../x").empty());
  CHECK_FALSE(check_relative_path("a/../../x").empty());
  CHECK_FALSE(check_relative_path("a/..").empty());
  CHECK_FALSE(check_relative_path("./a").empty());
  CHECK_FALSE(check_relative_path("a//b").empty());
  CHECK_FALSE(check_relative_path("a/").empty());
  CHECK_FALSE(check_relative_path(std::string("a\0b", 3)).empty());
  CHECK_FALSE(check_relative_path(std::string(kMaxPath + 1, 'a')).empty());
}

TEST_CASE("the stream's bytes: header, an entry, a chunk, the end") {
  Encoder enc;
  enc.header();
  enc.directory(entry("d", 0755));
  enc.chunk("hi");
  enc.end();
  std::string s = enc.take();
  CHECK(s.substr(0, 5) == std::string("HVCP\x01", 5));
  CHECK(static_cast<uint8_t>(s[5]) == 1);  // directory
  CHECK(s.substr(6, 3) == std::string("\x01\x00"
                                      "d",
                                      3));                      // u16 length, name
  CHECK(s.substr(9, 4) == std::string("\xed\x01\x00\x00", 4));  // mode 0755, little-endian
  size_t chunk = 9 + 4 + 8 + 4 + 4 + 4;
  CHECK(s.substr(chunk, 7) == std::string("\x03\x02\x00\x00\x00hi", 7));
  CHECK(s.back() == '\x07');
}

TEST_CASE("a stream decodes the same whatever pieces it arrives in") {
  Encoder enc;
  enc.header();
  enc.directory(entry("top", 0755));
  Entry f = entry("top/f\nnew line", 0600);
  std::string body(300000, 'x');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 7);
  f.size = body.size();
  enc.file(f);
  enc.chunk(std::string_view(body).substr(0, 100000));
  enc.chunk(std::string_view(body).substr(100000));
  enc.file_end(body.size(), checksum_of(body));
  Entry l = entry("top/link");
  l.target = "../../elsewhere";
  enc.symlink(l);
  enc.file(entry("top/gone"));
  enc.file_abort("Permission denied");
  enc.end();
  std::string stream = enc.take();
  Recorder whole;
  Decoder d1(whole);
  REQUIRE(d1.feed(stream));
  CHECK(d1.ended());
  for (size_t piece : {1, 7, 4096, 65536}) {
    Recorder pieces;
    Decoder d(pieces);
    for (size_t at = 0; at < stream.size(); at += piece) REQUIRE(d.feed(std::string_view(stream).substr(at, piece)));
    CHECK(d.ended());
    CHECK(pieces.log == whole.log);
  }
  CHECK(whole.log.find("L top/link -> ../../elsewhere") != std::string::npos);
  CHECK(whole.log.find("A Permission denied") != std::string::npos);
}

TEST_CASE("a malformed stream stops the decoder with one reason") {
  auto error_of = [](const std::string& stream) {
    Recorder r;
    Decoder d(r);
    CHECK_FALSE(d.feed(stream));
    return d.error();
  };
  std::string header("HVCP\x01", 5);
  CHECK(error_of("HVXX\x01").find("HVCP") != std::string::npos);
  CHECK(error_of(std::string("HVCP\x02", 5)).find("version 2") != std::string::npos);
  CHECK(error_of(header + "\x63").find("unknown record") != std::string::npos);
  CHECK(error_of(header + std::string("\x03\x01\x00\x00\x00x", 6)).find("outside a file") != std::string::npos);
  Encoder enc;
  enc.file(entry("f"));
  std::string in_file = header + enc.take();
  CHECK(error_of(in_file + std::string("\x03\x00\x00\x00\x00", 5)).find("chunk of 0") != std::string::npos);
  CHECK(error_of(in_file + std::string("\x03\x01\x00\x10\x00", 5)).find("chunk of") != std::string::npos);
  CHECK(error_of(in_file + "\x07").find("end inside a file") != std::string::npos);
  CHECK(error_of(header + "\x07" + "x").find("after its end") != std::string::npos);
  // A resume record belongs right after the file record of a resuming copy, and only there.
  Encoder resumed;
  resumed.resume(0);
  CHECK(error_of(header + resumed.bytes()).find("not right after a file record") != std::string::npos);
  CHECK(error_of(in_file + std::string("\x03\x01\x00\x00\x00x", 6) + resumed.bytes())
            .find("not right after a file record") != std::string::npos);
  {
    Recorder r;
    Decoder d(r);
    d.expect_resume();
    CHECK_FALSE(d.feed(in_file + std::string("\x03\x01\x00\x00\x00x", 6)));
    CHECK(d.error().find("without its resume record") != std::string::npos);
  }
  Encoder bad;
  bad.directory(entry("../x"));
  CHECK(error_of(header + bad.take()).find("'..'") != std::string::npos);
  bad.directory(entry("/abs"));
  CHECK(error_of(header + bad.take()).find("absolute") != std::string::npos);
}

TEST_CASE("progress: the line people know, at most ten times a second, and a summary") {
  Progress p(1000);
  p.set_total(64 * 1024 * 1024);
  auto first = p.update("big", 16 * 1024 * 1024, 2000);
  REQUIRE(first);
  CHECK(*first == "big  16.0 MiB / 64.0 MiB  25%  16.0 MiB/s  ETA 0:03");
  CHECK_FALSE(p.update("big", 17 * 1024 * 1024, 2099));  // too soon
  auto later = p.update("big", 32 * 1024 * 1024, 2100);
  REQUIRE(later);
  CHECK(later->find("50%") != std::string::npos);
  CHECK(p.summary(64 * 1024 * 1024, 5000) == "copied 64.0 MiB in 4.0 s (16.0 MiB/s)");
  Progress unknown(0);
  CHECK(*unknown.update("stdin", 512, 1000) == "stdin  512 B  512 B/s");
  CHECK(Progress::bytes(1536) == "1.5 KiB");
  // Resumed bytes count as done, but not towards the rate or the time left.
  Progress resumed(1000);
  resumed.set_total(64 * 1024 * 1024);
  resumed.set_resumed(32 * 1024 * 1024);
  CHECK(*resumed.update("big", 48 * 1024 * 1024, 2000) == "big  48.0 MiB / 64.0 MiB  75%  16.0 MiB/s  ETA 0:01");
  CHECK(resumed.summary(64 * 1024 * 1024, 3000) ==
        "copied 64.0 MiB in 2.0 s (16.0 MiB/s), 32.0 MiB of it resumed from partial files");
}

TEST_CASE("the sender announces its total after the header, from a walk first") {
  Encoder enc;
  enc.header();
  enc.total(12345);
  enc.end();
  struct Total : Recorder {
    uint64_t seen = 0;
    void on_total(uint64_t bytes) override { seen = bytes; }
  } r;
  Decoder d(r);
  REQUIRE(d.feed(enc.take()));
  CHECK(r.seen == 12345);
  Encoder inside;
  inside.header();
  inside.file(entry("f"));
  inside.total(1);
  Decoder d2(r);
  CHECK_FALSE(d2.feed(inside.take()));
  CHECK(d2.error().find("total inside a file") != std::string::npos);
}

TEST_CASE("a resuming receiver's answers: 24 bytes each, whatever pieces they come in") {
  Partial a{1234567890123ull, checksum_of("abc")}, b{0, {}};
  std::string both = encode_partial(a) + encode_partial(b);
  REQUIRE(both.size() == 2 * kPartialSize);
  PartialDecoder decoder;
  std::vector<Partial> got;
  for (char c : both) {
    decoder.feed(std::string_view(&c, 1));
    Partial p;
    while (decoder.next(p)) got.push_back(p);
  }
  REQUIRE(got.size() == 2);
  CHECK(got[0].size == a.size);
  CHECK(got[0].checksum == a.checksum);
  CHECK(got[1].size == 0);
}
