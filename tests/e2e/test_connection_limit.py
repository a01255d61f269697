"""The agent's cap on connections (--max-connections): clients beyond it hear why, the log gets one
record per burst of refusals, and an agent out of descriptors neither spins nor goes silent."""
import os
import resource
import signal
import socket
import struct
import subprocess
import time
import types

import pytest

from conftest import Agent, BASE_ENV, HVTERMD, SANITIZED, TIMEOUT, hvterm, wait_for
from rawwire import ERROR, HELLO, RawClient, hello

LIMIT_ERROR = 5


def accepted(agent):
    """A connection the agent has taken (it answered HELLO) and keeps, idle."""
    client = RawClient(agent)
    client.send(hello())
    client.expect(HELLO)
    return client


def refusal(agent):
    """(code, message) of the ERROR a connection beyond the limit gets at once."""
    client = RawClient(agent)
    frames = client.until_closed()
    client.close()
    assert frames and frames[0][0] == ERROR, frames
    code, n = struct.unpack("<HH", frames[0][1][:4])
    return code, frames[0][1][4:4 + n].decode()


def test_connections_beyond_the_limit_are_refused_with_one_log_record_per_burst(workdir):
    agent = Agent(workdir, ["--max-connections", "3"])
    try:
        held = [accepted(agent) for _ in range(3)]
        for _ in range(5):
            r = hvterm("ping", agent.target)
            assert r.returncode == 255, r
            assert r.stderr.count(b"\n") == 1 and b"at most 3 connections at once (--max-connections)" in r.stderr
        assert agent.read_log().count("connection limit reached (--max-connections 3)") == 1
        for client in held:
            client.close()
        wait_for(lambda: "5 connection(s) were refused meanwhile" in agent.read_log(), "the end of the burst")
        assert hvterm("ping", agent.target).returncode == 0
        # A second burst gets a record of its own.
        held = [accepted(agent) for _ in range(3)]
        assert refusal(agent) == (LIMIT_ERROR, "the agent serves at most 3 connections at once (--max-connections)")
        assert agent.read_log().count("connection limit reached (--max-connections 3)") == 2
        for client in held:
            client.close()
    finally:
        agent.stop()


def start_with_descriptor_limit(workdir, limit, args, listener=None):
    """hvtermd whose open-file limit is `limit` (soft and hard), optionally serving `listener` as a
    socket systemd passed it (fd 3)."""
    log = open(os.path.join(workdir, "agent.log"), "wb")

    def prepare():
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))
        if listener is not None:
            os.dup2(listener.fileno(), 3)
        os.set_inheritable(3, True)  # dup2 onto itself would keep close-on-exec

    command = [HVTERMD, "--log-level", "debug", *args]
    if listener is not None:
        command = ["/bin/sh", "-c", 'LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"', *command]
    proc = subprocess.Popen(command, preexec_fn=prepare, close_fds=listener is None, stdout=log,
                            stderr=subprocess.STDOUT, env=BASE_ENV, cwd=workdir)
    log.close()
    return proc


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def test_the_default_limit_follows_the_open_file_limit(workdir):
    # 64 descriptors: the agent's own few aside, half of them for connections (16).
    sock = os.path.join(workdir, "agent.sock")
    proc = start_with_descriptor_limit(workdir, 64, ["--listen", "unix:" + sock])
    target = types.SimpleNamespace(sock=sock)
    try:
        wait_for(lambda: os.path.exists(sock) or proc.poll() is not None, "agent socket")
        held = [accepted(target) for _ in range(16)]
        assert refusal(target) == (LIMIT_ERROR, "the agent serves at most 16 connections at once (--max-connections)")
        for client in held:
            client.close()
        wait_for(lambda: "were refused meanwhile" in read(os.path.join(workdir, "agent.log")), "the end of the burst")
        assert hvterm("exec", "unix:" + sock, "--", "true").returncode == 0
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=TIMEOUT) == 0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# UBSan checks a virtual call by probing memory through a pipe, which a process with no descriptor
# left cannot create: it then reports every such call as a bad object and aborts.
@pytest.mark.skipif(SANITIZED, reason="UBSan's vptr check needs a free descriptor, which this test takes away")
def test_an_agent_out_of_descriptors_pauses_accepting_instead_of_spinning(workdir):
    # A limit set above what the descriptors allow: the listener systemd passed runs out of them.
    path = os.path.join(workdir, "activated.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(128)
    proc = start_with_descriptor_limit(workdir, 40, ["--max-connections", "1000"], listener=listener)
    listener.close()
    log_path = os.path.join(workdir, "agent.log")
    clients = []
    try:
        wait_for(lambda: "serving inherited socket 3" in read(log_path), "the agent to serve the socket")
        for _ in range(60):  # more than 40 descriptors' worth: the rest wait in the listen queue
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            clients.append(s)
        wait_for(lambda: "cannot accept connections: Too many open files" in read(log_path), "the agent to notice")
        before = cpu_seconds(proc.pid)
        time.sleep(2)  # a measurement window: a spinning agent burns all of it
        burnt = cpu_seconds(proc.pid) - before
        assert burnt < 0.5, f"the agent used {burnt:.2f} s of CPU in 2 s while out of descriptors"
        assert read(log_path).count("cannot accept connections") == 1
        for s in clients:
            s.close()
        clients = []
        r = hvterm("exec", "unix:" + path, "--", "echo", "served")
        assert r.returncode == 0 and r.stdout == b"served\n", r
        assert proc.poll() is None
    finally:
        for s in clients:
            s.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=TIMEOUT) == 0
