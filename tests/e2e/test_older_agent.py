"""A new hvterm against an agent from before session names and KILL recipients (HELLO capabilities
up to 0x20): ls works without names, kill says what the agent cannot do rather than do something
else, and a named session is refused before anything starts."""
import struct

import pytest

from conftest import hvterm
from rawwire import HELLO, KILL, LIST, LIST_END, LIST_ENTRY, OK, OPEN, FakeAgent, frame, frames_in, string

OLD_CAPABILITIES = 0x3F
SESSION_ID = bytes.fromhex("5e551011") + b"\x00" * 12


def old_list_entry():
    return (SESSION_ID + bytes([1, 1]) + struct.pack("<I", 4242) + struct.pack("<HHHH", 24, 80, 0, 0) +
            struct.pack("<QQI", 1700000000000, 1000, 0) + string(b"bash"))


class OldAgent(FakeAgent):
    """Answers like hvtermd before 0x40/0x80, and keeps every request it got."""

    def __init__(self, directory, capabilities=OLD_CAPABILITIES):
        self.requests = []
        self.capabilities = capabilities
        super().__init__(directory, "old.sock")

    def converse(self, conn):
        data = b""
        answered_hello = False
        while True:
            got = frames_in(data)
            if answered_hello and len(got) >= 2 or not answered_hello and got:
                if not answered_hello:
                    assert got[0][0] == HELLO
                    conn.sendall(frame(HELLO, b"HVTM" + struct.pack("<HI", 1, self.capabilities) +
                                       string(b"hvtermd 0.0.9") + string(b"")))
                    answered_hello = True
                    continue
                ftype, payload = got[1]
                self.requests.append((ftype, payload))
                if ftype == LIST:
                    conn.sendall(frame(LIST_ENTRY, old_list_entry()) + frame(LIST_END))
                elif ftype == KILL and len(payload) == 17:
                    conn.sendall(frame(OK))
                return  # anything else: an old agent would not understand it; hang up
            chunk = conn.recv(65536)
            if not chunk:
                return
            data += chunk

@pytest.fixture
def old_agent(workdir):
    a = OldAgent(workdir)
    yield a
    a.close()


def test_ls_without_names(old_agent):
    out = hvterm("ls", old_agent.target, check=0).stdout.decode().splitlines()
    assert out[1].split()[:3] == ["5e551011", "-", "detached"]
    assert b'"name":null' in hvterm("ls", old_agent.target, "--json", check=0).stdout


def test_kill_needs_foreground_or_a_newer_agent(old_agent):
    r = hvterm("kill", old_agent.target, "5e55")
    assert r.returncode == 255
    assert r.stderr.decode() == ("hvterm: this agent (hvtermd 0.0.9) signals only the terminal's foreground job; add "
                                 "--foreground for that, or update hvtermd there\n")
    r = hvterm("kill", old_agent.target, "5e55", "--close")
    assert r.returncode == 255 and b"cannot close a session" in r.stderr
    assert [t for t, _ in old_agent.requests] == [LIST, LIST]  # nothing was sent it would misread
    hvterm("kill", old_agent.target, "5e55", "--foreground", "-s", "INT", check=0)
    assert old_agent.requests[-1] == (KILL, SESSION_ID + bytes([2]))  # the KILL it knows


def test_a_named_session_is_refused_before_it_starts(old_agent):
    r = hvterm("exec", "-n", "build", old_agent.target, "--", "true")
    assert r.returncode == 255
    assert r.stderr.decode() == ("hvterm: this agent (hvtermd 0.0.9) is too old to name sessions; update hvtermd "
                                 "there, or leave out --name\n")
    assert OPEN not in [t for t, _ in old_agent.requests]


@pytest.mark.parametrize("capabilities,args,message", [
    (OLD_CAPABILITIES, [], b"is too old to copy files; update hvtermd there"),
    # 0x100: copies, but from before --resume (0x200)
    (0x1FF, ["--resume"], b"is too old to resume partial files; update hvtermd there, or leave out --resume"),
])
def test_a_copy_the_agent_cannot_do_is_refused_before_it_starts(workdir, capabilities, args, message):
    agent = OldAgent(workdir, capabilities)
    try:
        proc = hvterm("cp", *args, "--target", agent.target, "/etc/hostname", ":/tmp/", check=255)
    finally:
        agent.close()
    assert proc.stderr == b"hvterm: cp: this agent (hvtermd 0.0.9) " + message + b"\n"
    assert OPEN not in [t for t, _ in agent.requests]
