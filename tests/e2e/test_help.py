"""What hvterm teaches: the short usage when run alone, examples at the end of every --help, and
-v / -vv saying what it does (target, connection, handshake, session, reconnects) with times."""
import io
import os
import re
import shlex
import subprocess

import pexpect

from conftest import HVTERM, HVTERMD, BASE_ENV, PROMPT, SHELL, SHELL_ENV, TIMEOUT, hvterm
from relay import Relay

STAMP = r"\[\d+\.\d{3}s\] "


def subcommands():
    text = hvterm("--help", check=0).stdout.decode()
    section = text.split("Subcommands:\n")[1].split("\n\n")[0]
    return re.findall(r"^  (\S+)\s", section, re.M)


def test_hvterm_alone_prints_the_short_usage():
    r = hvterm(check=2)
    assert r.stdout == b""
    usage = r.stderr.decode()
    assert usage.startswith("usage: hvterm COMMAND"), usage
    for command in subcommands():
        assert re.search(r"hvterm .*\b" + re.escape(command) + r"\b", usage), (command, usage)
    assert "subcommand is required" not in usage
    assert len(usage.splitlines()) <= 24, "the short usage fits a screen"


def test_every_command_help_ends_with_examples_that_use_its_own_options():
    commands = subcommands()
    assert {"shell", "exec", "attach", "ls", "kill", "ping", "vms", "register"} <= set(commands)
    for command in commands + [None]:
        text = hvterm(*([command] if command else []), "--help", check=0).stdout.decode()
        assert "\nExamples:\n" in text, (command, text)
        lines = text[text.rindex("\nExamples:\n") + len("\nExamples:\n"):].rstrip("\n").splitlines()
        assert 2 <= len(lines) <= 3, (command, lines)
        for line in lines:
            assert line.startswith("  "), (command, line)
            call = shlex.split(line.split("|")[-1].split("    ")[0])  # `tar c . | hvterm exec ...`: the hvterm part
            # `ssh -o ProxyCommand='hvterm nc %h 22' vm1`: the hvterm call quoted inside another's option
            quoted = [w.split("=", 1)[-1].split() for w in call if "hvterm " in w]
            call = call[call.index("hvterm"):] if "hvterm" in call else quoted[0] if quoted else []
            assert call, (command, line)
            if command:
                assert call[1] == command, (command, line)
            # Every option an example uses is one --help documents (up to the command's "--").
            words = call[:call.index("--")] if "--" in call else call
            for word in words:
                if word.startswith("-"):
                    assert re.search(r"(^|[ ,])" + re.escape(word) + r"\b", text, re.M), (command, word)
        assert text.endswith("\n"), "the help ends with a newline"


def test_hvtermd_help_ends_with_examples_that_use_its_own_options():
    text = subprocess.run([HVTERMD, "--help"], capture_output=True, env=BASE_ENV, timeout=TIMEOUT, check=True).stdout
    text = text.decode()
    lines = text[text.rindex("\nExamples:\n") + len("\nExamples:\n"):].rstrip("\n").splitlines()
    assert 2 <= len(lines) <= 3, lines
    for line in lines:
        call = line.split()
        assert call[0] == "hvtermd", line
        for word in call[1:]:
            if word.startswith("-"):
                assert re.search(r"(^|[ ,])" + re.escape(word) + r"\b", text, re.M), word


def test_exec_says_nothing_of_itself_without_v(agent):
    r = hvterm("exec", agent.target, "--", "echo", "hi", check=0)
    assert r.stdout == b"hi\n" and r.stderr == b""


def test_exec_v_says_what_it_does_with_times_on_stderr(agent):
    r = hvterm("exec", "-v", agent.target, "--", "sh", "-c", "echo out; exit 3", check=3)
    assert r.stdout == b"out\n"  # the records never mix with the program's output
    records = r.stderr.decode().splitlines()
    assert records and all(re.match("hvterm: info: " + STAMP, line) for line in records), records
    text = "\n".join(records)
    for expected in ["connecting to " + agent.target, r"connected in \d+\.\d\d ms",
                     r"handshake done in \d+\.\d\d ms: hvtermd \S+, protocol 1",
                     r"opening a session \(pipes\): sh -c echo out; exit 3",
                     r"in session [0-9a-f]{8} \(pid \d+\)", "the program exited with status 3"]:
        assert re.search(expected, text), (expected, text)
    assert "-> " not in text, "frames only with -vv"
    times = [float(m) for m in re.findall(r"\[(\d+\.\d+)s\]", text)]
    assert times == sorted(times)


def test_exec_vv_shows_every_frame_but_no_payload(agent):
    # The output is not in the command line, so only a payload dump could show it.
    r = hvterm("exec", "-vv", agent.target, "--", "printf", "%s-%s\\n", "secret", "output", check=0)
    assert r.stdout == b"secret-output\n"
    text = r.stderr.decode()
    for expected in [r"debug: " + STAMP + r"-> HELLO \(\d+ bytes\)", r"<- HELLO", r"-> OPEN", r"<- SESSION",
                     r"<- DATA stdout @0 \+14", r"<- EXIT", r"-> COLLECT", r"<- OK",
                     "info: " + STAMP + "handshake done"]:
        assert re.search(expected, text), (expected, text)
    assert "secret-output" not in text


def test_v_reports_a_reconnect(agent, workdir):
    relay = Relay(workdir, agent.sock)
    try:
        data = os.urandom(1 << 20)
        relay.cut_after(len(data) // 2)
        proc = subprocess.run([HVTERM, "exec", "-v", relay.target, "--", "cat"], input=data, capture_output=True,
                              timeout=TIMEOUT, env=BASE_ENV)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == data
        assert relay.cuts == 1
        text = proc.stderr.decode()
        for expected in ["connection lost: ", r"reconnecting in \d+ ms \(attempt 1\)",
                         r"resuming session [0-9a-f]{8} from stdout @\d+, stderr @\d+",
                         r"resumed session [0-9a-f]{8} \(pid \d+\); the agent holds our stdin up to @\d+"]:
            assert re.search(expected, text), (expected, text)
        assert len(re.findall(r"connected in ", text)) == 2, text
    finally:
        relay.close()


def test_ping_v_says_how_long_connecting_and_the_handshake_took(agent):
    r = hvterm("ping", "-v", agent.target, check=0)
    text = r.stderr.decode()
    assert re.search(r"connected in \d+\.\d\d ms", text) and re.search(r"handshake done in \d+\.\d\d ms", text), text
    assert b"answered from " + agent.target.encode() in r.stdout


def test_v_in_an_interactive_session_keeps_lines_whole(agent):
    # The terminal is raw while the session runs (no newline translation): records must end in
    # CR LF themselves, or they would staircase across the screen.
    seen = io.BytesIO()
    child = pexpect.spawn(HVTERM, ["shell", "-v", agent.target, *SHELL_ENV, *SHELL], env=BASE_ENV,
                          dimensions=(24, 80), timeout=TIMEOUT)
    child.logfile_read = seen
    child.expect(PROMPT)
    child.sendline("exit 4")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 4
    records = re.findall(rb"hvterm: info: [^\r\n]*\r?\n", seen.getvalue())
    assert any(b"in session" in r for r in records) and any(b"exited with status 4" in r for r in records), records
    assert all(r.endswith(b"\r\n") for r in records), records
