// hvtermd's log in a file (agent/log_file: --log-file, a Windows service): timestamped, rotated.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "agent/log_file.h"
#include "common/log.h"

#ifndef _WIN32
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>
#endif

namespace fs = std::filesystem;
using namespace hvterm;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("hvterm-log-test-" + std::to_string(std::random_device{}()));
    fs::create_directories(path);
  }
  ~TempDir() {
    log_to_stderr();
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
};

std::vector<std::string> lines_of(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // the test's own lines, written in text mode
    lines.push_back(line);
  }
  return lines;
}

bool looks_like_utc_timestamp(const std::string& s) {  // 2026-11-26T03:10:00.123Z
  if (s.size() != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' ||
      s[23] != 'Z')
    return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22})
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

}  // namespace

TEST_CASE("log file: one timestamped record per line, appended to what is there") {
  TempDir dir;
  fs::path file = dir.path / "agent.log";
  { std::ofstream(file) << "an earlier line\n"; }
  std::string error;
  REQUIRE(log_to_file(file.string(), 1 << 20, error));
  log::set_program("hvtermd");
  log::warn("refused cid 5");
  log::debug("not at this level");
  log_to_stderr();
  log::set_program("hvterm");
  auto lines = lines_of(file);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "an earlier line");
  CHECK(looks_like_utc_timestamp(lines[1].substr(0, 24)));
  CHECK(lines[1].substr(24) == " hvtermd: warn: refused cid 5");
}

TEST_CASE("log file: past its limit it becomes FILE.1 and a new one starts") {
  TempDir dir;
  fs::path file = dir.path / "agent.log";
  fs::path old = dir.path / "agent.log.1";
  std::string error;
  REQUIRE(log_to_file(file.string(), 300, error));
  for (int i = 0; i < 20; ++i) log::info("record " + std::to_string(i) + " " + std::string(20, 'x'));
  log_to_stderr();
  REQUIRE(fs::exists(old));
  CHECK(fs::file_size(file) <= 300);
  CHECK(fs::file_size(old) <= 300);  // a record that would not fit starts the next file
  CHECK(fs::file_size(old) > 300 - 100);
  // Nothing lost between the two, and the newest record is the last line of the current file.
  auto current = lines_of(file);
  REQUIRE_FALSE(current.empty());
  CHECK(current.back().find("record 19 ") != std::string::npos);
  auto previous = lines_of(old);
  REQUIRE_FALSE(previous.empty());
  std::string last_old = previous.back(), first_new = current.front();
  int last_old_n = std::stoi(last_old.substr(last_old.find("record ") + 7));
  int first_new_n = std::stoi(first_new.substr(first_new.find("record ") + 7));
  CHECK(first_new_n == last_old_n + 1);

  SUBCASE("a file already past the limit is rotated when it is opened") {
    { std::ofstream(file, std::ios::app) << std::string(400, 'y') << "\n"; }
    REQUIRE(log_to_file(file.string(), 300, error));
    log::info("fresh");
    log_to_stderr();
    auto fresh = lines_of(file);
    REQUIRE(fresh.size() == 1);
    CHECK(fresh[0].find("fresh") != std::string::npos);
    CHECK(lines_of(old).back() == std::string(400, 'y'));
  }
}

TEST_CASE("log file: one that cannot be moved aside is emptied instead, and says so") {
  TempDir dir;
  fs::path file = dir.path / "agent.log";
  fs::create_directories(dir.path / "agent.log.1" / "in-the-way");  // a rename onto it fails
  std::string error;
  REQUIRE(log_to_file(file.string(), 300, error));
  for (int i = 0; i < 20; ++i) log::info("record " + std::to_string(i) + " " + std::string(20, 'x'));
  log_to_stderr();
  CHECK(fs::file_size(file) <= 300 + 200);  // bounded: the note and the records since
  auto lines = lines_of(file);
  REQUIRE(lines.size() >= 2);
  CHECK(lines[0].find("warn: could not move the full log to " + file.string() + ".1") != std::string::npos);
  CHECK(lines.back().find("record 19 ") != std::string::npos);
  CHECK(fs::is_directory(dir.path / "agent.log.1" / "in-the-way"));
}

TEST_CASE("log file: one that cannot be opened is an error naming it") {
  TempDir dir;
  std::string path = (dir.path / "no-such-dir" / "agent.log").string();
  std::string error;
  CHECK_FALSE(log_to_file(path, 1 << 20, error));
  CHECK(error.find("cannot open log file " + path) == 0);
}

namespace {

// A link at `link` to `target`, as another user could plant it; false where this system does not
// let us make one (Windows without the privilege or developer mode).
bool plant_symlink(const fs::path& target, const fs::path& link) {
  std::error_code error;
  fs::create_symlink(target, link, error);
  if (error) MESSAGE("cannot create a symbolic link here (" << error.message() << "): case not run");
  return !error;
}

std::string contents_of(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("log file: a link in its place is refused, and what it points at is left alone") {
  TempDir dir;
  fs::path victim = dir.path / "victim";
  { std::ofstream(victim, std::ios::binary) << "precious\n"; }
  fs::path file = dir.path / "agent.log";
  if (!plant_symlink(victim, file)) return;
  std::string error;
  CHECK_FALSE(log_to_file(file.string(), 1 << 20, error));
  CHECK(error.find("refusing log file " + file.string() + ": ") == 0);
  CHECK(contents_of(victim) == "precious\n");
}

#ifndef _WIN32
TEST_CASE("log file: one that belongs to the agent but anyone may write is refused") {
  TempDir dir;
  fs::path file = dir.path / "agent.log";
  { std::ofstream(file) << "an earlier line\n"; }
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_write |
                            fs::perms::others_read | fs::perms::others_write);
  std::string error;
  CHECK_FALSE(log_to_file(file.string(), 1 << 20, error));
  CHECK(error == "refusing log file " + file.string() + ": it is writable by others (mode 0626)");
  CHECK(contents_of(file) == "an earlier line\n");
}
#endif

#ifndef _WIN32
namespace {

// The process's stderr goes to a file while this lives.
class CapturedStderr {
 public:
  explicit CapturedStderr(fs::path file) : file_(std::move(file)) {
    std::fflush(stderr);
    saved_ = dup(STDERR_FILENO);
    int fd = ::open(file_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    dup2(fd, STDERR_FILENO);
    ::close(fd);
  }
  ~CapturedStderr() {
    std::fflush(stderr);
    dup2(saved_, STDERR_FILENO);
    ::close(saved_);
  }
  std::vector<std::string> lines() {
    std::fflush(stderr);
    return lines_of(file_);
  }

 private:
  fs::path file_;
  int saved_ = -1;
};

}  // namespace

// The report's case: a link swapped in before a rotation that fails is neither emptied nor written.
TEST_CASE("log file: one that cannot be reopened for the next file says so on stderr, where the records go") {
  TempDir dir;
  fs::path victim = dir.path / "victim";
  { std::ofstream(victim, std::ios::binary) << "precious\n"; }
  fs::path file = dir.path / "agent.log";
  fs::create_directories(dir.path / "agent.log.1" / "in-the-way");
  std::string error;
  REQUIRE(log_to_file(file.string(), 300, error));
  log::set_program("hvtermd");
  log::info("before the swap");
  fs::remove(file);
  fs::create_symlink(victim, file);
  std::vector<std::string> lines;
  {
    CapturedStderr captured(dir.path / "stderr");
    for (int i = 0; i < 20; ++i) log::info("record " + std::to_string(i) + " " + std::string(20, 'x'));
    lines = captured.lines();
  }
  log_to_stderr();
  log::set_program("hvterm");
  CHECK(contents_of(victim) == "precious\n");
  REQUIRE(lines.size() >= 2);
  CHECK(lines[0] == "hvtermd: error: refusing log file " + file.string() +
                        ": it is a symbolic link; records go to stderr from now on");
  CHECK(lines[1].rfind("hvtermd: info: record ", 0) == 0);
  CHECK(lines.back() == "hvtermd: info: record 19 " + std::string(20, 'x'));
}

TEST_CASE("log file: one that cannot be written says so on stderr once, until it can be again") {
  TempDir dir;
  fs::path file = dir.path / "agent.log";
  std::string error;
  REQUIRE(log_to_file(file.string(), 1 << 20, error));
  std::vector<std::string> lines;
  {
    CapturedStderr captured(dir.path / "stderr");
    // A file size limit stands in for a full disk: writes past it fail with EFBIG.
    struct sigaction ignore {
    }, previous{};
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGXFSZ, &ignore, &previous);
    rlimit saved{};
    getrlimit(RLIMIT_FSIZE, &saved);
    rlimit small = saved;
    small.rlim_cur = 1000;
    setrlimit(RLIMIT_FSIZE, &small);
    for (int i = 0; i < 40; ++i) log::info("record " + std::to_string(i) + " " + std::string(40, 'x'));
    setrlimit(RLIMIT_FSIZE, &saved);
    sigaction(SIGXFSZ, &previous, nullptr);
    log::info("after the limit");
    lines = captured.lines();
  }
  log_to_stderr();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "hvtermd: error: cannot write to log file " + file.string() +
                        ": File too large; records are lost until it can be written again");
  CHECK(contents_of(file).find("after the limit\n") != std::string::npos);
  CHECK(fs::file_size(file) > 1000);
}
#endif
