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
        os.environ["LISTEN_PID"] = str(os.getpid())  # what systemd sets: the pid of the service
        os.environ["LISTEN_FDS"] = "1"

    log = open(os.path.join(workdir, "agent.log"), "wb")
    agent = subprocess.Popen([HVTERMD, "--log-level", "debug"], preexec_fn=as_systemd_would, close_fds=False,
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
