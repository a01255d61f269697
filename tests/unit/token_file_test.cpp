// --token-file (common/token_file): the first line of a private file, LF or CRLF.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "common/token_file.h"

namespace fs = std::filesystem;
using namespace hvterm;

TEST_CASE("token: the first line, without its LF or CRLF") {
  std::string token, error;
  CHECK(parse_token("s3cret\n", "t", token, error));
  CHECK(token == "s3cret");
  CHECK(parse_token("s3cret\r\n", "t", token, error));
  CHECK(token == "s3cret");
  CHECK(parse_token("s3cret", "t", token, error));
  CHECK(token == "s3cret");
  CHECK(parse_token("s3cret\r\nsecond line\r\n", "t", token, error));
  CHECK(token == "s3cret");
  CHECK(parse_token("in\rside\n", "t", token, error));  // only the line ending's \r goes
  CHECK(token == "in\rside");
}

TEST_CASE("token: an empty first line or an overlong one is an error naming the file") {
  std::string token = "unchanged", error;
  for (const char* text : {"", "\n", "\r\n", "\nsecond"}) {
    CHECK_FALSE(parse_token(text, "/etc/hvterm/token", token, error));
    CHECK(error == "token file /etc/hvterm/token is empty (the token is its first line)");
  }
  CHECK_FALSE(parse_token(std::string(kMaxTokenBytes + 1, 'a'), "/t", token, error));
  CHECK(error == "the token in /t is longer than 4096 bytes");
  CHECK(token == "unchanged");
  CHECK(parse_token(std::string(kMaxTokenBytes, 'a') + "\r\n", "/t", token, error));
  CHECK(token.size() == kMaxTokenBytes);
}

#ifndef _WIN32
TEST_CASE("token file: refused unless only its owner may read and write it") {
  fs::path dir = fs::temp_directory_path() / ("hvterm-token-test-" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  fs::path file = dir / "token";
  { std::ofstream(file, std::ios::binary) << "s3cret\r\n"; }
  std::string token, error;
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
  CHECK(read_token_file(file.string(), token, error));
  CHECK(token == "s3cret");
  fs::permissions(file, fs::perms::group_read | fs::perms::others_read, fs::perm_options::add);
  CHECK_FALSE(read_token_file(file.string(), token, error));
  CHECK(error == "token file " + file.string() + " is readable by others (mode 0644); chmod 600 it");
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_write);
  CHECK_FALSE(read_token_file(file.string(), token, error));
  CHECK(error == "token file " + file.string() + " is writable by others (mode 0620); chmod 600 it");
  CHECK_FALSE(read_token_file((dir / "missing").string(), token, error));
  CHECK(error == "cannot read token file " + (dir / "missing").string() + ": No such file or directory");
  CHECK_FALSE(read_token_file(dir.string(), token, error));
  CHECK(error == "token file " + dir.string() + " is not a regular file or a pipe");
  std::error_code ignored;
  fs::remove_all(dir, ignored);
}
#endif
