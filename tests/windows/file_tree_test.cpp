// The file seam of hvterm cp on Windows (platform/windows/file_tree.cpp) on a directory of its own,
// and hvterm.exe cp through hvtermd.exe on a named pipe: a file, a tree and a resumed file, both ways.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <random>

#include "platform/file_tree.h"
#include "platform/windows/internal.h"
#include "tests/windows/program_runner.h"

namespace platform = hvterm::platform;
using hvterm::test::Agent;
using hvterm::test::program_path;
using hvterm::test::run_program;
using platform::FileInfo;

namespace {

// A new directory under %TEMP%, removed with what is in it at the end.
class ScratchDir {
 public:
  explicit ScratchDir(const char* what) {
    wchar_t temp[MAX_PATH + 1];
    DWORD n = GetTempPathW(MAX_PATH + 1, temp);
    path_ = platform::detail::narrow(temp, n) + "hvterm-cp-test-" + what + "-" + std::to_string(GetCurrentProcessId());
    remove_tree(path_);
    std::string error;
    REQUIRE(platform::make_directory(path_, error));
  }
  ~ScratchDir() { remove_tree(path_); }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& relative) const { return platform::join_path(path_, relative); }

 private:
  static void remove_tree(const std::string& path) {
    FileInfo info;
    std::string error;
    if (!platform::file_info(path, false, info, error) || info.type == FileInfo::Type::Missing) return;
    if (info.type == FileInfo::Type::Directory) {
      std::vector<std::string> names;
      platform::list_directory(path, names, error);
      for (const auto& name : names) remove_tree(platform::join_path(path, name));
      RemoveDirectoryW(platform::detail::widen(path).c_str());
      return;
    }
    platform::remove_file(path);
  }
  std::string path_;
};

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// By its wide name: the narrow one std::ofstream takes is in the ANSI code page, not UTF-8.
void put_file(const std::string& path, const std::string& bytes) {
  HANDLE file = CreateFileW(platform::detail::widen(path).c_str(), GENERIC_WRITE, 0, nullptr, CREATE_ALWAYS,
                            FILE_ATTRIBUTE_NORMAL, nullptr);
  REQUIRE(file != INVALID_HANDLE_VALUE);
  DWORD wrote = 0;
  bool ok = bytes.empty() || WriteFile(file, bytes.data(), static_cast<DWORD>(bytes.size()), &wrote, nullptr);
  CloseHandle(file);
  REQUIRE(ok);
  REQUIRE(wrote == bytes.size());
}

std::string random_content(size_t size, unsigned seed) {
  std::mt19937 generator(seed);
  std::string data(size, '\0');
  for (char& c : data) c = static_cast<char>(generator() & 0xFF);
  return data;
}

bool single_line(const std::string& text) { return !text.empty() && text.find_first_of("\r\n") == std::string::npos; }

FileInfo info_at(const std::string& path, bool follow = false) {
  FileInfo info;
  std::string error;
  CHECK_MESSAGE(platform::file_info(path, follow, info, error), error);
  return info;
}

}  // namespace

TEST_CASE("file tree: paths as Windows has them") {
  CHECK(platform::join_path("C:\\data", "a/b/c") == "C:\\data\\a\\b\\c");
  CHECK(platform::join_path("C:\\", "a") == "C:\\a");
  CHECK(platform::join_path("C:/x/", "a") == "C:/x/a");
  CHECK(platform::is_absolute_path("C:\\x"));
  CHECK(platform::is_absolute_path("c:/x"));
  CHECK(platform::is_absolute_path("\\\\server\\share\\x"));
  CHECK(platform::is_absolute_path("/x"));
  CHECK_FALSE(platform::is_absolute_path("x\\y"));
  CHECK_FALSE(platform::is_absolute_path("x/y"));
  CHECK(platform::parent_directory("C:\\a\\b") == "C:\\a");
  CHECK(platform::parent_directory("C:\\a") == "C:\\");
  CHECK(platform::parent_directory("C:/a") == "C:/");
  CHECK(platform::parent_directory("a") == ".");
  CHECK(platform::parent_directory("a/b\\c") == "a/b");
  CHECK(platform::last_separator("a/b\\c") == 3);
  CHECK(platform::name_refusal("ok.txt") == nullptr);
  CHECK(platform::name_refusal("..\\..\\windows") != nullptr);
  CHECK(platform::name_refusal("C:evil") != nullptr);
  CHECK(platform::name_refusal("...") != nullptr);
  CHECK(platform::name_refusal(". .") != nullptr);
}

TEST_CASE("file tree: a file written under a temporary name, renamed into place, with its time and mode") {
  ScratchDir dir("file");
  std::string error;
  CHECK(platform::make_directory(dir.path(), error));  // an existing directory is fine
  CHECK(info_at(dir / "nothing").type == FileInfo::Type::Missing);
  FileInfo d = info_at(dir.path());
  CHECK(d.type == FileInfo::Type::Directory);
  CHECK(d.mode == 0755);

  std::string temp;
  int fd = platform::create_temporary(dir.path(), ".hvterm-cp-", temp, error);
  REQUIRE_MESSAGE(fd >= 0, error);
  CHECK(temp.rfind(dir / ".hvterm-cp-", 0) == 0);
  std::string text = std::string("hello\r\n\0world\x1a", 14);  // no text-mode translation
  CHECK(platform::write_file(fd, text.data(), 5, error));
  CHECK(platform::write_file(fd, text.data() + 5, text.size() - 5, error));
  CHECK(platform::close_file(fd, error));
  FileInfo wanted;
  wanted.type = FileInfo::Type::File;
  wanted.mode = 0444;
  wanted.mtime_s = 1700000000;
  wanted.mtime_ns = 123456700;
  REQUIRE_MESSAGE(platform::set_attributes(temp, wanted, platform::kSetMode | platform::kSetTimes, error), error);
  std::string final_name = dir / "b.txt";
  REQUIRE_MESSAGE(platform::rename_into_place(temp, final_name, false, error), error);
  CHECK(info_at(temp).type == FileInfo::Type::Missing);
  FileInfo f = info_at(final_name);
  CHECK(f.type == FileInfo::Type::File);
  CHECK(f.size == text.size());
  CHECK(f.mode == 0444);
  CHECK(f.mtime_s == 1700000000);
  CHECK(f.mtime_ns == 123456700);

  int in = platform::open_for_reading(final_name, error);
  REQUIRE_MESSAGE(in >= 0, error);
  std::string back(64, '\0');
  long n = platform::read_file(in, back.data(), back.size(), error);
  CHECK(n == static_cast<long>(text.size()));
  back.resize(static_cast<size_t>(std::max(n, 0L)));
  CHECK(back == text);
  CHECK(platform::read_file(in, back.data(), back.size(), error) == 0);
  CHECK(platform::close_file(in, error));

  // Over a read-only file, as rename(2) goes over one; not with no_clobber.
  int second = platform::create_temporary(dir.path(), ".hvterm-cp-", temp, error);
  REQUIRE(second >= 0);
  CHECK(platform::write_file(second, "new", 3, error));
  CHECK(platform::close_file(second, error));
  error.clear();
  CHECK_FALSE(platform::rename_into_place(temp, final_name, true, error));
  CHECK(single_line(error));
  CHECK_MESSAGE(platform::rename_into_place(temp, final_name, false, error), error);
  CHECK(file_bytes(final_name) == "new");

  wanted.mode = 0644;
  CHECK(platform::set_attributes(final_name, wanted, platform::kSetMode, error));
  CHECK(info_at(final_name).mode == 0644);
  CHECK(platform::set_attributes(final_name, wanted, 0, error));
  wanted.mode = 0400;
  CHECK(platform::set_attributes(final_name, wanted, platform::kSetMode, error));
  CHECK(platform::remove_file(final_name));  // read-only, yet removed as unlink(2) would
  CHECK(info_at(final_name).type == FileInfo::Type::Missing);
  CHECK_FALSE(platform::remove_file(final_name));
}

TEST_CASE("file tree: a directory's names sorted bytewise, without . and ..") {
  ScratchDir dir("list");
  std::string error;
  for (const char* name : {"b", "a.txt", "B2", "a", "\xc3\xa9t\xc3\xa9"}) put_file(dir / name, "x");
  CHECK(platform::make_directory(dir / "sub", error));
  std::vector<std::string> names;
  REQUIRE_MESSAGE(platform::list_directory(dir.path(), names, error), error);
  CHECK(names == std::vector<std::string>{"B2", "a", "a.txt", "b", "sub", "\xc3\xa9t\xc3\xa9"});
  CHECK(platform::list_directory(dir / "sub", names, error));
  CHECK(names.empty());
  CHECK_FALSE(platform::list_directory(dir / "missing", names, error));
  CHECK(single_line(error));
  CHECK_FALSE(platform::make_directory(dir / "b", error));  // a file is not a directory
  CHECK(single_line(error));
}

TEST_CASE("file tree: the partial file is held by one copy, keeps its bytes, and is cut where asked") {
  ScratchDir dir("partial");
  std::string error, path = dir / ".big.bin.hvterm-partial";
  uint64_t size = 99;
  uint32_t mode = 0;
  int fd = platform::open_partial(path, 0600, size, mode, error);
  REQUIRE_MESSAGE(fd >= 0, error);
  CHECK(size == 0);
  uint64_t other_size = 0;
  CHECK(platform::open_partial(path, 0600, other_size, mode, error) == platform::kPartialBusy);
  CHECK(platform::write_file(fd, "0123456789", 10, error));
  CHECK(platform::close_file(fd, error));

  fd = platform::open_partial(path, 0600, size, mode, error);
  REQUIRE(fd >= 0);
  CHECK(size == 10);
  std::string held(10, '\0');
  CHECK(platform::read_file(fd, held.data(), held.size(), error) == 10);
  CHECK(held == "0123456789");
  CHECK(platform::truncate_file(fd, 4, error));
  CHECK(platform::write_file(fd, "xy", 2, error));
  CHECK(platform::truncate_file(fd, 6, error));
  CHECK(platform::close_file(fd, error));
  CHECK(file_bytes(path) == "0123xy");

  // Removed while still held (the extractor drops a file so), gone once closed.
  fd = platform::open_partial(path, 0600, size, mode, error);
  REQUIRE(fd >= 0);
  CHECK(platform::remove_file(path));
  CHECK(platform::close_file(fd, error));
  CHECK(info_at(path).type == FileInfo::Type::Missing);

  error.clear();
  CHECK(platform::make_directory(dir / "d.hvterm-partial", error));
  CHECK(platform::open_partial(dir / "d.hvterm-partial", 0600, size, mode, error) == -1);
  CHECK(single_line(error));
}

TEST_CASE("file tree: failures are one line of the system's text") {
  ScratchDir dir("errors");
  std::string error;
  CHECK(platform::open_for_reading(dir / "missing", error) == -1);
  CHECK(single_line(error));
  error.clear();
  CHECK_FALSE(platform::rename_into_place(dir / "missing", dir / "other", false, error));
  CHECK(single_line(error));
  std::string temp;
  error.clear();
  CHECK(platform::create_temporary(dir / "no-such-dir", ".t-", temp, error) == -1);
  CHECK(single_line(error));
  FileInfo info;
  CHECK(platform::file_info(dir / "missing\\below", false, info, error));
  CHECK(info.type == FileInfo::Type::Missing);
}

TEST_CASE("file tree: a symbolic link is itself when not followed, or its creation fails in one line") {
  ScratchDir dir("link");
  std::string error;
  put_file(dir / "target.txt", "t");
  if (!platform::make_symlink("target.txt", dir / "link", error)) {
    CHECK(single_line(error));
    MESSAGE("symbolic links cannot be created here: " << error);
    return;
  }
  CHECK(info_at(dir / "link").type == FileInfo::Type::Symlink);
  FileInfo followed = info_at(dir / "link", true);
  CHECK(followed.type == FileInfo::Type::File);
  CHECK(followed.size == 1);
  std::string target;
  CHECK_MESSAGE(platform::read_symlink(dir / "link", target, error), error);
  CHECK(target == "target.txt");
  CHECK(platform::remove_file(dir / "link"));
  CHECK(info_at(dir / "target.txt").type == FileInfo::Type::File);
}

namespace {

std::string cp_pipe(const char* what) {
  return "\\\\.\\pipe\\hvterm-test-cp-" + std::string(what) + "-" + std::to_string(GetCurrentProcessId());
}

}  // namespace

TEST_CASE("hvterm cp through hvtermd.exe: a file in and out, a tree with -r, byte for byte") {
  ScratchDir dir("e2e");
  Agent agent(cp_pipe("e2e"));
  REQUIRE(agent.ready());
  const std::string hvterm = program_path("hvterm");
  std::string error;
  REQUIRE(platform::make_directory(dir / "guest", error));
  REQUIRE(platform::make_directory(dir / "back", error));
  std::string data = random_content(3 * 1024 * 1024 + 17, 1);
  put_file(dir / "big.bin", data);

  auto push = run_program({hvterm, "cp", "-q", "--target", agent.target(), dir / "big.bin",
                           ":" + (dir / "guest") + "\\"},
                          {}, 60000);
  CHECK_MESSAGE(push.exit_code == 0, push.err);
  CHECK(file_bytes(dir / "guest\\big.bin") == data);
  auto pull = run_program({hvterm, "cp", "-q", "--target", agent.target(), ":" + (dir / "guest\\big.bin"),
                           dir / "back\\copy.bin"},
                          {}, 60000);
  CHECK_MESSAGE(pull.exit_code == 0, pull.err);
  CHECK(file_bytes(dir / "back\\copy.bin") == data);

  // - is stdin as a source and stdout as a destination, bytes as they are.
  std::string small = random_content(200000, 4) + "\r\n\x1a";
  auto from_stdin = run_program({hvterm, "cp", "-q", "--target", agent.target(), "-", ":" + (dir / "guest\\stdin.bin")},
                                small, 60000);
  CHECK_MESSAGE(from_stdin.exit_code == 0, from_stdin.err);
  CHECK(file_bytes(dir / "guest\\stdin.bin") == small);
  auto to_stdout = run_program({hvterm, "cp", "-q", "--target", agent.target(), ":" + (dir / "guest\\stdin.bin"), "-"},
                               {}, 60000);
  CHECK_MESSAGE(to_stdout.exit_code == 0, to_stdout.err);
  CHECK(to_stdout.out == small);

  // A relative guest path is under the agent user's profile directory.
  std::string relative = "hvterm-cp-test-relative-" + std::to_string(GetCurrentProcessId()) + ".bin";
  std::string in_profile = platform::join_path(platform::detail::environment_variable(L"USERPROFILE"), relative);
  auto to_profile = run_program({hvterm, "cp", "-q", "--target", agent.target(), dir / "big.bin", ":" + relative}, {},
                                60000);
  CHECK_MESSAGE(to_profile.exit_code == 0, to_profile.err);
  CHECK(file_bytes(in_profile) == data);
  platform::remove_file(in_profile);

  REQUIRE(platform::make_directory(dir / "tree", error));
  REQUIRE(platform::make_directory(dir / "tree\\sub", error));
  REQUIRE(platform::make_directory(dir / "tree\\sub\\deeper", error));
  put_file(dir / "tree\\a.txt", "alpha\n");
  put_file(dir / "tree\\sub\\b.bin", random_content(70000, 2));
  put_file(dir / "tree\\sub\\deeper\\empty", "");
  auto push_tree = run_program({hvterm, "cp", "-q", "-r", "-p", "--target", agent.target(), dir / "tree",
                                ":" + (dir / "guest")},
                               {}, 60000);
  CHECK_MESSAGE(push_tree.exit_code == 0, push_tree.err);
  auto pull_tree = run_program({hvterm, "cp", "-q", "-r", "--target", agent.target(), ":" + (dir / "guest\\tree"),
                                dir / "back"},
                               {}, 60000);
  CHECK_MESSAGE(pull_tree.exit_code == 0, pull_tree.err);
  for (const char* name : {"a.txt", "sub\\b.bin", "sub\\deeper\\empty"}) {
    CAPTURE(name);
    CHECK(info_at(dir / ("back\\tree\\" + std::string(name))).type == FileInfo::Type::File);
    CHECK(file_bytes(dir / ("back\\tree\\" + std::string(name))) == file_bytes(dir / ("tree\\" + std::string(name))));
  }
  // -p kept the time on the way in.
  CHECK(info_at(dir / "guest\\tree\\a.txt").mtime_s == info_at(dir / "tree\\a.txt").mtime_s);
  std::vector<std::string> names;
  CHECK(platform::list_directory(dir / "guest\\tree\\sub", names, error));
  CHECK(names == std::vector<std::string>{"b.bin", "deeper"});  // nothing temporary left beside them
}

TEST_CASE("hvterm cp --resume through hvtermd.exe: the first half from the partial file, the copy exact") {
  ScratchDir dir("resume");
  Agent agent(cp_pipe("resume"));
  REQUIRE(agent.ready());
  const std::string hvterm = program_path("hvterm");
  std::string error;
  REQUIRE(platform::make_directory(dir / "guest", error));
  std::string data = random_content(4 * 1024 * 1024, 3);
  put_file(dir / "big.bin", data);
  put_file(dir / "guest\\.big.bin.hvterm-partial", data.substr(0, data.size() / 2));

  auto push = run_program({hvterm, "cp", "--resume", "--progress", "--target", agent.target(), dir / "big.bin",
                           ":" + (dir / "guest") + "\\"},
                          {}, 60000);
  CHECK_MESSAGE(push.exit_code == 0, push.err);
  CHECK(push.err.find("of it resumed from partial files") != std::string::npos);
  CHECK(file_bytes(dir / "guest\\big.bin") == data);
  CHECK(info_at(dir / "guest\\.big.bin.hvterm-partial").type == FileInfo::Type::Missing);

  // And out of the agent: the partial file on this side.
  REQUIRE(platform::make_directory(dir / "back", error));
  put_file(dir / "back\\.big.bin.hvterm-partial", data.substr(0, data.size() / 3));
  auto pull = run_program({hvterm, "cp", "--resume", "--progress", "--target", agent.target(),
                           ":" + (dir / "guest\\big.bin"), dir / "back"},
                          {}, 60000);
  CHECK_MESSAGE(pull.exit_code == 0, pull.err);
  CHECK(pull.err.find("of it resumed from partial files") != std::string::npos);
  CHECK(file_bytes(dir / "back\\big.bin") == data);
  CHECK(info_at(dir / "back\\.big.bin.hvterm-partial").type == FileInfo::Type::Missing);
}
