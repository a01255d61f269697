"""What the next `attach` shows after a client went away. A pipes session: never a lost byte; after a
crash (kill -9) at most the output the dead client had printed and not acknowledged, which the
README bounds by --replay-buffer + 256 KiB. A terminal session detached (~., SIGTERM, SIGHUP): the
lines printed since (up to the agent's scrollback) and the screen, no line twice."""
import io
import json
import os
import re
import signal
import subprocess

import pexpect
import pytest

from conftest import HVTERM, BASE_ENV, TIMEOUT, hvterm, numbers_shown, until_detach, wait_for

MIB = 1024 * 1024
REPLAY_BUFFER = 1 * MIB          # the agent's default --replay-buffer
BOUND = REPLAY_BUFFER + 256 * 1024


def detached(agent):
    entries = json.loads(hvterm("ls", agent.target, "--json", check=0).stdout)
    return len(entries) == 1 and entries[0]["state"] == "detached"


def split_point(expected, first, second):
    """Where `second` (what attach showed) starts in `expected`, after checking that `first` (what
    the dead client showed) and `second` together hold every byte in order."""
    assert expected.startswith(first), "the first client showed something else"
    start = len(expected) - len(second)
    assert start >= 0 and expected[start:] == second, "attach showed something else"
    assert start <= len(first), f"{start - len(first)} bytes lost"
    return start


@pytest.mark.parametrize("kill_after", [1 * MIB, 5 * MIB, 9 * MIB])
def test_a_crashed_clients_unacknowledged_output_is_repeated_within_the_bound(agent, kill_after):
    count = 2_000_000  # seq 1..count: 14.9 MB of numbered lines
    expected = b"".join(b"%d\n" % i for i in range(1, count + 1))
    proc = subprocess.Popen([HVTERM, "exec", agent.target, "--", "seq", str(count)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, env=BASE_ENV)
    first = b""
    while len(first) < kill_after:
        chunk = os.read(proc.stdout.fileno(), 65536)
        assert chunk, "the output ended before the crash"
        first += chunk
    proc.send_signal(signal.SIGKILL)  # mid-stream: seq is still writing
    proc.wait()
    first += proc.stdout.read()  # what it had written before it died
    proc.stdout.close()
    wait_for(lambda: detached(agent), "the session to be detached")
    r = hvterm("attach", "-q", agent.target)
    assert r.returncode == 0, r.stderr
    start = split_point(expected, first, r.stdout)
    repeated = len(first) - start
    print(f"killed after {len(first)} bytes shown: {repeated} bytes shown again")
    assert repeated <= BOUND


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_detach_by_signal_repeats_nothing(agent, sig):
    # Output keeps coming in small pieces, so the last of it is always younger than the 20 ms after
    # which a client acknowledges on its own: only the acknowledgement before DETACH covers it.
    count = 1500
    script = f"i=0; while [ $i -lt {count} ]; do i=$((i+1)); echo $i; sleep 0.001; done; exec sleep 1000"
    child = pexpect.spawn(HVTERM, ["shell", agent.target, "--", "sh", "-c", script], env=BASE_ENV,
                          timeout=TIMEOUT)
    child.logfile_read = io.BytesIO()  # every byte the first client showed
    child.expect_exact(b"\r\n300\r\n")
    child.kill(sig)
    child.expect(pexpect.EOF)
    raw = child.logfile_read.getvalue()
    child.close()
    tail = re.search(rb"\r\nhvterm: (terminated|hang-up); session [0-9a-f]{8} keeps running: [^\r]*\r\n$", raw)
    assert tail, raw[-300:]
    first = numbers_shown(until_detach(raw, b"hvterm: " + tail.group(1)))
    wait_for(lambda: detached(agent), "the session to be detached")
    attach = pexpect.spawn(HVTERM, ["attach", "-q", agent.target], env=BASE_ENV, timeout=TIMEOUT)
    attach.logfile_read = io.BytesIO()
    attach.expect_exact(b"%d\r\n" % count)  # the program went on while detached, or goes on now
    attach.send("~.")
    attach.expect(pexpect.EOF)
    second = numbers_shown(attach.logfile_read.getvalue())  # -q: no notice; nothing comes after the last line
    attach.close()
    # Every line once: those the first client showed, then those printed since (within the scrollback).
    assert first + second == list(range(1, count + 1)), (first[-3:], second[:3])


def test_a_detach_during_heavy_output_shows_no_line_twice_and_ends_with_the_notice(agent):
    # The terminal (this test) reads as fast as it can while seq fills it: ~. arrives with output
    # received and not yet written, and a piece of it being written.
    count = 2_000_000
    expected = b"".join(b"%d\r\n" % i for i in range(1, count + 1))
    child = pexpect.spawn(HVTERM, ["shell", agent.target, "--", "seq", str(count)], env=BASE_ENV, timeout=TIMEOUT,
                          maxread=65536)
    child.logfile_read = io.BytesIO()
    shown = b""
    while b"\r\n200000\r\n" not in shown:
        shown = shown[-16:] + child.read_nonblocking(65536, timeout=TIMEOUT)
    child.send("~.")  # nothing typed before it: ~. is at the start of a line (a typed \r would be echoed)
    child.expect(pexpect.EOF)
    raw = child.logfile_read.getvalue()
    child.close()
    assert child.exitstatus == 0, raw[-300:]
    # The notice is the last thing shown, on a line of its own: nothing of the session after it.
    tail = re.search(rb"\r\nhvterm: detached from session ([0-9a-f]{8}); resume with: [^\r]*\r\n$", raw)
    assert tail, raw[-300:]
    first = raw[:tail.start()]
    assert b"hvterm" not in first
    assert len(first) < len(expected), "seq had finished before the detach: nothing was tested"
    attach = pexpect.spawn(HVTERM, ["attach", "-q", agent.target, tail.group(1).decode()], env=BASE_ENV,
                           timeout=TIMEOUT, maxread=65536)
    second = attach.read()
    attach.close()
    assert attach.exitstatus == 0, second[-300:]
    # seq ran on while detached: attach shows the lines printed since (as far as the scrollback
    # reaches), the screen and the rest as it comes, after the ones the first client showed and none
    # of them twice.
    shown_first = numbers_shown(until_detach(raw))
    assert shown_first == list(range(1, len(shown_first) + 1)), "the first client lost or repeated a line"
    shown_second = numbers_shown(second)
    assert shown_second == list(range(count - len(shown_second) + 1, count + 1))
    assert shown_second[0] > shown_first[-1]


def test_a_client_that_lost_its_connection_without_reconnecting_leaves_a_bounded_repeat(agent, workdir):
    from relay import Relay
    relay = Relay(workdir, agent.sock)
    count = 2_000_000
    expected = b"".join(b"%d\n" % i for i in range(1, count + 1))
    relay.cut_after(3 * MIB)
    try:
        r = hvterm("exec", "--no-reconnect", relay.target, "--", "seq", str(count))
    finally:
        relay.close()
    assert r.returncode == 255 and b"connection lost" in r.stderr, r.stderr
    first = r.stdout
    wait_for(lambda: detached(agent), "the session to be detached")
    a = hvterm("attach", "-q", agent.target)
    assert a.returncode == 0, a.stderr
    start = split_point(expected, first, a.stdout)
    print(f"cut after {len(first)} bytes shown: {len(first) - start} bytes shown again")
    assert len(first) - start <= BOUND
