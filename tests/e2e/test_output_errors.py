"""hvterm's own stdout, stderr and --log transcript when they cannot be written: a full disk is an
error (one line, exit 255), a reader that went away is SIGPIPE as in a local pipeline, and closed
fds 0-2 are /dev/null, never a socket or libuv's epoll fd."""
import json
import os
import subprocess

import pytest

from conftest import HVTERM, HVTERMD, BASE_ENV, TIMEOUT, hvterm, numbers_shown, wait_for

# `yes` never ends by itself: only the SIGPIPE hvterm sends ends it, so these tests also prove that.
FOREVER = ["--", "yes"]


def run_with(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=()):
    proc = subprocess.Popen([HVTERM, *args], stdin=stdin, stdout=stdout, stderr=stderr, env=BASE_ENV,
                            pass_fds=pass_fds)
    out, err = proc.communicate(timeout=TIMEOUT)
    return proc.returncode, out, err


def broken_pipe():
    """The write end of a pipe whose reader has already gone: every write fails with EPIPE."""
    r, w = os.pipe()
    os.close(r)
    return w


def no_sessions_left(agent):
    wait_for(lambda: json.loads(hvterm("ls", agent.target, "--json", check=0).stdout) == [],
             "the session to be collected")


def test_a_full_stdout_is_an_error_and_ends_the_program(agent):
    with open("/dev/full", "wb") as full:
        code, _, err = run_with(["exec", agent.target, *FOREVER], stdout=full)
    assert code == 255, err
    assert err == b"hvterm: cannot write to stdout: no space left on device\n"
    no_sessions_left(agent)


def test_a_full_stderr_is_an_error_and_ends_the_program(agent):
    with open("/dev/full", "wb") as full:
        code, out, _ = run_with(["exec", agent.target, "--", "sh", "-c", "echo out; yes >&2"], stderr=full)
    assert code == 255
    assert out == b"out\n"
    no_sessions_left(agent)


def test_a_reader_that_went_away_is_sigpipe_with_the_programs_status(agent):
    w = broken_pipe()
    try:
        code, _, err = run_with(["exec", agent.target, *FOREVER], stdout=w)
    finally:
        os.close(w)
    assert code == 128 + 13 and err == b"", err  # the remote `yes` died of SIGPIPE, silently
    no_sessions_left(agent)


def test_stderr_whose_reader_went_away_is_sigpipe_too(agent):
    w = broken_pipe()
    try:
        code, out, _ = run_with(["exec", agent.target, "--", "sh", "-c", "echo out; exec yes >&2"], stderr=w)
    finally:
        os.close(w)
    assert code == 128 + 13 and out == b"out\n"
    no_sessions_left(agent)


def test_a_program_that_ignores_sigpipe_still_ends_hvterm_with_255_on_a_full_disk(agent):
    with open("/dev/full", "wb") as full:
        code, _, err = run_with(["exec", agent.target, "--", "sh", "-c", "trap '' PIPE; seq 100000; exit 0"],
                                stdout=full)
    assert code == 255 and b"cannot write to stdout" in err


@pytest.mark.parametrize("fd", [0, 1, 2])
def test_closed_stdio_fds_are_dev_null_in_the_client(agent, fd):
    # With fd 1 closed, libuv's epoll fd used to become fd 1 and remote output went into it.
    names = {0: "stdin", 1: "stdout", 2: "stderr"}
    shell = f"exec '{HVTERM}' exec {agent.target} -- sh -c 'echo out; echo err >&2; exec sleep 1000' {fd}>&-"
    proc = subprocess.Popen(["sh", "-c", shell], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=BASE_ENV)
    try:
        wait_for(lambda: any(name == "sleep" for _, name in agent.children()), "the remote command")
        assert os.readlink(f"/proc/{proc.pid}/fd/{fd}") == "/dev/null", names[fd]
    finally:
        hvterm("kill", agent.target, json.loads(hvterm("ls", agent.target, "--json").stdout)[0]["id"], check=0)
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 128 + 15, err
    assert out == (b"" if fd == 1 else b"out\n") and err == (b"" if fd == 2 else b"err\n")


def test_closed_stdio_fds_are_dev_null_in_the_agent(workdir):
    sock = os.path.join(workdir, "closed.sock")
    log = os.path.join(workdir, "closed.log")
    agent = subprocess.Popen(["sh", "-c", f"exec '{HVTERMD}' --listen unix:{sock} --log-file {log} <&- >&- 2>&-"],
                             env=BASE_ENV)
    try:
        wait_for(lambda: os.path.exists(sock), "agent socket")
        for fd in range(3):
            assert os.readlink(f"/proc/{agent.pid}/fd/{fd}") == "/dev/null"
        assert hvterm("exec", "unix:" + sock, "--", "echo", "hi", check=0).stdout == b"hi\n"
    finally:
        agent.terminate()
        agent.wait(timeout=TIMEOUT)
    assert agent.returncode == 0


def test_a_transcript_that_cannot_be_written_is_a_warning_once(agent):
    r = hvterm("exec", "--log", "/dev/full", agent.target, "--", "seq", "100000", check=0)
    assert r.stdout == b"".join(b"%d\n" % i for i in range(1, 100001))
    assert r.stderr == b"hvterm: cannot write the transcript /dev/full: no space left on device; " \
                       b"it lacks the output from here on\n"


@pytest.mark.parametrize("args", [["ls", "{target}"], ["ls", "{target}", "--json"], ["ping", "{target}"],
                                  ["--help"], ["service-id", "5"]])
def test_hvterms_own_output_to_a_full_disk_is_an_error(agent, args):
    args = [a.format(target=agent.target) for a in args]
    with open("/dev/full", "wb") as full:
        code, _, err = run_with(args, stdout=full)
    assert code == 255 and err == b"hvterm: cannot write to stdout: no space left on device\n", err


def test_hvterms_own_output_to_a_reader_that_went_away_is_sigpipe(agent):
    w = broken_pipe()
    try:
        code, _, err = run_with(["ls", agent.target], stdout=w)
    finally:
        os.close(w)
    assert code == 128 + 13 and err == b""


def test_stdin_that_cannot_be_read_is_an_error_and_the_program_sees_its_end(agent, workdir):
    # A directory as stdin: read() fails with EISDIR. That used to pass for an empty input, exit 0.
    fd = os.open(workdir, os.O_RDONLY)
    try:
        code, out, err = run_with(["exec", agent.target, "--", "sh", "-c", "cat; echo ended"], stdin=fd)
    finally:
        os.close(fd)
    assert code == 255 and out == b"ended\n"
    assert err == b"hvterm: cannot read stdin: illegal operation on a directory; " \
                  b"the remote program's input ends here\n", err


def test_a_terminal_that_goes_away_leaves_the_session_detached_not_sigpiped(agent):
    # Writes to a hung-up terminal fail (EIO) as SIGHUP arrives: either way the session must stay
    # for a later attach, not get the SIGPIPE that a failing stdout gives in a pipeline.
    import pexpect
    count = 3000
    script = f"i=0; while [ $i -lt {count} ]; do i=$((i+1)); echo $i; sleep 0.001; done"
    child = pexpect.spawn(HVTERM, ["shell", agent.target, "--", "sh", "-c", script], env=BASE_ENV, timeout=TIMEOUT)
    child.expect_exact(b"\r\n200\r\n")
    pid = child.pid
    os.close(child.child_fd)  # the terminal window closes
    child.child_fd = -1
    wait_for(lambda: os.waitpid(pid, os.WNOHANG)[0] == pid, "hvterm to exit")
    (entry,) = json.loads(hvterm("ls", agent.target, "--json", check=0).stdout)
    assert entry["state"] == "detached", entry
    a = hvterm("attach", "-q", agent.target)
    shown = numbers_shown(a.stdout)  # the lines since the terminal went, then the screen
    assert a.returncode == 0 and shown and shown == list(range(shown[0], count + 1))


def test_sigterm_to_a_client_whose_terminal_takes_nothing_still_ends_it(agent):
    # A terminal stopped with ^S, or a window whose program is frozen, takes no output. SIGTERM
    # detaches: the session's last output is given up after 2 s, and hvterm's own notice, for
    # the same terminal, gets as long again; then hvterm exits rather than wait for ever.
    import fcntl
    import signal
    import struct
    import termios
    import pexpect
    child = pexpect.spawn(HVTERM, ["shell", agent.target, "--", "seq", "1", "100000000"], env=BASE_ENV,
                          timeout=TIMEOUT)
    unread = lambda: struct.unpack("i", fcntl.ioctl(child.child_fd, termios.FIONREAD, b"\0\0\0\0"))[0]
    # Linux holds at most 4095 bytes ready for the reader of a PTY; the writer blocks soon after.
    wait_for(lambda: unread() >= 4000, "the terminal to fill up (nobody reads it)")
    child.kill(signal.SIGTERM)
    wait_for(lambda: not child.isalive(), "hvterm to exit although its terminal takes nothing")
    assert child.exitstatus == 255
    (entry,) = json.loads(hvterm("ls", agent.target, "--json", check=0).stdout)
    assert entry["state"] == "detached", entry
    hvterm("kill", agent.target, entry["id"], "--close", check=0)
