"""What hvterm tells a person: the agent's reason for a refusal whatever command met it, what it is
doing while the agent cannot be reached, and agent-provided text (commands, messages) escaped."""
import json
import re
import os
import struct
import subprocess

import pexpect
import pytest

from conftest import HVTERM, BASE_ENV, TIMEOUT, Agent, hvterm, wait_for
from rawwire import FakeAgent, frame

NOBODY = 65534


def as_nobody():
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a client as another user")
@pytest.mark.parametrize("command", [["ls", "{t}"], ["ping", "{t}"], ["kill", "{t}", "1234abcd"],
                                     ["exec", "{t}", "--", "true"], ["attach", "{t}"]])
def test_a_refused_user_is_told_why_by_every_command(agent, workdir, command):
    # The agent refuses at once and closes; the client's first write then fails with EPIPE, but
    # the ERROR frame saying why is still there to read.
    hvterm("ping", agent.target, check=0)  # the agent has set its socket's mode (0600) by now
    os.chmod(workdir, 0o755)
    os.chmod(agent.sock, 0o666)
    args = [a.format(t=agent.target) for a in command]
    for _ in range(10):  # the race between the refusal and the client's HELLO goes both ways
        r = subprocess.run([HVTERM, *args], capture_output=True, timeout=TIMEOUT, env=BASE_ENV,
                           preexec_fn=as_nobody)
        assert r.returncode == 255 and b"this user may not use the agent" in r.stderr, r.stderr
        assert r.stderr.count(b"\n") == 1, r.stderr


AGENT_HELLO = frame(0x01, b"HVTM" + struct.pack("<HI", 1, 0) + struct.pack("<H", 4) + b"fake" + struct.pack("<H", 0))


class AnsweringAgent(FakeAgent):
    """Answers every connection with one ERROR frame and closes: `message` is whatever the test wants
    an agent to say, escape sequences included."""

    def __init__(self, directory, message=b"", code=1, reply=None):
        self.reply = reply if reply is not None else frame(0x0D, struct.pack("<HH", code, len(message)) + message)
        super().__init__(directory)

    def converse(self, conn):
        conn.sendall(self.reply)


HOSTILE = b"\x1b]0;owned\x07\x1b[2Jline\nfake row\xff"
ESCAPED = b"\\e]0;owned\\x07\\e[2Jline\\nfake row\\xff"


@pytest.mark.parametrize("command,prefix", [(["ls", "{t}"], b""), (["ping", "{t}"], b""),
                                            (["exec", "{t}", "--", "true"], b"the agent reported an error: ")])
def test_an_agents_error_message_is_escaped(workdir, command, prefix):
    fake = AnsweringAgent(workdir, HOSTILE)
    try:
        r = hvterm(*[a.format(t=fake.target) for a in command])
    finally:
        fake.close()
    assert r.returncode == 255
    assert r.stderr == b"hvterm: " + prefix + ESCAPED + b"\n"


def start_session(agent, argv):
    proc = subprocess.Popen([HVTERM.encode(), b"exec", b"--no-reconnect", agent.target.encode(), b"--", *argv],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=BASE_ENV)
    wait_for(lambda: json.loads(hvterm("ls", agent.target, "--json").stdout), "the session")
    return proc


def test_ls_escapes_commands_and_json_keeps_them_whole(agent):
    proc = start_session(agent, [b"sh", b"-c", b"exec sleep 1000", HOSTILE])
    try:
        text = hvterm("ls", agent.target, check=0).stdout
        header, row = text.split(b"\n")[:-1]  # one row: the newline in the command did not add one
        assert b"\x1b" not in text and b"\x07" not in text and b"\xff" not in text
        assert row.endswith(b" sh -c exec sleep 1000 " + ESCAPED), row
        (entry,) = json.loads(hvterm("ls", agent.target, "--json", check=0).stdout)
        assert entry["command"] == "sh -c exec sleep 1000 " + HOSTILE.decode(errors="replace")
    finally:
        proc.kill()
        proc.wait()


def test_ls_shortens_long_commands_to_80_characters_and_json_keeps_them_whole(agent):
    long_word = "x" * 500
    proc = start_session(agent, [b"sh", b"-c", b"exec sleep 1000", long_word.encode()])
    try:
        row = hvterm("ls", agent.target, check=0).stdout.decode().splitlines()[1]
        command = row[row.index("sh -c"):]
        assert len(command) == 80 and command.endswith("x\u2026"), command
        (entry,) = json.loads(hvterm("ls", agent.target, "--json", check=0).stdout)
        assert entry["command"] == "sh -c exec sleep 1000 " + long_word
    finally:
        proc.kill()
        proc.wait()


def test_ls_on_a_terminal_fits_the_command_to_its_width(agent):
    proc = start_session(agent, [b"sh", b"-c", b"exec sleep 1000", b"y" * 500])
    try:
        child = pexpect.spawn(HVTERM, ["ls", agent.target], env=BASE_ENV, dimensions=(24, 110), timeout=TIMEOUT)
        out = child.read().decode()
        child.close()
        header, row = out.splitlines()[:2]
        assert len(row) <= 110 and row.endswith("y\u2026"), row
        assert len(row[row.index("sh -c"):]) == 110 - header.index("COMMAND")  # the rest of the width
    finally:
        proc.kill()
        proc.wait()


def exec_until_running(target, *options):
    proc = subprocess.Popen([HVTERM, "exec", *options, target, "--", "sh", "-c", "echo ready; exec sleep 1000"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=BASE_ENV)
    assert proc.stdout.readline() == b"ready\n"
    return proc


def test_a_dead_agent_is_reported_and_given_up_after_10s(workdir):
    # kill -9 leaves a socket where nothing listens; the session went with the agent's process.
    agent = Agent(workdir)
    proc = exec_until_running(agent.target)
    agent.proc.kill()
    agent.proc.wait()
    agent.log.close()
    _, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 255
    lines = err.decode().splitlines()
    assert f"hvterm: agent not reachable (no agent is listening on {agent.sock}); retrying for 10s..." in lines, err
    assert lines[-1].startswith(f"hvterm: gave up reconnecting: no agent is listening on {agent.sock} for 10s, "
                                "so session "), err
    assert "still running" not in err.decode()


def test_an_agent_that_stopped_is_reported_in_one_line(workdir):
    agent = Agent(workdir)
    proc = exec_until_running(agent.target, "-q")
    agent.stop()  # SIGTERM: the agent hangs up its sessions and removes its socket
    _, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 255 and err.count(b"\n") == 1, err
    assert b"still running" not in err


def test_a_dead_agent_with_quiet_says_only_the_last_word(workdir):
    agent = Agent(workdir)
    proc = exec_until_running(agent.target, "-q")
    agent.proc.kill()
    agent.proc.wait()
    agent.log.close()
    _, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 255 and err.count(b"\n") == 1 and b"gave up reconnecting" in err, err


def test_an_unreachable_agent_is_reported_while_retrying_and_may_still_hold_the_session(agent, workdir):
    # A relay that accepts and closes at once (a VM being restored): the agent is alive behind it,
    # so the session may well be; hvterm says what it is doing and, at the end, only "may".
    from relay import Relay
    relay = Relay(workdir, agent.sock)
    try:
        proc = exec_until_running(relay.target, "--reconnect-timeout", "2s")
        relay.refusing = True
        relay.cut()
        _, err = proc.communicate(timeout=TIMEOUT)
    finally:
        relay.close()
    assert proc.returncode == 255
    text = err.decode()
    assert re.search(r"agent not reachable \(.+\); retrying for \ds\.\.\.", text), text
    assert "gave up reconnecting after 2s; session " in text and "may still be running in the agent" in text, text


def hvterm_against(workdir, reply, command):
    """hvterm COMMAND against a fake agent that answers every connection with `reply` and closes."""
    fake = AnsweringAgent(workdir, reply=reply)
    try:
        return hvterm(*[a.format(t=fake.target) for a in command])
    finally:
        fake.close()


@pytest.mark.parametrize("command", [["ls", "{t}"], ["kill", "{t}", "1234"], ["attach", "{t}", "1234"]])
def test_a_malformed_list_entry_is_a_protocol_error_not_a_missing_session(workdir, command):
    r = hvterm_against(workdir, AGENT_HELLO + frame(0x10, b"\x12" * 7) + frame(0x11), command)
    assert r.returncode == 255
    assert r.stderr == b"hvterm: protocol error: the agent's list holds a malformed LIST_ENTRY\n", r.stderr


@pytest.mark.parametrize("command", [["ls", "{t}"], ["ping", "{t}"], ["exec", "{t}", "--", "true"], ["attach", "{t}"]])
def test_an_agent_answering_in_a_version_we_do_not_speak_is_refused(workdir, command):
    newer = frame(0x01, b"HVTM" + struct.pack("<HI", 2, 0) + struct.pack("<H", 4) + b"fake" + struct.pack("<H", 0))
    r = hvterm_against(workdir, newer + frame(0x11), command)
    assert r.returncode == 255
    assert r.stderr == b"hvterm: the agent answered in protocol version 2; this hvterm speaks only version 1\n", r.stderr
