"""Session management: ls (text and JSON), kill, many detached sessions, linger expiry."""
import json
import os
import subprocess

import pexpect

from conftest import HVTERM, BASE_ENV, PROMPT, Agent, hvterm, spawn_shell, wait_for


def sessions(agent):
    r = hvterm("ls", agent.target, "--json", check=0)
    return json.loads(r.stdout)


def start_detached(agent, count, command=("sleep", "1000")):
    """Start `count` exec sessions and drop their clients: the sessions stay, detached."""
    procs = [subprocess.Popen([HVTERM, "exec", "--no-reconnect", agent.target, "--", *command],
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=BASE_ENV) for _ in range(count)]
    wait_for(lambda: len(sessions(agent)) == count, f"{count} sessions")
    for p in procs:
        p.kill()
        p.wait()
    wait_for(lambda: all(s["state"] == "detached" for s in sessions(agent)), "sessions to detach")


def test_ls_text_and_json(agent):
    assert b"no sessions" in hvterm("ls", agent.target, check=0).stdout
    assert sessions(agent) == []
    child = spawn_shell(agent.target, rows=20, cols=70)
    child.expect_exact(PROMPT)
    (s,) = sessions(agent)
    assert s["state"] == "attached" and s["mode"] == "pty" and s["rows"] == 20 and s["cols"] == 70
    assert len(s["id"]) == 32 and s["pid"] > 0 and s["exit_code"] is None and s["clients"] == 1
    assert s["command"] == "/bin/bash --norc --noprofile"
    text = hvterm("ls", agent.target, check=0).stdout.decode()
    header, row = text.splitlines()
    assert header.split()[:6] == ["ID", "NAME", "STATE", "CLIENTS", "PID", "SIZE"]
    assert row.split()[:6] == [s["id"][:8], "-", "attached", "1", str(s["pid"]), "70x20"]
    child.send("\r~.")
    child.expect(pexpect.EOF)
    assert sessions(agent)[0]["state"] == "detached" and sessions(agent)[0]["clients"] == 0


def test_ls_json_is_valid_whatever_bytes_the_command_holds(agent):
    # A command line may hold any bytes; the listing must stay one valid JSON document.
    start_detached(agent, 1, command=("sh", "-c", "sleep 1000", b"caf\xe9-latin1", 'q"uote\\\x01'))
    (s,) = sessions(agent)
    assert "caf\ufffd-latin1" in s["command"], s  # not UTF-8: replaced, the document stays valid
    assert 'q"uote\\\x01' in s["command"], s
    lines = hvterm("ls", agent.target, "--json", check=0).stdout.decode().splitlines()
    assert lines[0] == "[" and lines[-1] == "]" and len(lines) == 3  # one session per line
    hvterm("kill", agent.target, s["id"], "-s", "KILL", check=0)


def test_kill_with_default_and_named_signals(agent):
    start_detached(agent, 2)
    first, second = sessions(agent)
    assert hvterm("kill", agent.target, first["id"][:6], check=0).stdout == b""
    wait_for(lambda: {s["id"]: s for s in sessions(agent)}[first["id"]]["state"] == "exited", "TERM to land")
    assert {s["id"]: s for s in sessions(agent)}[first["id"]]["exit_code"] == 143
    hvterm("kill", agent.target, second["id"], "--signal", "SIGKILL", check=0)
    wait_for(lambda: {s["id"]: s for s in sessions(agent)}[second["id"]]["exit_code"] == 137, "KILL to land")
    # Killing an exited session discards it.
    hvterm("kill", agent.target, first["id"], check=0)
    wait_for(lambda: first["id"] not in [s["id"] for s in sessions(agent)], "exited session to be discarded")


def test_kill_errors(agent):
    r = hvterm("kill", agent.target, "0123abcd")
    assert r.returncode == 255 and b"no session 0123abcd" in r.stderr
    r = hvterm("kill", agent.target, "0123abcd", "-s", "NOPE")
    assert r.returncode == 2 and b"unknown signal" in r.stderr


def test_hundred_detached_sessions(agent):
    start_detached(agent, 100)
    listed = sessions(agent)
    assert len(listed) == 100 and len({s["id"] for s in listed}) == 100
    sleeps = [pid for pid, name in agent.children() if name == "sleep"]
    assert len(sleeps) == 100
    # Any of them can be taken up again.
    for s in listed:
        hvterm("kill", agent.target, s["id"], "-s", "KILL", check=0)
    wait_for(lambda: all(s["state"] == "exited" and s["exit_code"] == 137 for s in sessions(agent)), "all to exit")


def zombies_of(pid):
    out = []
    for child in os.listdir("/proc"):
        if child.isdigit():
            try:
                with open(f"/proc/{child}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid and fields[0] == "Z":
                    out.append(int(child))
            except OSError:
                pass
    return out


def test_linger_expiry_reaps_without_zombies_or_leaked_fds(workdir):
    agent = Agent(workdir, ["--linger", "2s"])
    try:
        baseline_fds = agent.fd_count()
        start_detached(agent, 100)
        wait_for(lambda: sessions(agent) == [], "lingering sessions to be reaped")
        wait_for(lambda: agent.children() == [], "session processes to be reaped")
        assert zombies_of(agent.proc.pid) == []
        assert agent.fd_count() == baseline_fds
        assert "lingered past its limit" in agent.read_log()
    finally:
        agent.stop()


def test_exited_session_output_waits_for_attach_then_is_collected(agent, workdir):
    gate = os.path.join(workdir, "gate")
    proc = subprocess.Popen([HVTERM, "exec", "--no-reconnect", agent.target, "--", "sh", "-c",
                             f"while [ ! -e {gate} ]; do sleep 0.01; done; echo result=42; exit 3"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=BASE_ENV)
    wait_for(lambda: len(sessions(agent)) == 1, "session")
    proc.kill()  # the client is gone before the program says anything
    proc.wait()
    open(gate, "w").close()
    wait_for(lambda: sessions(agent)[0]["state"] == "exited", "session to exit")
    r = hvterm("attach", agent.target, input=b"")
    assert r.returncode == 3 and r.stdout == b"result=42\n"
    wait_for(lambda: sessions(agent) == [], "the collected session to go")
