"""The `local` target: a per-user agent started on first use, private socket, peer check."""
import os
import signal
import stat
import subprocess
import threading

import pytest

from conftest import HVTERM, HVTERMD, BASE_ENV, TIMEOUT, Agent, hvterm, wait_for


def agents_serving(path):
    pids = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if ("unix:" + path).encode() in f.read():
                    pids.append(int(pid))
        except OSError:
            pass
    return pids


@pytest.fixture
def local_env(workdir):
    env = dict(BASE_ENV, XDG_RUNTIME_DIR=workdir, HVTERMD=HVTERMD)
    yield env
    sock = os.path.join(workdir, "hvterm", "agent.sock")
    for pid in agents_serving(sock):
        os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not agents_serving(sock), "local agent to exit")


def test_first_use_starts_the_agent_and_it_stays(local_env, workdir):
    r = hvterm("exec", "local", "--", "echo", "hi", env=local_env)
    assert r.returncode == 0 and r.stdout == b"hi\n", r.stderr
    sock = os.path.join(workdir, "hvterm", "agent.sock")
    assert len(agents_serving(sock)) == 1
    mode = os.stat(sock).st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.join(workdir, "hvterm")).st_mode) == 0o700
    # The second client finds the running agent: still exactly one.
    assert hvterm("exec", "local", "--", "true", env=local_env).returncode == 0
    assert len(agents_serving(sock)) == 1


def test_racing_clients_start_one_agent(local_env, workdir):
    results = []

    def run(i):
        r = subprocess.run([HVTERM, "exec", "local", "--", "echo", str(i)], capture_output=True, env=local_env,
                           timeout=TIMEOUT)
        results.append((i, r.returncode, r.stdout, r.stderr))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(rc == 0 and out == f"{i}\n".encode() for i, rc, out, _ in results), results
    assert len(agents_serving(os.path.join(workdir, "hvterm", "agent.sock"))) == 1


def test_without_xdg_runtime_dir_uses_a_private_tmp_directory(workdir):
    env = dict(BASE_ENV, TMPDIR=workdir, HVTERMD=HVTERMD)
    env.pop("XDG_RUNTIME_DIR", None)
    try:
        assert hvterm("exec", "local", "--", "true", env=env).returncode == 0
        base = os.path.join(workdir, f"hvterm-{os.geteuid()}")
        assert stat.S_IMODE(os.stat(base).st_mode) == 0o700
        assert os.path.exists(os.path.join(base, "hvterm", "agent.sock"))
    finally:
        for pid in agents_serving(os.path.join(workdir, f"hvterm-{os.geteuid()}", "hvterm", "agent.sock")):
            os.kill(pid, signal.SIGTERM)


def test_stale_socket_from_a_dead_agent_is_replaced(local_env, workdir):
    assert hvterm("exec", "local", "--", "true", env=local_env).returncode == 0
    sock = os.path.join(workdir, "hvterm", "agent.sock")
    (pid,) = agents_serving(sock)
    os.kill(pid, signal.SIGKILL)  # leaves the socket file behind
    wait_for(lambda: not agents_serving(sock), "agent to die")
    assert os.path.exists(sock)
    r = hvterm("exec", "local", "--", "echo", "again", env=local_env)
    assert r.returncode == 0 and r.stdout == b"again\n", r.stderr


def test_missing_agent_binary_is_a_clear_error(workdir):
    env = dict(BASE_ENV, XDG_RUNTIME_DIR=workdir, HVTERMD="/nonexistent/hvtermd")
    r = hvterm("exec", "local", "--", "true", env=env)
    assert r.returncode == 255
    assert r.stderr.count(b"\n") == 1 and b"agent" in r.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
def test_agent_refuses_other_users(workdir):
    os.chmod(workdir, 0o755)
    agent = Agent(workdir)
    try:
        os.chmod(agent.sock, 0o777)  # only the peer-credential check stands in the way now

        def as_nobody():
            os.setgid(65534)
            os.setuid(65534)

        r = subprocess.run([HVTERM, "exec", agent.target, "--", "true"], capture_output=True, env=BASE_ENV,
                           preexec_fn=as_nobody, timeout=TIMEOUT)
        assert r.returncode == 255
        wait_for(lambda: "refused connection from uid 65534" in agent.read_log(), "refusal in the log")
    finally:
        agent.stop()
