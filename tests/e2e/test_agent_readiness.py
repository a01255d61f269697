"""The agent's socket path is its readiness signal: once the path exists, a connection is accepted
and SIGTERM is a clean shutdown. Scripts, units and these tests wait for the path and nothing else."""
import os
import signal
import socket
import subprocess

from conftest import BASE_ENV, HVTERMD, TIMEOUT

RUNS = 40


def start(workdir):
    sock = os.path.join(workdir, "agent.sock")
    proc = subprocess.Popen([HVTERMD, "--listen", "unix:" + sock], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=BASE_ENV)
    # Spin without sleeping: the test is about the first instant the path exists.
    while not os.path.exists(sock):
        assert proc.poll() is None, proc.stderr.read()
    return proc, sock


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=TIMEOUT)
    return proc.returncode, err


def test_the_socket_accepts_connections_as_soon_as_its_path_exists(workdir):
    for _ in range(RUNS):
        proc, sock = start(workdir)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(sock)
        finally:
            s.close()
            code, err = stop(proc)
        assert code == 0, err


def test_sigterm_as_soon_as_the_path_exists_is_a_clean_exit(workdir):
    for _ in range(RUNS):
        proc, sock = start(workdir)
        code, err = stop(proc)
        assert code == 0, err
        assert not os.path.exists(sock)


def test_no_side_name_is_left_behind(workdir):
    proc, sock = start(workdir)
    assert sorted(os.listdir(workdir)) == ["agent.sock", "agent.sock.lock"]
    stop(proc)
