"""Protocol strictness: the agent enforces what PROTOCOL.md says, over raw connections. Fields that a
program would see cut short are refused, windows are enforced, and no peer can make the agent
buffer without bound."""
import struct
import threading

import pytest

from conftest import Agent, TIMEOUT, hvterm, wait_for
from rawwire import (ACK, CAP_OPEN_ID, DETACH, EOF, ERROR, HELLO, LIST, PING, PONG, SESSION,
                     WINSIZE, RawClient, attach_frame, data_frame, error_of, exchange, frame, hello,
                     hello_reply, open_frame, session_id, stream_offset_frame, vm_rss_kib)

MIB = 1024 * 1024


def agent_still_serves(agent):
    assert hvterm("exec", agent.target, "--", "echo", "ok").stdout == b"ok\n"


def refused(agent, data):
    return error_of(exchange(agent, hello() + data))


# ---- OPEN fields ----------------------------------------------------------------------------------

@pytest.mark.parametrize("fields,words", [
    (dict(argv=[b"echo", b"a\0b"]), "argv[1] contains a NUL byte"),
    (dict(argv=[b"ec\0ho"]), "argv[0] contains a NUL byte"),
    (dict(argv=[b"true"], env=[b"A=1", b"B=x\0y"]), "environment entry 1 contains a NUL byte"),
    (dict(argv=[b"true"], env=[b"HOME"]), "environment entry 0 is not NAME=VALUE"),
    (dict(argv=[b"true"], env=[b"=value"]), "environment entry 0 is not NAME=VALUE"),
    (dict(argv=[b"true"], cwd=b"/tmp\0/etc"), "working directory contains a NUL byte"),
    (dict(argv=[b"true"], user=b"root\0x"), "user name contains a NUL byte"),
    (dict(argv=[b"true"], term=b"xterm\0", mode=1), "TERM contains a NUL byte"),
])
def test_open_fields_a_program_would_see_cut_short_are_refused(agent, fields, words):
    code, message = refused(agent, open_frame(**fields))
    assert code == 9 and words in message, message
    assert " started: " not in agent.read_log()  # refused before anything ran
    agent_still_serves(agent)


# ---- HELLO ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("offered", [1, 2, 65535])
def test_hello_answers_the_highest_common_version(agent, offered):
    client = RawClient(agent)
    client.send(hello(version=offered))
    version, _ = hello_reply(client.expect(HELLO))
    assert version == 1
    client.close()


def test_hello_without_a_common_version_names_both(agent):
    code, message = error_of(exchange(agent, hello(version=0)))
    assert code == 2 and "version 0" in message and "1 to 1" in message, message


@pytest.mark.parametrize("payload,words", [
    (b"HVTM\x01\x00", "HELLO of 6 bytes is cut short"),
    (b"HVT", "the magic is not HVTM"),
    (b"", "the magic is not HVTM"),
])
def test_a_malformed_hello_says_what_is_wrong(agent, payload, words):
    code, message = error_of(exchange(agent, frame(HELLO, payload)))
    assert code == 1 and message.startswith("malformed HELLO: ") and words in message, message


# ---- requests and session frames ---------------------------------------------------------------------

@pytest.mark.parametrize("data,words", [
    (frame(PING, b"\0" * 7), "malformed PING"),
    (frame(LIST, b"x"), "malformed LIST"),
    (attach_frame(b"\x11" * 16, resume=True, received=(5, 0, 0)), "stdin position must be 0"),
])
def test_requests_with_fields_out_of_place(agent, data, words):
    code, message = refused(agent, data)
    assert code in (1, 9) and words in message, message


def open_session(agent, argv, capabilities=0, sid=b""):
    client = RawClient(agent)
    client.send(hello(capabilities=capabilities) + open_frame(argv, sid))
    client.expect(HELLO)
    session = client.expect(SESSION)
    return client, session


def error_after(client):
    frames = client.until_closed()
    errors = [p for t, p in frames if t == ERROR]
    assert errors, frames
    code, n = struct.unpack("<HH", errors[-1][:4])
    return code, errors[-1][4:4 + n].decode()


@pytest.mark.parametrize("data,words", [
    (data_frame(0, 0, b"ab") + stream_offset_frame(EOF, 0, 2) + data_frame(0, 2, b"c"), "DATA after the end of stdin"),
    (data_frame(0, 0, b"ab") + stream_offset_frame(EOF, 0, 2) + data_frame(0, 0, b"ab"), "DATA after the end of stdin"),
    (data_frame(0, 5, b"x"), "leaves a gap"),
    (data_frame(1, 0, b"x"), "DATA for a stream other than stdin"),
    (stream_offset_frame(EOF, 0, 9), "does not follow the data received"),
    (stream_offset_frame(ACK, 1, 1 << 40), "acknowledges what was never sent"),
    (frame(LIST), "unexpected LIST in a session"),
    (frame(DETACH, b"x"), "malformed DETACH"),
    (frame(WINSIZE, b"\0" * 7), "malformed WINSIZE"),
])
def test_session_frames_that_break_the_rules_end_the_connection(agent, data, words):
    client, _ = open_session(agent, [b"cat"])
    client.send(data)
    code, message = error_after(client)
    assert code == 1 and words in message, message
    client.close()
    agent_still_serves(agent)


# ---- bounded memory ----------------------------------------------------------------------------------

def push(client, start, size, chunk=60000):
    """Send stdin DATA from `start` without waiting for any acknowledgement; stop when refused."""
    offset = start
    try:
        while offset < start + size:
            n = min(chunk, start + size - offset)
            client.send(data_frame(0, offset, b"\0" * n))
            offset += n
    except (BrokenPipeError, ConnectionResetError):
        pass
    return offset


def test_stdin_beyond_the_window_is_refused_and_memory_stays_bounded(agent):
    before = vm_rss_kib(agent.proc.pid)
    client, _ = open_session(agent, [b"sleep", b"30"])  # never reads its stdin
    sender = threading.Thread(target=push, args=(client, 0, 64 * MIB))
    sender.start()
    code, message = error_after(client)
    sender.join(TIMEOUT)
    assert code == 1 and "beyond the window" in message, message
    assert vm_rss_kib(agent.proc.pid) - before < 16 * 1024
    client.close()
    agent_still_serves(agent)


def sync(client):
    """Wait until the agent has handled everything sent so far: it answers a PING in order."""
    client.send(frame(PING, b"syncsync"))
    while True:
        got = client.next_frame()
        assert got is not None and got[0] in (PONG, ACK), got
        if got[0] == PONG:
            return


def resume(agent, sid):
    client = RawClient(agent)
    client.send(hello() + attach_frame(sid, resume=True))
    client.expect(HELLO)
    session = client.expect(SESSION)
    return client, struct.unpack("<Q", session[21:29])[0]  # the stdin position the agent holds


def test_input_a_program_does_not_read_is_bounded_across_reconnects(agent):
    # Each connection may send a whole window beyond what SESSION announced; reconnecting again and
    # again must not add window after window to what the agent holds for a program that never reads.
    sid = session_id()
    client, _ = open_session(agent, [b"sleep", b"30"], capabilities=CAP_OPEN_ID, sid=sid)
    assert push(client, 0, 2 * MIB) == 2 * MIB  # the whole window, and not one byte more
    sync(client)
    client.close()
    client, held = resume(agent, sid)
    assert held == 2 * MIB
    push(client, held, 2 * MIB)
    sync(client)
    client.close()
    client, held = resume(agent, sid)
    assert held == 4 * MIB
    push(client, held, 2 * MIB)
    code, message = error_after(client)
    assert code == 1 and "has not read" in message, message
    client.close()
    assert hvterm("kill", agent.target, sid.hex(), "-s", "KILL").returncode == 0


def test_a_ping_flood_from_a_peer_that_does_not_read_is_cut_off(agent):
    before = vm_rss_kib(agent.proc.pid)
    client = RawClient(agent, buffer_size=16384)
    client.send(hello())
    pings = frame(PING, b"\0" * 8) * 4096

    def flood():
        try:
            for _ in range(100):  # 400k PINGs: 6.4 MB of PONGs if the agent answered them all
                client.send(pings)
        except OSError:
            pass

    sender = threading.Thread(target=flood)
    sender.start()
    wait_for(lambda: "does not read" in agent.read_log(), "the agent to cut the flood off")
    grew = vm_rss_kib(agent.proc.pid) - before
    frames = client.until_closed()
    sender.join(TIMEOUT)
    assert frames[0][0] == HELLO
    assert all(t == PONG for t, _ in frames[1:-1])
    assert len(frames) - 2 < 50000, len(frames)  # 64 KiB of PONGs and what the sockets held
    code, n = struct.unpack("<HH", frames[-1][1][:4])
    assert frames[-1][0] == ERROR and code == 5, frames[-1]
    assert grew < 8 * 1024, grew
    client.close()
    agent_still_serves(agent)


def test_a_list_that_is_never_read_does_not_hold_the_connection(workdir):
    agent = Agent(workdir)
    try:
        long_arg = b"x" * 60000  # LIST_ENTRY repeats the command: 5 sessions are more than the sockets hold
        sids = []
        for _ in range(5):
            sid = session_id()
            client = RawClient(agent)
            client.send(hello(capabilities=CAP_OPEN_ID) + open_frame([b"sleep", b"30", long_arg], sid))
            client.expect(HELLO)
            client.expect(SESSION)
            client.send(frame(DETACH))
            client.until_closed()
            client.close()
            sids.append(sid)
        baseline = agent.fd_count()
        reader = RawClient(agent, buffer_size=4096)
        reader.send(hello() + frame(LIST))  # and never reads the answer
        wait_for(lambda: agent.fd_count() == baseline + 1, "the connection to be accepted")
        wait_for(lambda: agent.fd_count() == baseline, "the agent to give up on the non-reader")
        reader.close()
        for sid in sids:
            assert hvterm("kill", agent.target, sid.hex(), "-s", "KILL").returncode == 0
    finally:
        agent.stop()
