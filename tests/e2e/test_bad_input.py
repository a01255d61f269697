"""Hostile or broken peers and bad command lines: a clear error, never a crash or a hang."""
import os
import random
import socket
import struct
import subprocess

import pytest

from conftest import HVTERM, HVTERMD, BASE_ENV, TIMEOUT, VERSION, hvterm
from rawwire import error_of, exchange, frame, frames_in, hello, open_frame


def agent_still_serves(agent):
    assert hvterm("exec", agent.target, "--", "echo", "ok").stdout == b"ok\n"


@pytest.mark.parametrize("data,code,words", [
    (frame(0x02, b""), 1, "expected HELLO"),                                # request before HELLO
    (frame(0x7F), 1, "unknown frame type"),
    (frame(0x00), 1, "unknown frame type"),
    (frame(0x01, b"", flags=1), 1, "reserved"),
    (struct.pack("<BBHI", 1, 0, 0, 65537), 1, "exceeds"),                   # oversized, no payload sent
    (struct.pack("<BBHI", 1, 0, 0, 0xFFFFFFFF), 1, "exceeds"),
    (frame(0x01, b"XXXX" + b"\0" * 10), 1, "malformed HELLO: not an hvterm HELLO"),  # wrong magic
    (hello() + frame(0x02, b"\x05" + b"\0" * 8), 1, "malformed OPEN"),      # bad mode
    (hello() + frame(0x02, b"\x00" + b"\0" * 8 + b"\0\0" * 3 + b"\xff\xff"), 1, "malformed OPEN"),  # hostile count
    (hello() + frame(0x05, b"\0" * 9), 1, "unexpected DATA"),               # data before a session
    (hello() + frame(0x03, b"\x11" * 16 + b"\0" + b"\0" * 24 + b"\0" * 8), 4, "no such session"),
])
def test_bad_frames_get_an_error_and_a_closed_connection(agent, data, code, words):
    got_code, message = error_of(exchange(agent, data))
    assert got_code == code and words in message, message
    agent_still_serves(agent)


def test_open_with_a_session_id_in_use_is_refused(agent):
    sid = bytes(range(1, 17))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    s.connect(agent.sock)
    s.sendall(hello() + open_frame([b"sleep", b"60"], sid))
    answer = b""
    while len(frames_in(answer)) < 2:
        chunk = s.recv(65536)
        assert chunk, answer
        answer += chunk
    kind, payload = frames_in(answer)[1]
    assert kind == 0x04 and payload[:16] == sid  # SESSION with the id the client chose
    code, message = error_of(exchange(agent, hello() + open_frame([b"true"], sid)))
    assert code == 9 and "already in use" in message, message
    s.close()
    assert hvterm("kill", agent.target, sid.hex(), "-s", "KILL").returncode == 0
    agent_still_serves(agent)


def test_open_with_a_partial_or_zero_session_id_is_malformed(agent):
    for tail in (b"\1" * 15, b"\1" * 17, b"\0" * 16):
        code, message = error_of(exchange(agent, hello() + open_frame([b"true"], tail)))
        assert code == 1 and "malformed OPEN" in message, message
    agent_still_serves(agent)


def test_truncated_frame_then_close_is_harmless(agent):
    exchange(agent, hello()[:5], read=False)
    exchange(agent, hello() + frame(0x02, b"\0" * 100)[:20], read=False)
    agent_still_serves(agent)


def test_random_garbage_never_crashes_the_agent(agent):
    rng = random.Random(1234)
    for _ in range(200):
        data = rng.randbytes(rng.randint(1, 300))
        if rng.random() < 0.5:
            data = hello() + data
        try:
            exchange(agent, data)
        except (ConnectionResetError, BrokenPipeError):
            pass
    agent_still_serves(agent)
    assert agent.proc.poll() is None


def test_wrong_token_is_refused_after_a_delay(workdir):
    from conftest import Agent
    token = os.path.join(workdir, "token")
    with open(token, "w") as f:
        f.write("s3cret\n")
    os.chmod(token, 0o600)
    agent = Agent(workdir, ["--token-file", token])
    try:
        code, message = error_of(exchange(agent, hello(b"wrong"), half_close=False))
        assert code == 3 and "token" in message
        r = hvterm("exec", agent.target, "--", "true")
        assert r.returncode == 255 and b"token" in r.stderr
        good = os.path.join(workdir, "client-token")
        with open(good, "w") as f:
            f.write("s3cret\n")
        os.chmod(good, 0o600)
        assert hvterm("exec", "--token-file", good, agent.target, "--", "echo", "in").stdout == b"in\n"
        assert "wrong or missing token" in agent.read_log()
    finally:
        agent.stop()


def test_session_limit(workdir):
    from conftest import Agent
    agent = Agent(workdir, ["--max-sessions", "1"])
    try:
        first = subprocess.Popen([HVTERM, "exec", agent.target, "--", "cat"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, env=BASE_ENV)
        from conftest import wait_for
        wait_for(lambda: b"attached" in hvterm("ls", agent.target).stdout, "first session")
        r = hvterm("exec", agent.target, "--", "true")
        assert r.returncode == 255 and b"session limit reached (1" in r.stderr
        first.communicate(b"", timeout=TIMEOUT)
    finally:
        agent.stop()


@pytest.mark.parametrize("args,words", [
    (["exec", "local"], b"exec needs a command"),
    (["exec", "local", "--env", "NOEQUALS", "--", "true"], b"--env takes KEY=VALUE"),
    (["shell", "local", "-e", "ab"], b"--escape takes one character"),
    (["exec", "local", "--connect-timeout", "soon", "--", "true"], b"not a duration"),
    (["frobnicate"], b"frobnicate"),
    (["exec", "local", "--bogus", "--", "true"], b"--bogus"),
    (["exec", "local", "--bogus", "true"], b"--bogus"),
    (["service-id", "0"], b"not a port number"),
    (["port", "not-a-guid"], b"not a GUID"),
    (["ls", "local", "--", "x"], b"'--' and a command go only with shell and exec"),
    (["exec", "--name=", "local", "--", "true"], b"--name needs a value after '='"),
    ([], b"usage: hvterm COMMAND"),
])
def test_bad_command_lines_are_usage_errors(args, words):
    r = hvterm(*args, input=b"")
    assert r.returncode == 2, r.stderr
    assert words in r.stderr


@pytest.mark.parametrize("args,words", [
    (["--listen", "tcp:1.2.3.4"], b"invalid listen address"),
    (["--listen", "unix:/tmp/x.sock", "--linger", "forever"], b"--linger"),
    (["--listen", "unix:/tmp/x.sock", "--replay-buffer", "1"], b"--replay-buffer"),
    (["--listen", "unix:/tmp/x.sock", "--allow-cid", "two"], b"--allow-cid"),
    (["--listen", "unix:/tmp/x.sock", "--log-level", "loud"], b"--log-level"),
    (["--listen", "unix:/tmp/x.sock", "--token-file", "/nonexistent"], b"token file /nonexistent"),
    (["--listen", "unix:/tmp/x.sock", "--max-sessions", "0"], b"--max-sessions"),
    (["--listen", "unix:/tmp/x.sock", "--max-connections", "0"], b"--max-connections"),
])
def test_bad_agent_command_lines(args, words):
    r = subprocess.run([HVTERMD, *args], capture_output=True, timeout=TIMEOUT, env=BASE_ENV)
    assert r.returncode == 2 and words in r.stderr, r.stderr
    assert r.stderr.count(b"\n") == 1


def test_help_teaches(agent):
    r = hvterm("--help", check=0)
    for words in [b"shell", b"exec", b"attach", b"TARGET is one of", b"vsock:CID", b"Exit status"]:
        assert words in r.stdout
    r = hvterm("exec", "--help", check=0)
    assert b"--tty" in r.stdout and b"--env" in r.stdout and b"Example" in r.stdout
    assert hvterm("--version", check=0).stdout == b"hvterm " + VERSION.encode() + b"\n"
