"""TARGET forms end to end: hybrid vsock against a muxer that follows the Firecracker handshake,
and the one-line reasons for targets that cannot be reached (never touching this machine's vsock)."""
import os
import socket
import threading

import pytest

from conftest import TIMEOUT, VERSION, hvterm


class HybridMuxer:
    """Stands in for Firecracker's host-side vsock socket: `CONNECT <port>\\n` → `OK <n>\\n`, then
    the bytes are the guest's (here: the agent's Unix socket)."""

    def __init__(self, directory, agent_sock, port, behaviour="ok"):
        self.path = os.path.join(directory, "vm.vsock")
        self.agent_sock, self.port, self.behaviour = agent_sock, port, behaviour
        self.requests = []
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(8)
        self.held = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        line = b""
        while not line.endswith(b"\n") and len(line) < 64:
            b = conn.recv(1)
            if not b:
                break
            line += b
        self.requests.append(line)
        if self.behaviour == "slow":
            self.held.append(conn)  # never answers
            return
        if self.behaviour == "oversized":
            conn.sendall(b"OK " + b"9" * 40)
            return
        if self.behaviour == "garbage":
            conn.sendall(b"HELLO THERE\n")
            conn.close()
            return
        if self.behaviour == "refuse" or line != f"CONNECT {self.port}\n".encode():
            conn.close()  # Firecracker closes when nothing listens on that guest port
            return
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        upstream.connect(self.agent_sock)
        conn.sendall(b"OK 1073741824\n")
        for a, b in ((conn, upstream), (upstream, conn)):
            threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self):
        self.listener.close()
        for c in self.held:
            c.close()


@pytest.fixture
def muxer_factory(agent, workdir):
    made = []

    def make(behaviour="ok", port=18518):
        m = HybridMuxer(workdir, agent.sock, port, behaviour)
        made.append(m)
        return m

    yield make
    for m in made:
        m.close()


def test_hybrid_connects_through_the_vmm_handshake(muxer_factory):
    m = muxer_factory(port=5000)
    r = hvterm("exec", f"hybrid:{m.path}:5000", "--", "sh", "-c", "echo via-hybrid; exit 4", input=b"")
    assert r.returncode == 4 and r.stdout == b"via-hybrid\n", r.stderr
    assert m.requests == [b"CONNECT 5000\n"]


def test_hybrid_refused_port(muxer_factory):
    m = muxer_factory(behaviour="refuse")
    r = hvterm("exec", f"hybrid:{m.path}:18518", "--", "true")
    assert r.returncode == 255 and r.stderr.count(b"\n") == 1
    assert b"nothing listening" in r.stderr or b"refused" in r.stderr


def test_hybrid_slow_vmm_times_out(muxer_factory):
    m = muxer_factory(behaviour="slow")
    r = hvterm("exec", "--connect-timeout", "500ms", f"hybrid:{m.path}:18518", "--", "true")
    assert r.returncode == 255 and b"timed out" in r.stderr and r.stderr.count(b"\n") == 1


def test_hybrid_oversized_reply_is_rejected(muxer_factory):
    m = muxer_factory(behaviour="oversized")
    r = hvterm("exec", f"hybrid:{m.path}:18518", "--", "true")
    assert r.returncode == 255 and b"longer than 32 bytes" in r.stderr


def test_hybrid_garbage_reply_is_rejected(muxer_factory):
    m = muxer_factory(behaviour="garbage")
    r = hvterm("exec", f"hybrid:{m.path}:18518", "--", "true")
    assert r.returncode == 255 and b"HELLO THERE" in r.stderr and r.stderr.count(b"\n") == 1


def test_hybrid_without_a_vmm_socket(workdir):
    r = hvterm("exec", f"hybrid:{workdir}/none.vsock:18518", "--", "true")
    assert r.returncode == 255 and b"no VMM vsock socket" in r.stderr


@pytest.mark.parametrize("target,reason", [
    ("unix:/nonexistent/agent.sock", b"no agent is listening on /nonexistent/agent.sock"),
    ("unix:/" + "x" * 200, b"socket path is too long"),
    ("hv:00000000-0000-0000-0000-000000000001", b"only on Windows hosts"),
    ("myvm", b"no VM named 'myvm' in libvirt (test:///default)"),
    ("vsock:3", b"vsock is disabled in this environment"),  # the suite's guard: never touch vsock here
])
def test_unreachable_targets_give_one_line_reasons(target, reason):
    r = hvterm("exec", target, "--", "true")
    assert r.returncode == 255, r.stderr
    assert reason in r.stderr and r.stderr.count(b"\n") == 1, r.stderr


@pytest.mark.parametrize("target,reason", [
    ("vsock:abc", b"is not a CID"),
    ("vsock:3:0", b"is not a port number"),
    ("hybrid:/x", b"expected hybrid:PATH:PORT"),
    ("hv:not-a-guid", b"expected hv:VMID"),
    ("ftp://x", b"unknown form"),
])
def test_malformed_targets_are_usage_errors(target, reason):
    r = hvterm("exec", target, "--", "true")
    assert r.returncode == 2 and reason in r.stderr and r.stderr.count(b"\n") == 1, r.stderr


def test_ping_reports_version_and_time(agent):
    r = hvterm("ping", agent.target, check=0)
    assert r.stdout.startswith(b"hvtermd " + VERSION.encode() + b" answered from " + agent.target.encode())
    assert b" ms" in r.stdout


def test_ping_wait_polls_until_the_agent_answers(workdir):
    import subprocess
    from conftest import Agent, HVTERM, BASE_ENV
    sock = os.path.join(workdir, "agent.sock")
    proc = subprocess.Popen([HVTERM, "ping", f"unix:{sock}", "--wait", "30"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=BASE_ENV)
    agent = Agent(workdir)  # starts after the pinging began
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
        assert proc.returncode == 0 and b"answered" in out, err
    finally:
        agent.stop()


def test_ping_without_wait_fails_fast(workdir):
    r = hvterm("ping", f"unix:{workdir}/none.sock")
    assert r.returncode == 255 and b"no agent is listening" in r.stderr
