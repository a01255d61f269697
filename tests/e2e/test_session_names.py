"""Session names (shell/exec -n): shown by ls, used by attach and kill, unique in the agent and
checked; an id prefix that several sessions share is an error that lists them."""
import json
import struct
import subprocess

import pexpect

from conftest import HVTERM, BASE_ENV, PROMPT, TIMEOUT, hvterm, spawn_shell, wait_for
from rawwire import (CAP_NAMES, CAP_OPEN_ID, HELLO, LIST, LIST_END, LIST_ENTRY, SESSION, RawClient, exchange,
                     frame, frames_in, hello, open_frame)


def sessions(agent):
    return json.loads(hvterm("ls", agent.target, "--json", check=0).stdout)


def by_name(agent):
    return {s["name"]: s for s in sessions(agent)}


def open_raw(agent, sid, name, argv=(b"sleep", b"1000")):
    """A session with an id of the test's choosing (so that ids can share a prefix), left detached."""
    client = RawClient(agent)
    client.send(hello(capabilities=CAP_OPEN_ID | CAP_NAMES) + open_frame(list(argv), sid, name=name))
    client.expect(HELLO)
    client.expect(SESSION)
    client.close()
    wait_for(lambda: all(s["state"] == "detached" for s in sessions(agent)), "the session to detach")


def test_shell_by_name_listed_attached_and_killed(agent):
    child = spawn_shell(agent.target, "-n", "build")
    child.expect_exact(PROMPT)
    (s,) = sessions(agent)
    assert s["name"] == "build"
    header, row = hvterm("ls", agent.target, check=0).stdout.decode().splitlines()
    assert header.split()[:3] == ["ID", "NAME", "STATE"] and row.split()[:3] == [s["id"][:8], "build", "attached"]
    child.sendline("MARK=first; echo marker-$((6*7))")
    child.expect_exact("marker-42")
    child.send("\r~.")
    child.expect(pexpect.EOF)

    again = pexpect.spawn(HVTERM, ["attach", agent.target, "build"], env=BASE_ENV, timeout=TIMEOUT)
    again.expect_exact("attached to session " + s["id"][:8])
    again.sendline("echo back-$MARK")
    again.expect_exact("back-first")  # the same shell
    again.send("\r~.")
    again.expect(pexpect.EOF)

    hvterm("kill", agent.target, "build", "-s", "KILL", check=0)
    wait_for(lambda: by_name(agent)["build"]["state"] == "exited", "the named session to be killed")
    hvterm("kill", agent.target, "build", check=0)  # discards the exited session
    wait_for(lambda: sessions(agent) == [], "the session to be discarded")


def test_exec_tty_takes_a_name_and_names_are_unique(agent):
    first = subprocess.Popen([HVTERM, "exec", "-t", "-n", "web.1", agent.target, "--", "sleep", "1000"],
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=BASE_ENV)
    try:
        wait_for(lambda: "web.1" in by_name(agent), "the named session")
        assert by_name(agent)["web.1"]["mode"] == "pty"
        r = hvterm("exec", "-n", "web.1", agent.target, "--", "echo", "should not run")
        assert r.returncode == 255 and r.stdout == b"", r
        line = r.stderr.decode()
        assert line.count("\n") == 1 and "a session named 'web.1' exists already" in line, line
        assert len(sessions(agent)) == 1
        # Another name is fine, and so are sessions without one.
        hvterm("exec", "--name", "web-2", agent.target, "--", "true", check=0)
        hvterm("exec", agent.target, "--", "true", check=0)
    finally:
        first.kill()
        first.wait()
    hvterm("kill", agent.target, "web.1", "--close", check=0)


def test_a_bad_name_is_a_usage_error_before_connecting(agent):
    for bad, says in [("", "this one is empty"), ("a b", "has a space"), ("-x", None), ("x" * 33, "33 characters"),
                      ("a/b", "'/'"), ("über", "starts with byte 195"), ("ab\x01", "has byte 1")]:
        r = hvterm("exec", "-n", bad, agent.target, "--", "true")
        assert r.returncode == 2, (bad, r)
        line = r.stderr.decode()
        assert line.count("\n") == 1 and "1-32 letters, digits, '.', '_' or '-'" in line, line
        if says:
            assert says in line, line
    assert sessions(agent) == []
    assert "OPEN" not in agent.read_log()


def test_an_ambiguous_prefix_lists_the_candidates(agent):
    open_raw(agent, bytes.fromhex("ab01") + b"\x01" * 14, b"alpha")
    open_raw(agent, bytes.fromhex("ab02") + b"\x02" * 14, None)
    open_raw(agent, bytes.fromhex("cd03") + b"\x03" * 14, b"gamma")
    for command in (["kill", agent.target, "ab"], ["attach", agent.target, "a"], ["kill", agent.target, "AB0"]):
        r = hvterm(*command)
        assert r.returncode == 255, (command, r)
        line = r.stderr.decode()
        assert line.count("\n") == 1, line
        assert "is ambiguous" in line and "ab010101 (alpha)" in line and "ab020202" in line, line
        assert "cd03" not in line
    assert all(s["state"] == "detached" for s in sessions(agent))  # nothing was signalled
    # A unique prefix, any case, and a name still pick their one session.
    hvterm("kill", agent.target, "AB02", "-s", "KILL", check=0)
    hvterm("kill", agent.target, "gamma", "-s", "KILL", check=0)
    wait_for(lambda: sorted(s["state"] for s in sessions(agent)) == ["detached", "exited", "exited"], "two killed")
    assert by_name(agent)["alpha"]["state"] == "detached"
    r = hvterm("kill", agent.target, "nosuch")
    assert r.returncode == 255 and r.stderr.decode() == f"hvterm: no session named 'nosuch' on {agent.target}\n"


def test_the_agent_checks_names_too(agent):
    client = RawClient(agent)
    client.send(hello(capabilities=CAP_OPEN_ID | CAP_NAMES) + open_frame([b"true"], b"\x05" * 16, name=b"no good"))
    frames = client.until_closed()
    assert frames[0][0] == HELLO
    code, n = struct.unpack("<HH", frames[-1][1][:4])
    assert code == 9 and "a session name is 1-32 letters" in frames[-1][1][4:4 + n].decode()


def test_an_older_client_gets_list_entries_without_names(agent):
    open_raw(agent, b"\x07" * 16, b"named")
    def entries(capabilities):
        out = exchange(agent, hello(capabilities=capabilities) + frame(LIST))
        got = frames_in(out)
        assert got[0][0] == HELLO and got[-1][0] == LIST_END
        return [p for t, p in got if t == LIST_ENTRY]
    (old,) = entries(0)
    (new,) = entries(CAP_NAMES)
    # The idle time (u64 at 38, behind id, state, mode, pid, winsize and created) moves between the
    # two answers; everything else must match.
    def steady(entry):
        return entry[:38] + bytes(8) + entry[46:]
    assert steady(new) == steady(old) + struct.pack("<H", 5) + b"named"  # a strict old decoder sees the entry it knows
    # The agent announces what it can do.
    capabilities = struct.unpack("<I", frames_in(exchange(agent, hello()))[0][1][6:10])[0]
    assert capabilities & CAP_NAMES and capabilities & 0x80
    hvterm("kill", agent.target, "named", "--close", check=0)
