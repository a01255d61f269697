"""systemd socket activation: hvtermd serves a listening socket passed as fd 3 (LISTEN_FDS)."""
import os
import signal
import socket
import subprocess

import pytest

from conftest import HVTERMD, BASE_ENV, TIMEOUT, hvterm


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
