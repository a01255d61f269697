"""Named targets from the config file (hvterm-config(5)): `hvterm shell web1` takes web1's target and
defaults, the command line wins, `hvterm config` says what applies and from where, and a mistake in
the file is one line with its file and line number."""
import os
import pwd
import re
import subprocess

import pexpect
import pytest

from conftest import HVTERM, BASE_ENV, PROMPT, SHELL, TIMEOUT, hvterm


def config_env(workdir, user_text, system_text=None):
    """An environment whose user config file holds `user_text` (and system file `system_text`)."""
    xdg = os.path.join(workdir, "xdg")
    os.makedirs(os.path.join(xdg, "hvterm"), exist_ok=True)
    user_file = os.path.join(xdg, "hvterm", "config")
    with open(user_file, "w") as f:
        f.write(user_text)
    system_file = os.path.join(workdir, "system-config")
    if system_text is not None:
        with open(system_file, "w") as f:
            f.write(system_text)
    return dict(BASE_ENV, XDG_CONFIG_HOME=xdg, HVTERM_CONFIG_SYSTEM=system_file), user_file, system_file


def test_shell_by_name_uses_the_target_env_and_escape_of_the_config(agent, workdir):
    env, _, _ = config_env(workdir, f"""
[defaults]
escape = "%"

[web1]
target = "{agent.target}"
env = ["GREETING=from-the-config", "PS1={PROMPT}", "PROMPT_COMMAND="]
""")
    child = pexpect.spawn(HVTERM, ["shell", "web1", *SHELL], env=env, timeout=TIMEOUT)
    child.expect_exact(PROMPT)
    child.sendline("echo $GREETING")
    child.expect_exact("from-the-config")
    child.expect_exact(PROMPT)
    child.send("\r~.")  # the default escape is not the escape any more: a literal ~.
    child.send("\x15")  # ^U: drop the typed line
    child.send("\r%.")
    child.expect_exact("detached")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_the_command_line_wins_over_the_config(agent, workdir):
    env, _, _ = config_env(workdir, f"""
[web1]
target = "{agent.target}"
workdir = "/"
env = ["A=config", "B=config"]
""")
    r = hvterm("exec", "web1", "--", "sh", "-c", "echo $A $B; pwd", env=env, check=0)
    assert r.stdout == b"config config\n/\n"
    r = hvterm("exec", "web1", "--env", "A=cli", "-w", "/tmp", "--", "sh", "-c", "echo $A $B; pwd", env=env, check=0)
    assert r.stdout == b"cli config\n/tmp\n"


def test_a_name_without_target_is_itself_the_target(workdir):
    # A table for a VM name gives it defaults; the name still goes to libvirt or Hyper-V as it is.
    env, user_file, _ = config_env(workdir, '[vm7]\nuser = "root"\n')
    out = hvterm("config", "vm7", env=env, check=0).stdout.decode()
    assert re.search(r"^target +vm7 +\(the name itself\)$", out, re.M), out
    assert re.search(r"^user +root +" + re.escape(user_file) + ":2$", out, re.M), out
    out = hvterm("config", "vsock:5", env=env, check=0).stdout.decode()
    assert re.search(r"^target +vsock:5 +\(not a configured name: taken as a TARGET\)$", out, re.M), out


def test_config_shows_names_and_what_applies_from_where(workdir):
    env, user_file, system_file = config_env(workdir, """
[defaults]
keepalive = "7s"

[web1]
target = "vsock:3"
user = "alice"
""", system_text="""
[defaults]
escape = "%"
keepalive = "9s"

[db]
target = "vsock:4"
port = 2222
""")
    r = hvterm("config", env=env, check=0)
    out = r.stdout.decode()
    assert re.search(r"^db +vsock:4 +" + re.escape(system_file) + r":7$", out, re.M), out
    assert re.search(r"^web1 +vsock:3 +" + re.escape(user_file) + r":6$", out, re.M), out
    assert out.rstrip("\n").endswith(f"Files: {user_file}; {system_file}"), out

    out = hvterm("config", "web1", env=env, check=0).stdout.decode()
    rows = {m[0]: (m[1], m[2]) for m in re.findall(r"^(\S+) +(\S+) +(.+)$", out, re.M)}
    assert rows["target"] == ("vsock:3", f"{user_file}:6")
    assert rows["user"] == ("alice", f"{user_file}:7")
    assert rows["keepalive"] == ("7s", f"{user_file}:3")  # the user's file before the system's
    assert rows["escape"] == ("%", f"{system_file}:3")
    assert rows["port"] == ("18518", "built-in")
    assert rows["dead-timeout"] == ("60s", "built-in")

    assert hvterm("config", "--names", env=env, check=0).stdout == b"db\nweb1\n"
    # -F: that file alone.
    only = os.path.join(workdir, "only.toml")
    with open(only, "w") as f:
        f.write('[solo]\ntarget = "vsock:9"\n')
    assert hvterm("config", "--names", "-F", only, env=env, check=0).stdout == b"solo\n"


def test_without_any_file_there_are_no_names(workdir):
    env = dict(BASE_ENV, XDG_CONFIG_HOME=os.path.join(workdir, "none"),
               HVTERM_CONFIG_SYSTEM=os.path.join(workdir, "none", "system"))
    r = hvterm("config", env=env, check=0)
    assert r.stdout.decode().startswith("No named targets.\n")
    assert "(absent)" in r.stdout.decode()
    assert hvterm("config", "--names", env=env, check=0).stdout == b""


def test_a_mistake_in_the_config_is_one_line_with_file_and_line(agent, workdir):
    env, user_file, _ = config_env(workdir, f'[web1]\ntarget = "{agent.target}"\n\nkeepalive = 5\n')
    for args in (["exec", "web1", "--", "true"], ["ls", agent.target], ["config"], ["config", "--names"]):
        r = hvterm(*args, env=env, check=2)
        assert r.stderr.decode() == f'hvterm: {user_file}:4: keepalive is a quoted string, such as keepalive = "30s"\n', args
        assert r.stdout == b""
    assert "session" not in agent.read_log(), "nothing connected"
    with open(user_file, "w") as f:
        f.write("[web1\n")
    r = hvterm("exec", "web1", "--", "true", env=env, check=2)
    assert r.stderr.decode().startswith(f"hvterm: {user_file}:1: "), r.stderr
    assert r.stderr.count(b"\n") == 1
    r = hvterm("exec", "-F", os.path.join(workdir, "missing.toml"), "web1", "--", "true", env=env, check=2)
    assert b"cannot read the config file" in r.stderr and b"missing.toml" in r.stderr


def test_verbose_says_which_file_named_the_target(agent, workdir):
    env, user_file, _ = config_env(workdir, f'[web1]\ntarget = "{agent.target}"\n')
    r = hvterm("exec", "-v", "web1", "--", "true", env=env, check=0)
    assert f"config: web1 is {agent.target} ({user_file}:2)" in r.stderr.decode(), r.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run hvterm as another user")
def test_a_config_file_this_user_cannot_open_counts_as_none(workdir):
    # As `sudo -u nobody` with root's HOME: ssh ignores a config it cannot open, and so does hvterm,
    # while `hvterm config` says why it was left out. -F FILE is another matter: an error.
    env, user_file, _ = config_env(workdir, '[web1]\ntarget = "vsock:3"\n')
    os.chmod(os.path.dirname(user_file), 0o700)
    nobody = pwd.getpwnam("nobody").pw_uid

    def as_nobody():
        os.setgroups([])
        os.setgid(nobody)
        os.setuid(nobody)

    r = subprocess.run([HVTERM, "config"], capture_output=True, env=env, timeout=TIMEOUT, preexec_fn=as_nobody)
    assert r.returncode == 0, r.stderr
    assert f"{user_file} (Permission denied)" in r.stdout.decode(), r.stdout
    r = subprocess.run([HVTERM, "config", "-F", user_file], capture_output=True, env=env, timeout=TIMEOUT,
                       preexec_fn=as_nobody)
    assert r.returncode == 2
    assert r.stderr.decode() == f"hvterm: cannot read the config file {user_file}: Permission denied\n"
