"""Several terminals on one terminal session, as tmux allows: `hvterm attach` joins a session that
another client shows (both see it, both type), --read-only watches, --take takes it over, and the
session has the size of the smallest terminal. Driven through real PTYs; screens read through
pyte, as the user's terminal would show them."""
import io
import json

import pexpect
import pyte

from conftest import BASE_ENV, HVTERM, PROMPT, TIMEOUT, Agent, hvterm, spawn_shell, wait_for
from rawwire import ATTACH, CAP_RESUME, DATA, ERROR, HELLO, SESSION, WINSIZE, RawClient, attach_frame, data_frame, frame, hello
from relay import Relay

CAP_VIEWERS = 0x400


def join(target, session, *extra, rows=24, cols=80):
    child = pexpect.spawn(HVTERM, ["attach", target, session, *extra], env=BASE_ENV, dimensions=(rows, cols),
                          timeout=TIMEOUT)
    child.logfile_read = io.BytesIO()
    return child


def leave(child, status=0):
    child.send("\r~.")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == status


def screen_of(transcript, rows=24, cols=80):
    screen = pyte.Screen(cols, rows)
    pyte.ByteStream(screen).feed(transcript)
    return [line.rstrip() for line in screen.display]


def clients_of(target, name):
    listed = json.loads(hvterm("ls", target, "--json", check=0).stdout)
    return next(entry["clients"] for entry in listed if entry["name"] == name)


def first_client(target, name, **size):
    child = spawn_shell(target, "-n", name, **size)
    child.logfile_read = io.BytesIO()
    child.expect_exact(PROMPT)
    return child


def test_a_second_client_joins_sees_the_screen_and_both_type(agent):
    first = first_client(agent.target, "pair")
    first.sendline("seq 101 140")  # more than a screen: the joiner is shown the screen, not a replay
    first.expect_exact("140\r\n")
    first.expect_exact(PROMPT)
    second = join(agent.target, "pair")
    second.expect_exact("beside its other client")
    second.expect_exact(PROMPT)
    assert clients_of(agent.target, "pair") == 2
    # What the joiner's terminal shows is what the first one's shows.
    first.sendline("echo from-first-$((1+1))")
    first.expect_exact("from-first-2\r\n")
    first.expect_exact(PROMPT)
    second.expect_exact("from-first-2\r\n")
    second.expect_exact(PROMPT)
    assert screen_of(second.logfile_read.getvalue())[-8:] == screen_of(first.logfile_read.getvalue())[-8:]
    assert "140" in screen_of(second.logfile_read.getvalue())
    assert "101" not in screen_of(second.logfile_read.getvalue())
    # The joiner types too.
    second.sendline("echo from-second-$((2+2))")
    second.expect_exact("from-second-4\r\n")
    first.expect_exact("from-second-4\r\n")
    first.expect_exact(PROMPT)
    # ~. takes the joiner away; the first client goes on alone.
    leave(second)
    assert clients_of(agent.target, "pair") == 1
    first.sendline("echo alone-$((3+3))")
    first.expect_exact("alone-6\r\n")
    first.sendline("exit 7")
    first.expect(pexpect.EOF)
    first.close()
    assert first.exitstatus == 7


def test_a_read_only_viewer_sees_everything_and_types_nothing(agent):
    first = first_client(agent.target, "watched")
    viewer = join(agent.target, "watched", "--read-only")
    viewer.expect_exact("read-only")
    viewer.expect_exact(PROMPT)
    viewer.sendline("echo typed-by-viewer-$((4+4))")
    first.sendline("echo marker-$((5+5))")
    first.expect_exact("marker-10\r\n")
    viewer.expect_exact("marker-10\r\n")
    first.expect_exact(PROMPT)
    first.sendline("exit 0")
    first.expect(pexpect.EOF)
    first.close()
    # The viewer sees the program end, and exits with its status as its client does.
    viewer.expect(pexpect.EOF)
    viewer.close()
    assert viewer.exitstatus == 0
    for transcript in (first.logfile_read.getvalue(), viewer.logfile_read.getvalue()):
        assert b"typed-by-viewer" not in transcript and b"8\r\n" not in transcript


def test_the_session_has_the_smallest_terminals_size_and_each_is_told(agent):
    first = first_client(agent.target, "sized")
    small = join(agent.target, "sized", rows=20, cols=60)
    small.expect_exact(PROMPT)
    first.expect_exact("the session is 60x20: the smallest of the terminals that show it")
    first.sendline("stty size")
    first.expect_exact("20 60\r\n")
    first.expect_exact(PROMPT)
    leave(small)
    first.expect_exact("the session has your terminal's size again")
    first.sendline("stty size")
    first.expect_exact("24 80\r\n")
    first.expect_exact(PROMPT)
    # A terminal that grows past another's is told the session stays at the smaller size.
    small = join(agent.target, "sized", rows=20, cols=60)
    small.expect_exact(PROMPT)
    first.expect_exact("the session is 60x20")
    small.setwinsize(22, 70)
    first.expect_exact("the session is 70x22")
    leave(small)
    first.sendline("exit 0")
    first.expect(pexpect.EOF)
    first.close()


def test_take_lets_every_other_client_go(agent):
    first = first_client(agent.target, "taken")
    viewer = join(agent.target, "taken")
    viewer.expect_exact(PROMPT)
    taker = join(agent.target, "taken", "--take")
    taker.expect_exact(PROMPT)
    for child in (first, viewer):
        child.expect_exact("another client attached")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 255
    assert clients_of(agent.target, "taken") == 1
    taker.sendline("exit 3")
    taker.expect(pexpect.EOF)
    taker.close()
    assert taker.exitstatus == 3


def test_a_pipes_session_has_one_client(agent):
    runner = pexpect.spawn(HVTERM, ["exec", agent.target, "-n", "pipes", "--", "sh", "-c", "echo up; exec sleep 1000"],
                           env=BASE_ENV, timeout=TIMEOUT)
    runner.expect_exact("up")
    second = hvterm("attach", agent.target, "pipes")
    assert second.returncode == 255
    assert b"exact bytes for one client; --take takes it over" in second.stderr
    watcher = hvterm("attach", agent.target, "pipes", "--read-only")
    assert watcher.returncode == 255 and b"cannot be watched" in watcher.stderr
    assert hvterm("attach", agent.target, "pipes", "--read-only", "--take").returncode != 0  # one or the other
    hvterm("kill", agent.target, "pipes", "--close", check=0)
    runner.expect(pexpect.EOF)
    runner.close()


def test_a_viewer_joining_a_full_screen_program_gets_its_screen_and_modes(agent):
    first = first_client(agent.target, "full")
    first.sendline(r"printf '\033[?1049h\033[?1000h\033[2J\033[5;10Hdrawn-%s' $((6*7)); read x")
    first.expect_exact("drawn-42")
    viewer = join(agent.target, "full", "--read-only")
    viewer.expect_exact("drawn-42")
    shown = viewer.logfile_read.getvalue()
    assert b"\x1b[?1049h" in shown and b"\x1b[?1000h" in shown  # the alternate screen, the mouse
    assert screen_of(shown)[4] == " " * 9 + "drawn-42"
    leave(viewer)
    first.sendline("")
    first.expect_exact(PROMPT)
    first.sendline("exit 0")
    first.expect(pexpect.EOF)


def test_a_viewer_whose_connection_is_cut_joins_again(agent, workdir):
    relay = Relay(workdir, agent.sock)
    try:
        first = first_client(agent.target, "cut")
        viewer = join(relay.target, "cut")
        viewer.expect_exact(PROMPT)
        relay.cut()
        viewer.expect_exact("joined session")
        viewer.expect_exact(PROMPT)
        first.sendline("echo after-cut-$((8+1))")
        viewer.expect_exact("after-cut-9\r\n")
        viewer.sendline("echo viewer-again-$((8+2))")
        first.expect_exact("viewer-again-10\r\n")
        assert clients_of(agent.target, "cut") == 2
        leave(viewer)
        first.sendline("exit 0")
        first.expect(pexpect.EOF)
    finally:
        relay.close()


def session_id_of(target, name):
    listed = json.loads(hvterm("ls", target, "--json", check=0).stdout)
    return bytes.fromhex(next(entry["id"] for entry in listed if entry["name"] == name))


def test_an_older_client_still_takes_a_session_over(agent):
    first = first_client(agent.target, "older")
    old = RawClient(agent)
    old.send(hello(capabilities=CAP_RESUME) + attach_frame(session_id_of(agent.target, "older")))
    assert old.expect(HELLO)[6:10] != b"\0\0\0\0"
    assert len(old.expect(SESSION)) == 16 + 1 + 4 + 24  # no role: it did not announce 0x400
    first.expect_exact("another client attached")
    first.expect(pexpect.EOF)
    first.close()
    assert first.exitstatus == 255
    old.close()


def test_a_read_only_viewer_that_types_is_cut_off_and_the_session_goes_on(agent):
    first = first_client(agent.target, "strict")
    sid = session_id_of(agent.target, "strict")
    viewer = RawClient(agent)
    viewer.send(hello(capabilities=CAP_VIEWERS) + frame(ATTACH, sid + bytes([4]) + bytes(24) + bytes([24, 0, 80, 0, 0, 0, 0, 0])))
    hello_payload = viewer.expect(HELLO)
    assert int.from_bytes(hello_payload[6:10], "little") & CAP_VIEWERS
    info = viewer.expect(SESSION)
    assert info[-1] == 2 and info[21:45] == bytes(24)  # read-only viewer; its streams start at 0
    viewer.send(data_frame(0, 0, b"echo typed\r"))
    frames = viewer.until_closed()
    assert {t for t, _ in frames} <= {DATA, WINSIZE, ERROR, 6}  # the screen, its size, EOF of stderr
    assert frames[-1][0] == ERROR and b"read-only" in frames[-1][1]
    first.sendline("echo still-$((9+9))")
    first.expect_exact("still-18\r\n")
    assert b"typed" not in first.logfile_read.getvalue()
    first.sendline("exit 0")
    first.expect(pexpect.EOF)


def test_a_viewer_is_told_when_a_client_attaching_makes_the_session_smaller(agent):
    first = first_client(agent.target, "grow")
    leave(first)
    viewer = join(agent.target, "grow", "--read-only")
    viewer.expect_exact(PROMPT)
    client = join(agent.target, "grow", rows=20, cols=60)  # nobody else is the client: it becomes it
    client.expect_exact(PROMPT)
    viewer.expect_exact("the session is 60x20")
    assert b"beside its other client" not in client.logfile_read.getvalue()
    client.sendline("exit 0")
    client.expect(pexpect.EOF)
    viewer.expect(pexpect.EOF)


def test_take_and_read_only_flags_need_the_capability(agent):
    first = first_client(agent.target, "flags")
    sid = session_id_of(agent.target, "flags")
    for flags in (2, 4):
        old = RawClient(agent)
        old.send(hello(capabilities=CAP_RESUME) + frame(ATTACH, sid + bytes([flags]) + bytes(24) + bytes(8)))
        old.expect(HELLO)
        error = old.expect(ERROR)
        assert error[:2] == b"\x01\x00" and b"capability 0x400" in error, error
        old.close()
    first.sendline("echo untouched-$((6+6))")  # neither took the session nor joined it
    first.expect_exact("untouched-12\r\n")
    assert clients_of(agent.target, "flags") == 1
    first.sendline("exit 0")
    first.expect(pexpect.EOF)


def test_a_session_a_viewer_still_shows_does_not_linger_out(workdir):
    agent = Agent(workdir, ["--linger", "1s"])
    try:
        first = first_client(agent.target, "watched")
        viewer = join(agent.target, "watched")
        viewer.expect_exact("beside its other client")
        viewer.expect_exact(PROMPT)
        leave(first)  # the session's client detaches; the viewer goes on showing it
        # The session's own shell waits out three lingers; hung up, it would never answer.
        viewer.sendline("sleep 3; echo still-$((2+3))")
        viewer.expect_exact("still-5\r\n")
        viewer.expect_exact(PROMPT)
        leave(viewer)  # nobody shows it now: it lingers, then is hung up
        wait_for(lambda: json.loads(hvterm("ls", agent.target, "--json", check=0).stdout) == [],
                 "the session to linger out once nobody shows it")
        assert "lingered past its limit" in agent.read_log()
    finally:
        agent.stop()
