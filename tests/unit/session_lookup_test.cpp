// How a client turns what the user typed (a name, an id, a prefix of an id) into one session of the
// agent's list, and what it says when it cannot (client/request.h).
#include <doctest/doctest.h>

#include "client/env_forward.h"
#include "client/request.h"

using namespace hvterm;

namespace {

wire::ListEntry entry(const char* hex_start, const char* name = "") {
  wire::ListEntry e;
  std::string hex = hex_start;
  hex.resize(32, '0');
  for (size_t i = 0; i < 16; ++i) e.id[i] = static_cast<uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  e.name = name;
  return e;
}

}  // namespace

TEST_CASE("a session by id prefix, any case; one that several ids share lists them, with names") {
  std::vector<wire::ListEntry> entries = {entry("1f2e3d4c", "build"), entry("1a2b3c4d"), entry("9900aa")};
  std::string error;
  const wire::ListEntry* found = pick_session(entries, "1F2E", "local", error);
  REQUIRE(found != nullptr);
  CHECK(found == &entries[0]);
  CHECK(pick_session(entries, "9", "local", error) == &entries[2]);
  CHECK(pick_session(entries, wire::session_id_hex(entries[1].id), "local", error) == &entries[1]);

  CHECK(pick_session(entries, "1", "local", error) == nullptr);
  CHECK(error == "session id 1 is ambiguous on local: 1f2e3d4c (build), 1a2b3c4d; give more digits or a name");

  CHECK(pick_session(entries, "77", "vsock:3", error) == nullptr);
  CHECK(error == "no session 77 on vsock:3");
  CHECK(pick_session({}, "1", "local", error) == nullptr);
  CHECK(error.find("no session") == 0);
}

TEST_CASE("a session by name: exact, case-sensitive, and before ids that start with the same digits") {
  std::vector<wire::ListEntry> entries = {entry("db00"), entry("1f2e", "db"), entry("abcd", "web")};
  std::string error;
  CHECK(pick_session(entries, "db", "local", error) == &entries[1]);  // not the id db00...
  CHECK(pick_session(entries, "web", "local", error) == &entries[2]);
  CHECK(pick_session(entries, "Web", "local", error) == nullptr);
  CHECK(error == "no session named 'Web' on local");
  CHECK(pick_session(entries, "we", "local", error) == nullptr);  // names are not abbreviated
  CHECK(pick_session(entries, "a b", "local", error) == nullptr);
  CHECK(error == "'a b' is neither a session id (hex digits, as 'hvterm ls' shows) nor a name");
  CHECK(pick_session(entries, "", "local", error) == nullptr);
}

TEST_CASE("forwarded environment: LANG, LC_* and COLORTERM only, sorted") {
  CHECK(forwarded_variable("LANG"));
  CHECK(forwarded_variable("LC_ALL"));
  CHECK(forwarded_variable("LC_CTYPE"));
  CHECK(forwarded_variable("COLORTERM"));
  CHECK_FALSE(forwarded_variable("LC_"));
  CHECK_FALSE(forwarded_variable("LANGUAGE"));
  CHECK_FALSE(forwarded_variable("TERM"));  // a field of its own in OPEN
  CHECK_FALSE(forwarded_variable("PATH"));
  CHECK_FALSE(forwarded_variable("lang"));
  CHECK(forwarded_environment({{"PATH", "/bin"},
                               {"LC_TIME", "de_DE.UTF-8"},
                               {"LANG", "fr_FR.UTF-8"},
                               {"COLORTERM", "truecolor"},
                               {"HOME", "/root"},
                               {"LC_ALL", ""}}) ==
        std::vector<std::string>{"COLORTERM=truecolor", "LANG=fr_FR.UTF-8", "LC_ALL=", "LC_TIME=de_DE.UTF-8"});
  CHECK(forwarded_environment({}).empty());
}
