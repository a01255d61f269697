"""Sessions outlive connections: resume after cuts, keepalive across a paused agent (DESIGN §5)."""
import hashlib
import io
import json
import os
import random
import re
import select
import signal
import socket
import subprocess
import threading
import time

import pexpect
import pytest

from conftest import HVTERM, BASE_ENV, PROMPT, TIMEOUT, hvterm, shown_text, spawn_shell, until_detach, wait_for
from relay import Relay


@pytest.fixture
def relay(agent, workdir):
    r = Relay(workdir, agent.sock)
    yield r
    r.close()


def cut_at_random_points(relay, seed, count, total):
    """Cuts at `count` random points of a transfer of `total` bytes (counted in both directions)."""
    rng = random.Random(seed)
    relay.cut_after(*(rng.randrange(total // 20, total) for _ in range(count)))


def exec_holding_session(relay, *options, script):
    """hvterm exec through the relay, returned once the client itself holds the session: the remote
    command's first line has reached it. (`hvterm ls` says "attached" as soon as the agent has
    answered, which under load can be before the client has read that answer; a cut then leaves the
    client with no session to resume.)"""
    proc = subprocess.Popen([HVTERM, "exec", *options, relay.target, "--", "sh", "-c", "echo ready; " + script],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=BASE_ENV)
    line = b""
    deadline = time.monotonic() + TIMEOUT
    while not line.endswith(b"\n"):
        readable, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        byte = os.read(proc.stdout.fileno(), 1) if readable else b""
        assert byte, "no first line from the session (got %r)" % line
        line += byte
    assert line == b"ready\n"
    return proc


@pytest.mark.parametrize("seed", [1, 2])
def test_64_mib_upload_survives_cuts(agent, relay, seed):
    data = random.Random(seed).randbytes(64 * 1024 * 1024)
    cut_at_random_points(relay, seed, 5, len(data))
    proc = subprocess.Popen([HVTERM, "exec", "-q", relay.target, "--", "sha256sum"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=BASE_ENV)
    out, err = proc.communicate(data, timeout=TIMEOUT * 5)
    assert proc.returncode == 0, err
    assert out.split()[0].decode() == hashlib.sha256(data).hexdigest()
    assert relay.cuts == 5 and relay.connections == 6


@pytest.mark.parametrize("seed", [3, 4])
def test_64_mib_download_survives_cuts(agent, relay, workdir, seed):
    path = os.path.join(workdir, "payload")
    data = random.Random(seed).randbytes(64 * 1024 * 1024)
    with open(path, "wb") as f:
        f.write(data)
    cut_at_random_points(relay, seed, 5, len(data))
    proc = subprocess.Popen([HVTERM, "exec", "-q", relay.target, "--", "sh", "-c", f"cat {path}; exit 9"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=BASE_ENV)
    out, err = proc.communicate(timeout=TIMEOUT * 5)
    assert proc.returncode == 9, err
    assert relay.cuts == 5 and relay.connections == 6
    assert len(out) == len(data) and hashlib.sha256(out).digest() == hashlib.sha256(data).digest()


def test_both_directions_at_once_survive_cuts(agent, relay):
    data = random.Random(5).randbytes(32 * 1024 * 1024)
    cut_at_random_points(relay, 5, 6, 2 * len(data))
    proc = subprocess.Popen([HVTERM, "exec", "-q", relay.target, "--", "cat"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=BASE_ENV)
    out, err = proc.communicate(data, timeout=TIMEOUT * 5)
    assert proc.returncode == 0, err
    assert out == data
    assert relay.cuts == 6


def test_reconnect_is_noticed_and_then_its_success(agent, relay):
    proc = exec_holding_session(relay, script="read x; echo got $x")
    relay.cut()
    wait_for(lambda: relay.connections >= 2, "reconnect")
    out, err = proc.communicate(b"hello\n", timeout=TIMEOUT)
    assert out == b"got hello\n" and proc.returncode == 0
    assert b"reconnecting" in err and b"reconnected" in err


def test_quiet_reconnects_say_nothing(agent, relay):
    proc = exec_holding_session(relay, "-q", script="read x; echo got $x")
    relay.cut()
    wait_for(lambda: relay.connections >= 2, "reconnect")
    out, err = proc.communicate(b"quietly\n", timeout=TIMEOUT)
    assert out == b"got quietly\n" and proc.returncode == 0 and err == b""


def test_no_reconnect_exits_255_and_leaves_the_session(agent, relay):
    proc = exec_holding_session(relay, "--no-reconnect", script="read x; echo $x")
    relay.cut()
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 255
    assert b"still running" in err and err.count(b"\n") == 1
    ls = hvterm("ls", agent.target, check=0)
    assert b"detached" in ls.stdout


def test_paused_agent_notice_then_session_goes_on(agent):
    child = spawn_shell(agent.target, "--keepalive", "200ms", "--dead-timeout", "60s")
    child.expect_exact(PROMPT)
    os.kill(agent.proc.pid, signal.SIGSTOP)
    try:
        child.expect_exact("not responding")
    finally:
        os.kill(agent.proc.pid, signal.SIGCONT)
    child.expect_exact("responding again")
    child.sendline("echo still-he''re")
    child.expect_exact("still-here")
    child.sendline("exit 0")
    child.expect(pexpect.EOF)


def test_paused_past_dead_timeout_reconnects_and_resumes(agent):
    child = spawn_shell(agent.target, "--keepalive", "100ms", "--dead-timeout", "1s")
    child.expect_exact(PROMPT)
    os.kill(agent.proc.pid, signal.SIGSTOP)
    try:
        child.expect_exact("not responding")
        child.expect_exact("reconnecting")
        child.sendline("echo typed-while-pau''sed")  # kept by the client until the agent acknowledges it
    finally:
        os.kill(agent.proc.pid, signal.SIGCONT)
    child.expect_exact("reconnected")
    child.expect_exact("typed-while-paused")
    child.sendline("exit 3")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 3


def test_detach_and_reattach_loses_no_line(agent):
    script = "i=0; while [ $i -lt 3000 ]; do i=$((i+1)); echo line$i; sleep 0.002; done; echo END"
    seen_bytes = io.BytesIO()
    child = pexpect.spawn(HVTERM, ["shell", agent.target, "--", "sh", "-c", script], env=BASE_ENV,
                          timeout=TIMEOUT)
    child.logfile_read = seen_bytes
    child.expect_exact("line10\r\n")
    child.send("\r~.")  # \r is a keystroke the remote program ignores; ~. after it detaches
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    first_client = seen_bytes.getvalue()
    time.sleep(0.5)  # the program runs on while nobody is attached
    child = pexpect.spawn(HVTERM, ["attach", agent.target], env=BASE_ENV, timeout=TIMEOUT)
    child.logfile_read = seen_bytes
    child.expect_exact("END")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    before, after = until_detach(first_client), seen_bytes.getvalue()[len(first_client):]
    seen = [int(line[4:]) for line in shown_text(before + after).split()
            if line.startswith("line") and line[4:].isdigit()]
    assert seen == list(range(1, 3001))


def test_input_typed_before_attach_completes_is_kept(agent):
    child = spawn_shell(agent.target)
    child.expect_exact(PROMPT)
    child.sendline("MARK=kept")
    child.expect_exact(PROMPT)
    child.send("\r~.")
    child.expect(pexpect.EOF)
    child = pexpect.spawn(HVTERM, ["attach", agent.target], env=BASE_ENV, timeout=TIMEOUT)
    child.delaybeforesend = None
    child.sendline('echo "mark=$MARK"')  # typed at once, before the agent has answered
    child.expect_exact("mark=kept")
    child.sendline("exit 0")
    child.expect(pexpect.EOF)


def test_session_that_exits_while_detached(agent, workdir):
    gate = os.path.join(workdir, "gate")
    child = pexpect.spawn(HVTERM, ["shell", agent.target, "--", "sh", "-c",
                                   f"echo begin; while [ ! -e {gate} ]; do sleep 0.01; done; echo last-words; exit 42"],
                          env=BASE_ENV, timeout=TIMEOUT)
    child.expect_exact("begin")
    child.send("~.")
    child.expect(pexpect.EOF)
    open(gate, "w").close()
    wait_for(lambda: b"exited" in hvterm("ls", agent.target).stdout, "session to exit")
    (entry,) = json.loads(hvterm("ls", agent.target, "--json", check=0).stdout)
    assert entry["state"] == "exited" and entry["exit_code"] == 42
    child = pexpect.spawn(HVTERM, ["attach", agent.target], env=BASE_ENV, timeout=TIMEOUT)
    child.expect_exact("attached to session")  # the notice (stderr) comes before the replayed output
    child.expect_exact("last-words")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 42
    wait_for(lambda: b"no sessions" in hvterm("ls", agent.target).stdout, "the collected session to go")


def test_full_screen_program_is_redrawn_after_reattach(agent):
    # A program that repaints on SIGWINCH, as curses programs do.
    prog = ("trap 'echo REDRAW $(stty size)' WINCH; echo ready; "
            "while true; do sleep 0.05; done")
    child = pexpect.spawn(HVTERM, ["shell", agent.target, "--", "bash", "-c", prog], env=BASE_ENV,
                          dimensions=(30, 90), timeout=TIMEOUT)
    child.expect_exact("ready")
    child.send("~.")
    child.expect(pexpect.EOF)
    child = pexpect.spawn(HVTERM, ["attach", agent.target], env=BASE_ENV, dimensions=(30, 90), timeout=TIMEOUT)
    child.expect_exact("REDRAW 30 90")
    child.send("~.")
    child.expect(pexpect.EOF)
    sid = json.loads(hvterm("ls", agent.target, "--json").stdout)[0]["id"][:8]
    hvterm("kill", agent.target, sid, "-s", "KILL", check=0)


def test_attach_take_takes_over_from_another_client(agent):
    first = spawn_shell(agent.target)
    first.expect_exact(PROMPT)
    sid = json.loads(hvterm("ls", agent.target, "--json").stdout)[0]["id"][:8]
    second = pexpect.spawn(HVTERM, ["attach", agent.target, sid, "--take"], env=BASE_ENV, timeout=TIMEOUT)
    first.expect_exact("another client attached")
    first.expect(pexpect.EOF)
    second.sendline("exit 6")
    second.expect(pexpect.EOF)
    second.close()
    assert second.exitstatus == 6


def test_attach_with_nothing_to_attach(agent):
    r = hvterm("attach", agent.target)
    assert r.returncode == 255 and b"no detached session" in r.stderr
    r = hvterm("attach", agent.target, "abcdef")
    assert r.returncode == 255 and b"no session abcdef" in r.stderr
    r = hvterm("attach", agent.target, "xyz")  # a name it could be
    assert r.returncode == 255 and b"no session named 'xyz'" in r.stderr
    r = hvterm("attach", agent.target, "x/z")
    assert r.returncode == 255 and b"is neither a session id" in r.stderr


def test_cut_after_the_exit_status_still_collects_the_session(agent, relay):
    # The client has the exit status but is still writing output to a slow reader when the
    # connection is cut: it must reconnect to let the agent forget the session. The output is more
    # than the client's stdout pipe holds once widened (1 MiB) and less than that plus its 1 MiB
    # window, so the command can exit while the client cannot finish before this test reads.
    size = 1500000
    proc = subprocess.Popen([HVTERM, "exec", "-q", relay.target, "--", "sh", "-c", f"head -c {size} /dev/zero; exit 9"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=BASE_ENV)
    wait_for(lambda: "exited" in agent.read_log(), "the remote command to exit")
    relay.cut()
    assert proc.poll() is None  # still writing to us
    out = proc.stdout.read()
    assert proc.wait(timeout=TIMEOUT) == 9 and len(out) == size
    wait_for(lambda: b"no sessions" in hvterm("ls", agent.target).stdout, "the session to be collected")


def test_answer_lost_after_the_agent_started_the_command(agent, relay, workdir):
    # The agent starts the session, but the connection drops before its answer reaches the client.
    # The client chose the session id, so it reconnects and picks the session up: output, input and
    # exit status arrive as if nothing happened, and the command ran once.
    runs = os.path.join(workdir, "runs")
    relay.cut_at_request(2, forward=True)
    r = subprocess.run([HVTERM, "exec", relay.target, "--", "sh", "-c",
                        f"echo run >> {runs}; read x; echo out $x; echo err >&2; exit 7"],
                       input=b"in\n", capture_output=True, timeout=TIMEOUT, env=BASE_ENV)
    assert r.returncode == 7, r.stderr
    assert r.stdout == b"out in\n"
    lines = r.stderr.splitlines()
    assert len(lines) == 3 and b"reconnecting" in lines[0] and b"reconnected to session" in lines[1], r.stderr
    assert lines[2] == b"err"
    assert relay.cuts == 1 and relay.connections == 2
    with open(runs) as f:
        assert f.read() == "run\n"
    wait_for(lambda: b"no sessions" in hvterm("ls", agent.target).stdout, "the session to be collected")


def test_request_lost_before_the_agent_saw_it(agent, relay, workdir):
    runs = os.path.join(workdir, "runs")
    relay.cut_at_request(2, forward=False)
    r = hvterm("exec", relay.target, "--", "sh", "-c", f"echo run >> {runs}")
    assert r.returncode == 255
    assert b"it did not start the command" in r.stderr and r.stderr.count(b"\n") == 2, r.stderr
    assert relay.connections == 2 and not os.path.exists(runs)
    assert b"no sessions" in hvterm("ls", agent.target).stdout


def test_a_cut_before_the_agent_answered_hello_is_connected_again(agent, relay, workdir):
    # Nothing could have started: the client connects again, as after any cut, and the command
    # runs once.
    runs = os.path.join(workdir, "runs")
    relay.cut_at_request(1, forward=False)
    r = hvterm("exec", relay.target, "--", "sh", "-c", f"echo run >> {runs}; echo ok")
    assert (r.returncode, r.stdout, r.stderr) == (0, b"ok\n", b"")
    assert relay.cuts == 1 and relay.connections == 2
    with open(runs) as f:
        assert f.read() == "run\n"


def test_a_peer_that_closes_every_connection_is_not_retried_for_long(workdir):
    # No agent at all (a service that hangs up on anything): a few quick tries, then one line.
    path = os.path.join(workdir, "closer.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(8)
    accepted = []

    def close_each():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(1)
            conn.close()

    threading.Thread(target=close_each, daemon=True).start()
    r = hvterm("exec", "unix:" + path, "--", "true")
    assert r.returncode == 255 and r.stderr.count(b"\n") == 1, r.stderr
    assert len(accepted) == 4  # the first connection and three more
    listener.close()


def test_answer_lost_without_reconnect_names_the_session(agent, relay):
    relay.cut_at_request(2, forward=True)
    r = hvterm("exec", "--no-reconnect", relay.target, "--", "sh", "-c", "echo hello; exit 4")
    assert r.returncode == 255 and r.stderr.count(b"\n") == 1, r.stderr
    hint = re.search(rb"hvterm attach (\S+) ([0-9a-f]{8})\n", r.stderr)
    assert hint and hint.group(1).decode() == relay.target, r.stderr
    a = hvterm("attach", agent.target, hint.group(2).decode())
    assert a.returncode == 4 and a.stdout == b"hello\n", a.stderr


def test_signal_while_the_answer_is_in_doubt_reaches_the_session(agent, relay):
    # ^C between a lost answer and the reconnect is for the session the agent may have started:
    # it waits for the reconnect instead of ending the client and orphaning the session.
    relay.cut_at_request(2, forward=True, then_refuse=True)
    proc = subprocess.Popen([HVTERM, "exec", "-q", relay.target, "--", "sh", "-c",
                             "trap 'echo got-int; exit 5' INT; echo ready; while :; do sleep 0.1; done"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=BASE_ENV)
    wait_for(lambda: relay.refused >= 1, "a refused reconnect")
    proc.send_signal(signal.SIGINT)
    wait_for(lambda: relay.refused >= 2, "another reconnect attempt")
    assert proc.poll() is None, proc.communicate()
    relay.refusing = False
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 5, err
    assert out == b"ready\ngot-int\n" and err == b""
