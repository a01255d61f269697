// The extractor's promises (src/copy/extractor): nothing outside the destination, nothing partial
// under a final name; and a walked tree written back whole. POSIX only: the Windows file system
// side says "not supported yet" (platform/windows/file_tree.cpp).
#ifndef _WIN32
#include <doctest/doctest.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "copy/extractor.h"
#include "copy/format.h"
#include "copy/walker.h"
#include "copy_test_support.h"
#include "platform/file_tree.h"

using namespace hvterm;
using namespace hvterm::copy;
using namespace hvterm::copy::test;
using namespace std::string_literals;

namespace {

std::string one_file_stream(const std::string& name, const std::string& body) {
  Encoder enc;
  enc.header();
  Entry e = entry(name);
  e.size = body.size();
  enc.file(e);
  if (!body.empty()) enc.chunk(body);
  enc.file_end(body.size(), checksum_of(body));
  enc.end();
  return enc.take();
}

struct TempDir {
  std::string path;
  TempDir() {
    char pattern[] = "/tmp/hvterm-copy-test-XXXXXX";
    REQUIRE(mkdtemp(pattern) != nullptr);
    path = pattern;
  }
  ~TempDir() { CHECK(system(("rm -rf '" + path + "'").c_str()) == 0); }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool exists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

// The names in a directory, one level.
std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  std::string error;
  platform::list_directory(dir, names, error);
  return names;
}

struct Run {
  std::vector<std::string> warnings;
  bool ok = true, failed = false;
  std::string fatal;
};

Run extract(const std::string& stream, const Placement& placement, Extractor::Options options = {},
            bool feed_bytewise = false) {
  Run run;
  Extractor x(placement, options, [&](const std::string& w) { run.warnings.push_back(w); });
  if (feed_bytewise) {
    for (char c : stream)
      if (!x.feed(std::string_view(&c, 1))) break;
  } else {
    x.feed(stream);
  }
  run.ok = x.finish();
  run.failed = x.failed();
  run.fatal = x.fatal_error();
  return run;
}

}  // namespace

TEST_CASE("extract: a file is written whole under its final name, with nothing else left behind") {
  TempDir dir;
  Placement into{dir.path, "", false};
  std::string body = "hello\0world"s;
  Run run = extract(one_file_stream("f", body), into, {}, true);
  CHECK(run.ok);
  CHECK_FALSE(run.failed);
  CHECK(read_all(dir / "f") == body);
  CHECK(names_in(dir.path) == std::vector<std::string>{"f"});

  SUBCASE("a destination that names the copy renames the single top-level entry") {
    Placement named{dir.path, "renamed", false};
    CHECK(extract(one_file_stream("f", "x"), named).ok);
    CHECK(read_all(dir / "renamed") == "x");
  }
  SUBCASE("--no-clobber leaves an existing file alone, and says so") {
    Extractor::Options keep;
    keep.no_clobber = true;
    Run again = extract(one_file_stream("f", "new"), into, keep);
    CHECK(again.failed);
    REQUIRE(again.warnings.size() == 1);
    CHECK(again.warnings[0] == dir / "f: exists (--no-clobber)");
    CHECK(read_all(dir / "f") == body);
  }
  SUBCASE("a directory under the final name is not replaced, and nothing partial stays beside it") {
    REQUIRE(mkdir((dir / "d").c_str(), 0755) == 0);
    Run onto = extract(one_file_stream("d", "data"), into);
    CHECK(onto.failed);
    REQUIRE(onto.warnings.size() == 1);
    CHECK(onto.warnings[0] == dir / "d: is a directory");
    CHECK(names_in(dir / "d").empty());
    CHECK(names_in(dir.path).size() == 2);  // f and d
  }
}

TEST_CASE("extract: a file gets the mode it is sent with, less the umask, whatever it replaces") {
  TempDir dir;
  Placement into{dir.path, "", false};
  mode_t mask = umask(022);
  auto mode_of = [](const std::string& path) {
    struct stat st {};
    REQUIRE(lstat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
  };
  for (uint32_t mode : {0644u, 0755u, 0600u, 0400u, 0666u}) {
    CAPTURE(mode);
    Encoder enc;
    enc.header();
    Entry e = entry("f", mode);
    e.size = 1;
    enc.file(e);
    enc.chunk("x");
    enc.file_end(1, checksum_of("x"));
    enc.end();
    CHECK(extract(enc.take(), into).ok);
    CHECK(mode_of(dir / "f") == (mode & ~0022u));
  }
  umask(mask);
}

TEST_CASE("extract: a damaged, short or cut file never appears under its final name") {
  TempDir dir;
  Placement into{dir.path, "", false};
  std::string good = one_file_stream("f", "abcdef");
  SUBCASE("checksum mismatch") {
    std::string bad = good;
    bad[bad.size() - 2] ^= 1;  // the last byte of the checksum
    Run run = extract(bad, into);
    CHECK(run.failed);
    CHECK(run.warnings.at(0).find("checksum") != std::string::npos);
  }
  SUBCASE("fewer bytes than the sender says") {
    Encoder enc;
    enc.header();
    enc.file(entry("f"));
    enc.chunk("abc");
    enc.file_end(6, checksum_of("abc"));
    enc.end();
    Run run = extract(enc.take(), into);
    CHECK(run.failed);
    CHECK(run.warnings.at(0).find("said 6 bytes and sent 3") != std::string::npos);
  }
  SUBCASE("the sender aborts it") {
    Encoder enc;
    enc.header();
    enc.file(entry("f"));
    enc.chunk("abc");
    enc.file_abort("Input/output error");
    enc.end();
    Run run = extract(enc.take(), into);
    CHECK(run.failed);
    CHECK(run.warnings.at(0) == dir / "f: Input/output error");
  }
  SUBCASE("the stream stops in the middle") {
    Run run = extract(good.substr(0, good.size() - 10), into);
    CHECK_FALSE(run.ok);
    CHECK(run.fatal.find("ended early") != std::string::npos);
    // Too small to be worth a partial file for --resume (a bigger one keeps it: below).
  }
  CHECK(names_in(dir.path).empty());  // no final name, no temporary one
}

TEST_CASE("extract: a hostile stream writes nothing outside the destination") {
  TempDir outside;
  std::string dest = outside / "dest";
  REQUIRE(mkdir(dest.c_str(), 0700) == 0);
  Placement into{dest, "", false};
  SUBCASE("'..' and absolute names are refused before anything is written") {
    for (std::string name : {"../x", "a/../../x", "/tmp/x", "./x"}) {
      std::string stream = one_file_stream("ok", "1");
      std::string hostile = one_file_stream(name, "evil");
      Run run = extract(hostile, into);
      CHECK_FALSE(run.ok);
      CHECK(run.fatal.find("malformed") != std::string::npos);
    }
    CHECK(names_in(outside.path) == std::vector<std::string>{"dest"});
    CHECK(names_in(dest).empty());
  }
  SUBCASE("a symlink the stream made is never written through") {
    Encoder enc;
    enc.header();
    Entry link = entry("a");
    link.target = outside.path;
    enc.symlink(link);
    Entry f = entry("a/x");
    enc.file(f);
    enc.chunk("evil");
    enc.file_end(4, checksum_of("evil"));
    enc.directory(entry("a/sub"));
    enc.end();
    Run run = extract(enc.take(), into);
    CHECK(run.ok);
    CHECK(run.failed);
    REQUIRE(run.warnings.size() == 2);
    CHECK(run.warnings[0] == dest + "/a/x: would be written through a symlink");
    CHECK_FALSE(exists(outside / "x"));
    CHECK_FALSE(exists(outside / "sub"));
    CHECK(names_in(outside.path) == std::vector<std::string>{"dest"});
  }
  SUBCASE("a file record for a symlink's name replaces the link, not what it points at") {
    std::string victim = outside / "victim";
    { std::ofstream(victim) << "keep"; }
    REQUIRE(symlink(victim.c_str(), (dest + "/f").c_str()) == 0);
    CHECK(extract(one_file_stream("f", "new"), into).ok);
    CHECK(read_all(victim) == "keep");
    CHECK(read_all(dest + "/f") == "new");
  }
  SUBCASE("a destination that is a symlink to a directory is followed, as cp follows it") {
    REQUIRE(symlink(dest.c_str(), (outside / "link").c_str()) == 0);
    Placement via_link{outside / "link", "", false};
    CHECK(extract(one_file_stream("f", "through the link"), via_link).ok);
    CHECK(read_all(dest + "/f") == "through the link");
  }
  SUBCASE("a directory swapped for a symlink in the middle of its files is not written through") {
    Encoder first;
    first.header();
    Entry d = entry("d");
    d.mode = 0777;
    first.directory(d);
    first.file(entry("d/a"));
    first.chunk("a");
    first.file_end(1, checksum_of("a"));
    Encoder second;
    second.file(entry("d/b"));
    second.chunk("b");
    second.file_end(1, checksum_of("b"));
    second.end();
    std::vector<std::string> warnings;
    Extractor x(into, {}, [&](const std::string& w) { warnings.push_back(w); });
    REQUIRE(x.feed(first.take()));
    REQUIRE(rename((dest + "/d").c_str(), (dest + "/moved").c_str()) == 0);
    REQUIRE(symlink(outside.path.c_str(), (dest + "/d").c_str()) == 0);
    REQUIRE(x.feed(second.take()));
    CHECK(x.finish());
    CHECK_FALSE(exists(outside / "b"));
    CHECK(read_all(dest + "/moved/b") == "b");  // the directory it was writing into
    CHECK(names_in(outside.path) == std::vector<std::string>{"dest"});
    struct stat st {};
    REQUIRE(stat(outside.path.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0700);  // the directory's mode, set at the end, went nowhere
  }
  SUBCASE("a destination that names one entry takes no second top-level entry") {
    Placement named{dest, "one", false};
    Encoder enc;
    enc.header();
    for (const char* name : {"a", "b"}) {
      enc.file(entry(name));
      enc.chunk("z");
      enc.file_end(1, checksum_of("z"));
    }
    enc.end();
    Run run = extract(enc.take(), named);
    CHECK(run.failed);
    CHECK(names_in(dest) == std::vector<std::string>{"one"});
  }
}

TEST_CASE("walk then extract: a tree with modes, times, a symlink and odd names, with -p") {
  TempDir dir;
  std::string src = dir / "src";
  std::string odd = std::string("new\nline \xff") + " and spaces";
  REQUIRE(mkdir(src.c_str(), 0750) == 0);
  REQUIRE(mkdir((src + "/sub").c_str(), 0700) == 0);
  { std::ofstream(src + "/sub/" + odd) << "odd"; }
  { std::ofstream(src + "/empty"); }
  REQUIRE(chmod((src + "/empty").c_str(), 0604) == 0);
  REQUIRE(symlink("sub", (src + "/link").c_str()) == 0);
  REQUIRE(mkfifo((src + "/fifo").c_str(), 0600) == 0);
  timespec times[2] = {{0, UTIME_OMIT}, {1600000000, 123456789}};
  REQUIRE(utimensat(AT_FDCWD, (src + "/empty").c_str(), times, 0) == 0);

  std::vector<std::string> warnings;
  Walker walker({src}, true, [&](const std::string& w) { warnings.push_back(w); });
  CHECK(walker.total_bytes_known() == kUnknownSize);  // counted from the first produce() on
  std::string stream;
  while (walker.produce(stream, 5)) {
  }
  CHECK(walker.total_bytes_known() == 3);
  CHECK_FALSE(walker.failed());
  REQUIRE(warnings.size() == 1);  // the fifo, skipped
  CHECK(warnings[0].find("fifo: not a regular file") != std::string::npos);

  std::string dest = dir / "dest";
  REQUIRE(mkdir(dest.c_str(), 0700) == 0);
  Extractor::Options preserve;
  preserve.preserve = true;
  Run run = extract(stream, Placement{dest, "", false}, preserve);
  CHECK(run.ok);
  CHECK_FALSE(run.failed);
  CHECK(read_all(dest + "/src/sub/" + odd) == "odd");
  struct stat st {};
  REQUIRE(stat((dest + "/src/empty").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0604);
  CHECK(st.st_size == 0);
  CHECK(st.st_mtim.tv_sec == 1600000000);
  CHECK(st.st_mtim.tv_nsec == 123456789);
  REQUIRE(stat((dest + "/src").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0750);
  std::string target;
  std::string error;
  REQUIRE(platform::read_symlink(dest + "/src/link", target, error));
  CHECK(target == "sub");
  CHECK_FALSE(exists(dest + "/src/fifo"));

  SUBCASE("without -r a directory is not sent, and that is a failure") {
    Walker flat({src, dir / "missing"}, false, [&](const std::string& w) { warnings.push_back(w); });
    std::string s;
    while (flat.produce(s, 1 << 20)) {
    }
    CHECK(flat.failed());
    CHECK(warnings.at(1).find("is a directory (use -r)") != std::string::npos);
    CHECK(warnings.at(2).find("missing: No such file or directory") != std::string::npos);
  }
}

TEST_CASE("where a copy goes: an existing directory, or a new name in an existing one") {
  TempDir dir;
  Placement p;
  std::string error;
  REQUIRE(place(dir.path, false, p, error));
  CHECK(p.root == dir.path);
  CHECK(p.top_name.empty());
  REQUIRE(place(dir / "new", false, p, error));
  CHECK(p.root == dir.path);
  CHECK(p.top_name == "new");
  CHECK_FALSE(place(dir / "new", true, p, error));
  CHECK(error.find("not a directory") != std::string::npos);
  CHECK_FALSE(place(dir / "no/such", false, p, error));
  CHECK(error.find("No such file") != std::string::npos);
  CHECK_FALSE(place(dir / "new/", false, p, error));
  REQUIRE(place("-", false, p, error));
  CHECK(p.to_stdout);
  CHECK_FALSE(place("-", true, p, error));
}

namespace {

// A sender and a receiver that both resume, joined directly: the walk's records go to the extractor,
// its answers back to the walk, as CopyPump does over a stream.
struct ResumingCopy {
  std::vector<std::string> warnings;
  uint64_t sent = 0;  // chunk bytes that went over
  bool ok = false;
  uint64_t resumed = 0;

  ResumingCopy(const std::string& source, const Placement& placement) {
    Walker walker({source}, true, [&](const std::string& w) { warnings.push_back(w); });
    walker.resume_partials();
    Extractor::Options options;
    options.resume = true;
    Extractor extractor(placement, options, [&](const std::string& w) { warnings.push_back(w); });
    PartialDecoder answers;
    extractor.answer_to([&](std::string bytes) { answers.feed(bytes); });
    std::string out;
    for (bool more = true; more;) {
      out.clear();
      more = walker.produce(out, 64 * 1024);
      REQUIRE(extractor.feed(out));
      while (extractor.busy()) extractor.work(4096);  // the pump does this a piece per loop turn
      Partial answer;
      if (walker.waiting()) {
        REQUIRE(answers.next(answer));
        walker.answer(answer);
      }
    }
    ok = extractor.finish() && !extractor.failed();
    resumed = extractor.bytes_resumed();
    CHECK(walker.bytes_resumed() == resumed);
    sent = walker.bytes_read() - walker.bytes_resumed();
  }
};

void write_file(const std::string& path, const std::string& body) { std::ofstream(path, std::ios::binary) << body; }

}  // namespace

TEST_CASE("resume: a partial file whose bytes match the source is continued, not sent again") {
  TempDir dir;
  std::string body;
  for (int i = 0; i < 300000; ++i) body += static_cast<char>(i * 7 + i / 256);
  write_file(dir / "src", body);
  REQUIRE(mkdir((dir / "out").c_str(), 0755) == 0);
  Placement into{dir / "out", "", false};

  SUBCASE("the partial file's bytes are the source's first ones") {
    write_file(dir / "out/.src.hvterm-partial", body.substr(0, 100000));
    ResumingCopy copy(dir / "src", into);
    CHECK(copy.ok);
    CHECK(copy.resumed == 100000);
    CHECK(copy.sent == body.size() - 100000);
    CHECK(read_all(dir / "out/src") == body);
  }
  SUBCASE("they are not: the file starts over") {
    write_file(dir / "out/.src.hvterm-partial", "something else entirely");
    ResumingCopy copy(dir / "src", into);
    CHECK(copy.ok);
    CHECK(copy.resumed == 0);
    CHECK(copy.sent == body.size());
    CHECK(read_all(dir / "out/src") == body);
  }
  SUBCASE("the partial file is longer than the source now is: it starts over") {
    write_file(dir / "out/.src.hvterm-partial", body + "more");
    ResumingCopy copy(dir / "src", into);
    CHECK(copy.ok);
    CHECK(copy.resumed == 0);
    CHECK(read_all(dir / "out/src") == body);
  }
  SUBCASE("no partial file: all of it") {
    ResumingCopy copy(dir / "src", into);
    CHECK(copy.ok);
    CHECK(copy.resumed == 0);
    CHECK(read_all(dir / "out/src") == body);
  }
  SUBCASE("a sender that goes on before its question is answered is stopped") {
    write_file(dir / "out/.src.hvterm-partial", body.substr(0, 100000));
    Extractor::Options options;
    options.resume = true;
    Extractor x(into, options, nullptr);
    Encoder enc;
    enc.header();
    enc.file(entry("src"));
    CHECK(x.feed(enc.take()));
    CHECK(x.busy());  // reading the partial file for its checksum, a piece per turn
    enc.resume(0);
    CHECK_FALSE(x.feed(enc.take()));
    CHECK(x.fatal_error().find("before its resume question was answered") != std::string::npos);
    return;
  }
  CHECK(names_in(dir / "out") == std::vector<std::string>{"src"});
}

TEST_CASE("a cut copy leaves its partial file for --resume; a failed or abandoned one leaves nothing") {
  TempDir dir;
  Placement into{dir.path, "", false};
  const size_t size = 100 * 1024;  // over 64 KiB: smaller files are sent again whole
  std::string stream = one_file_stream("f", std::string(size, 'x'));
  std::string cut = stream.substr(0, stream.size() - 100);  // inside the file's bytes
  SUBCASE("cut: the stream ends early") {
    Run run = extract(cut, into);
    CHECK_FALSE(run.ok);
    CHECK(names_in(dir.path) == std::vector<std::string>{".f.hvterm-partial"});
    CHECK(read_all(dir / ".f.hvterm-partial").size() > size - 1000);
  }
  SUBCASE("a file of 64 KiB or less leaves nothing: sending it again costs next to nothing") {
    std::string small = one_file_stream("f", std::string(64 * 1024, 'x'));
    CHECK_FALSE(extract(small.substr(0, small.size() - 100), into).ok);
    CHECK(names_in(dir.path).empty());
  }
  SUBCASE("the extractor goes away mid-file (its session was discarded)") {
    {
      Extractor x(into, {}, nullptr);
      x.feed(cut);
    }
    CHECK(names_in(dir.path) == std::vector<std::string>{".f.hvterm-partial"});
  }
  SUBCASE("abandoned (Ctrl-C)") {
    {
      Extractor x(into, {}, nullptr);
      x.feed(cut);
      x.abandon();
    }
    CHECK(names_in(dir.path).empty());
  }
  SUBCASE("a copy without --resume writes over what an older one left") {
    write_file(dir / ".f.hvterm-partial", std::string(2 * size, 'y'));
    CHECK(extract(stream, into).ok);
    CHECK(read_all(dir / "f") == std::string(size, 'x'));
    CHECK(names_in(dir.path) == std::vector<std::string>{"f"});
  }
}

#endif
