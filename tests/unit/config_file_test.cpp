// The config file (client/config_file): names, precedence, and errors that say FILE:LINE.
#include <doctest/doctest.h>

#include <string>

#include "client/config_file.h"

using namespace hvterm;

namespace {
ConfigFiles parsed(std::initializer_list<std::pair<const char*, const char*>> files) {
  ConfigFiles config;
  std::string error;
  for (const auto& [path, text] : files) {
    bool ok = config.add_text(text, path, error);
    REQUIRE_MESSAGE(ok, error);
  }
  return config;
}

std::string error_of(const char* text) {
  ConfigFiles config;
  std::string error;
  CHECK_FALSE(config.add_text(text, "/etc/hvterm/config", error));
  CHECK(error.find('\n') == std::string::npos);
  return error;
}
}  // namespace

TEST_CASE("config: a name's own table, then [defaults]; earlier files before later ones") {
  auto config =
      parsed({{"/home/a/.config/hvterm/config",
               "[defaults]\nkeepalive = \"7s\"\n[web1]\ntarget = \"vsock:3\"\nuser = \"alice\"\n"},
              {"/etc/hvterm/config",
               "[defaults]\nescape = \"%\"\nkeepalive = \"9s\"\n[web1]\ntarget = \"vsock:4\"\nworkdir = \"/srv\"\n"
               "keepalive = \"8s\"\n"
               "[db]\nport = 2222\n"}});
  CHECK(config.names() == std::vector<std::string>{"db", "web1"});
  auto web1 = config.resolve("web1");
  CHECK(web1.named);
  CHECK(web1.values.at("target").text == "vsock:3");
  CHECK(web1.values.at("target").origin == "/home/a/.config/hvterm/config:4");
  CHECK(web1.values.at("user").text == "alice");
  CHECK(web1.values.at("keepalive").text == "7s");  // the user's [defaults] beat even the system's [web1]
  CHECK(web1.values.at("keepalive").origin == "/home/a/.config/hvterm/config:2");
  CHECK(web1.values.at("workdir").text == "/srv");
  CHECK(web1.values.at("escape").origin == "/etc/hvterm/config:2");
  auto other = config.resolve("vm7");
  CHECK_FALSE(other.named);
  CHECK(other.values.count("target") == 0);
  CHECK(other.values.at("escape").text == "%");
  CHECK(config.resolve("db").values.at("port").text == "2222");
}

TEST_CASE("config: env merges per variable, the first definition winning") {
  auto config = parsed({{"/u", "[defaults]\nenv = [\"A=user-default\"]\n[web1]\nenv = [\"B=web1\", \"B=again\"]\n"},
                        {"/s", "[web1]\nenv = [\"A=system\", \"C=system\"]\n"}});
  auto env = config.resolve("web1").env;
  REQUIRE(env.size() == 3);
  CHECK(env[0].text == "B=web1");
  CHECK(env[0].origin == "/u:4");
  CHECK(env[1].text == "A=user-default");
  CHECK(env[2].text == "C=system");
}

TEST_CASE("config: paths start from the home directory or the file's own directory") {
  CHECK(expand_config_path("~/.t", "/etc/hvterm", "/home/a") == "/home/a/.t");
  CHECK(expand_config_path("tok", "/etc/hvterm", "/home/a") == "/etc/hvterm/tok");
  CHECK(expand_config_path("/abs/tok", "/etc/hvterm", "/home/a") == "/abs/tok");
  CHECK(expand_config_path("C:\\t", "C:\\ProgramData\\hvterm", "C:\\Users\\a") == "C:\\t");
  auto config = parsed({{"/etc/hvterm/config", "[w]\ntoken-file = \"w.token\"\n"}});
  CHECK(config.resolve("w").values.at("token-file").text == "/etc/hvterm/w.token");
}

TEST_CASE("config: each mistake is one line naming the file and line") {
  CHECK(error_of("x = 1\n") == "/etc/hvterm/config:1: 'x' is outside a table: put settings under [defaults] or [NAME]");
  CHECK(error_of("[a]\n\ntagret = \"vsock:3\"\n")
            .rfind("/etc/hvterm/config:3: unknown key 'tagret' (known: target,", 0) == 0);
  CHECK(error_of("[defaults]\ntarget = \"vsock:3\"\n") ==
        "/etc/hvterm/config:2: 'target' belongs in a named table such as [web1], not in [defaults]");
  CHECK(error_of("[\"vsock:3\"]\n") ==
        "/etc/hvterm/config:1: 'vsock:3' is not a usable name (letters, digits, '-', '_', '.'; no ':')");
  CHECK(error_of("[a]\nkeepalive = 5\n") ==
        "/etc/hvterm/config:2: keepalive is a quoted string, such as keepalive = \"30s\"");
  CHECK(error_of("[a]\nkeepalive = \"5 parsecs\"\n") ==
        "/etc/hvterm/config:2: keepalive: '5 parsecs' is not a duration such as 10s or 5m");
  CHECK(error_of("[a]\nport = 0\n") == "/etc/hvterm/config:2: port is a number from 1 to 4294967294");
  CHECK(error_of("[a]\nport = \"22\"\n") == "/etc/hvterm/config:2: port is a number from 1 to 4294967294");
  CHECK(error_of("[a]\nenv = [\"A=1\",\n  \"FOO\"]\n") == "/etc/hvterm/config:3: env takes KEY=VALUE, got 'FOO'");
  CHECK(error_of("[a]\nenv = \"A=1\"\n") == "/etc/hvterm/config:2: env is a list of \"KEY=VALUE\" strings");
  CHECK(error_of("[a]\nescape = \"ab\"\n") ==
        "/etc/hvterm/config:2: escape is one character, ^X for a control character, or \"none\"");
  CHECK(error_of("[a]\nreconnect = \"no\"\n") == "/etc/hvterm/config:2: reconnect is true or false");
  CHECK(error_of("[a]\ntarget = \"vsock:x\"\n") ==
        "/etc/hvterm/config:2: invalid target 'vsock:x': 'x' is not a CID (a number such as 3)");
  CHECK(error_of("[a]\nuser = \"\"\n") == "/etc/hvterm/config:2: user is empty (leave it out for the default)");
  CHECK(error_of("[a]\nuser = \"x\"\n[b\n").rfind("/etc/hvterm/config:3: ", 0) == 0);  // TOML syntax, from toml++
  CHECK(error_of("[a]\nuser = \"x\"\nuser = \"y\"\n").rfind("/etc/hvterm/config:3: ", 0) == 0);
}

TEST_CASE("config: a file that is absent adds nothing unless it was asked for") {
  ConfigFiles config;
  std::string error;
  CHECK(config.add_file("/nonexistent/hvterm/config", false, error));
  CHECK(config.names().empty());
  REQUIRE(config.sources().size() == 1);
  CHECK_FALSE(config.sources()[0].present);
  CHECK(config.sources()[0].problem == "absent");
  CHECK_FALSE(config.add_file("/nonexistent/hvterm/config", true, error));
  CHECK(error == "cannot read the config file /nonexistent/hvterm/config: No such file or directory");
  CHECK_FALSE(config.add_file("/", true, error));
  CHECK(error == "cannot read the config file /: it is a directory");
  CHECK(config.add_file("/", false, error));
  REQUIRE(config.sources().size() == 2);
  CHECK(config.sources()[1].problem == "it is a directory");
}

TEST_CASE("config: forwards are lists checked as -L and -R are; the first table with one wins whole") {
  auto config = parsed({{"/home/u/.config/hvterm/config",
                         "[web1]\nlocal-forward = [\"8080:80\", \"0:unix:/run/app.sock\"]\n"
                         "[defaults]\nlocal-forward = [\"9000:9000\"]\nremote-forward = [\"3128:proxy:3128\"]\n"}});
  auto web1 = config.resolve("web1");
  CHECK(web1.values.at("local-forward").text == "8080:80\n0:unix:/run/app.sock");
  CHECK(web1.values.at("local-forward").origin == "/home/u/.config/hvterm/config:2");
  CHECK(web1.values.at("remote-forward").text == "3128:proxy:3128");
  CHECK(config.resolve("other").values.at("local-forward").text == "9000:9000");
  CHECK(error_of("[a]\nlocal-forward = \"8080:80\"\n") ==
        "/etc/hvterm/config:2: local-forward is a list of \"[BIND:]PORT:DESTINATION\" strings, such as [\"8080:80\"]");
  CHECK(error_of("[a]\nlocal-forward = [\"8080:80\",\n \"8080\"]\n")
            .rfind("/etc/hvterm/config:3: local-forward: '8080' is not [BIND:]PORT:DESTINATION", 0) == 0);
  CHECK(error_of("[a]\nremote-forward = [\"0:22\"]\n") ==
        "/etc/hvterm/config:2: remote-forward: '0:22': give the port to listen on in the guest (its programs must "
        "know it), not 0");
}
