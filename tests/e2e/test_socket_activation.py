"""systemd socket activation: hvtermd serves a listening socket passed as fd 3 (LISTEN_FDS)."""
import os
import signal
import socket
import subprocess

import pytest

from conftest import HVTERMD, BASE_ENV, TIMEOUT, hvterm
from rawwire import HELLO, error_of, frames_in

ERROR_UNAUTHORIZED = 3  # PROTOCOL.md


def test_agent_serves_an_inherited_socket(workdir):
    path = os.path.join(workdir, "activated.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(8)
    fd = listener.fileno()

    def as_systemd_would():
        os.dup2(fd, 3)
        os.set_inheritable(3, True)  # dup2 onto itself would keep close-on-exec

    # LISTEN_PID is the service's own pid: the shell's $$, which exec keeps.
    log = open(os.path.join(workdir, "agent.log"), "wb")
    agent = subprocess.Popen(["/bin/sh", "-c", f'LISTEN_PID=$$ LISTEN_FDS=1 exec "{HVTERMD}" --log-level debug'],
                             preexec_fn=as_systemd_would, close_fds=False,
                             stdout=log, stderr=subprocess.STDOUT, env=BASE_ENV)
    listener.close()
    try:
        r = hvterm("exec", "unix:" + path, "--", "sh", "-c", "echo activated; echo ${LISTEN_FDS:-unset}")
        assert r.returncode == 0, r.stderr
        # Served, and the variables are not passed on to the session's programs.
        assert r.stdout == b"activated\nunset\n"
    finally:
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(timeout=TIMEOUT) == 0
        log.close()
    with open(os.path.join(workdir, "agent.log")) as f:
        assert "serving inherited socket 3" in f.read()


@pytest.mark.parametrize("kind, reason", [
    ("file", "inherited descriptor 3 (LISTEN_FDS) is not a listening socket: Socket operation on non-socket"),
    ("unbound", "inherited descriptor 3 (LISTEN_FDS) is a socket that is not listening"),
])
def test_an_inherited_descriptor_that_is_no_listening_socket_is_one_line_and_exit_1(workdir, kind, reason):
    things = {"file": lambda: open(os.path.join(workdir, "regular"), "w"),
              "unbound": lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)}
    thing = things[kind]()

    def as_systemd_would():
        os.dup2(thing.fileno(), 3)
        os.set_inheritable(3, True)  # dup2 onto itself would keep close-on-exec

    r = subprocess.run(["/bin/sh", "-c", f'LISTEN_PID=$$ LISTEN_FDS=1 exec "{HVTERMD}"'],
                       preexec_fn=as_systemd_would, close_fds=False, capture_output=True, env=BASE_ENV,
                       timeout=TIMEOUT)
    thing.close()
    assert r.returncode == 1
    assert r.stderr.decode() == f"hvtermd: error: {reason}\n"


def test_an_inherited_socket_whose_peers_cannot_be_identified_serves_nobody(workdir):
    # A TCP listener (a unit with ListenStream=127.0.0.1:PORT): its peers carry no uid and no CID,
    # so nothing says who they are. The agent refuses them with the reason, rather than serve anyone.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]

    def as_systemd_would():
        os.dup2(listener.fileno(), 3)
        os.set_inheritable(3, True)

    log_path = os.path.join(workdir, "agent.log")
    with open(log_path, "wb") as log:
        agent = subprocess.Popen(["/bin/sh", "-c", f'LISTEN_PID=$$ LISTEN_FDS=1 exec "{HVTERMD}"'],
                                 preexec_fn=as_systemd_would, close_fds=False,
                                 stdout=log, stderr=subprocess.STDOUT, env=BASE_ENV)
    listener.close()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        received = b""  # (nothing sent: unread bytes would make the agent's close a reset)
        while chunk := s.recv(65536):
            received += chunk
        s.close()
        code, message = error_of(received)
        assert code == ERROR_UNAUTHORIZED
        assert message.startswith("the agent cannot tell who is connecting"), message
        assert not any(t == HELLO for t, _ in frames_in(received)), "refused before any handshake"
    finally:
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(timeout=TIMEOUT) == 0
    with open(log_path) as f:
        assert "refused connection from" in f.read()
