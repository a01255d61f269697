"""The agent's socket path is its readiness signal: once the path exists, a connection is accepted
and SIGTERM is a clean shutdown. Scripts, units and these tests wait for the path and nothing else."""
import os
import shutil
import signal
import socket
import subprocess

from conftest import BASE_ENV, HVTERM, HVTERMD, TIMEOUT

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


def test_an_agent_whose_program_was_replaced_still_starts_sessions(workdir):
    # A package upgrade replaces /usr/bin/hvtermd under a running agent: its sessions go on, and new
    # ones (which start through a helper run from the agent's own program) must too.
    program = os.path.join(workdir, "hvtermd")
    shutil.copy(HVTERMD, program)
    sock = os.path.join(workdir, "agent.sock")
    proc = subprocess.Popen([program, "--listen", "unix:" + sock], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=BASE_ENV)
    try:
        while not os.path.exists(sock):
            assert proc.poll() is None, proc.stderr.read()
        os.rename(program, program + ".old")  # as dpkg does: the new file under the name, the old one gone
        shutil.copy(HVTERMD, program)
        os.unlink(program + ".old")
        for args in (["-t", "--", "echo", "pty-session"], ["--", "echo", "pipes-session"]):
            r = subprocess.run([HVTERM, "exec", "unix:" + sock, *args], capture_output=True, env=BASE_ENV,
                               timeout=TIMEOUT)
            assert r.returncode == 0, r.stderr
            assert args[-1].encode() in r.stdout
    finally:
        code, err = stop(proc)
    assert code == 0, err
