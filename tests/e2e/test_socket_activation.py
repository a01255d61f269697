"""systemd socket activation: hvtermd serves a listening socket passed as fd 3 (LISTEN_FDS)."""
import os
import signal
import socket
import subprocess

from conftest import HVTERMD, BASE_ENV, TIMEOUT, hvterm


def test_agent_serves_an_inherited_socket(workdir):
    path = os.path.join(workdir, "activated.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(8)
    fd = listener.fileno()

    def as_systemd_would():
        os.dup2(fd, 3)

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
