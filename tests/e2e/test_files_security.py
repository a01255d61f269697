"""Files a root agent or client opens by path, in a directory another user (here `nobody`) can write
to: a link, someone else's file or one anyone may write is refused with one line naming it, and the
file the link points at stays exactly as it was. Tests run as root, as the agent would."""
import os
import stat
import subprocess

import pytest

from conftest import BASE_ENV, HVTERM, HVTERMD, TIMEOUT, Agent, hvterm, wait_for

NOBODY = 65534
PRECIOUS = b"root's own data\n"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: the attack is on a root agent")


@pytest.fixture
def hostile(workdir):
    """A directory `nobody` owns and writes, as /tmp/x in the report."""
    d = os.path.join(workdir, "x")
    os.mkdir(d)
    os.chmod(d, 0o755)
    os.chown(d, NOBODY, NOBODY)
    return d


@pytest.fixture
def victim(workdir):
    path = os.path.join(workdir, "victim")
    with open(path, "wb") as f:
        f.write(PRECIOUS)
    os.chmod(path, 0o600)
    return path


def plant_symlink(target, link):
    os.symlink(target, link)
    os.lchown(link, NOBODY, NOBODY)


def unchanged(path, before=PRECIOUS):
    with open(path, "rb") as f:
        return f.read() == before


def run_agent(workdir, *args):
    return subprocess.run([HVTERMD, "--listen", "unix:" + os.path.join(workdir, "a.sock"), *args],
                          capture_output=True, timeout=TIMEOUT, env=BASE_ENV)


def test_a_log_file_that_is_a_symlink_is_refused(workdir, hostile, victim):
    log = os.path.join(hostile, "evil.log")
    plant_symlink(victim, log)
    r = run_agent(workdir, "--log-file", log)
    assert r.returncode == 2
    assert r.stderr == b"hvtermd: refusing log file %s: it is a symbolic link\n" % log.encode()
    assert unchanged(victim)


def test_a_dangling_symlink_does_not_create_its_target(workdir, hostile):
    log = os.path.join(hostile, "evil.log")
    target = os.path.join(workdir, "created-by-the-agent")
    plant_symlink(target, log)
    r = run_agent(workdir, "--log-file", log)
    assert r.returncode == 2 and b"it is a symbolic link" in r.stderr
    assert not os.path.lexists(target)


def test_a_full_log_whose_rotation_fails_does_not_truncate_through_a_symlink(workdir, hostile):
    """The report's second case: a link to a file past the 4 MiB limit, and FILE.1 in the way."""
    big = os.path.join(workdir, "big")
    content = b"x" * (4 * 1024 * 1024 + 1)
    with open(big, "wb") as f:
        f.write(content)
    log = os.path.join(hostile, "evil.log")
    plant_symlink(big, log)
    os.makedirs(os.path.join(hostile, "evil.log.1", "in-the-way"))
    r = run_agent(workdir, "--log-file", log)
    assert r.returncode == 2 and b"it is a symbolic link" in r.stderr
    assert unchanged(big, content)


def test_rotation_replaces_a_symlink_planted_at_file_1_instead_of_writing_through_it(workdir, hostile, victim):
    log = os.path.join(hostile, "agent.log")
    with open(log, "wb") as f:  # the agent's own log, already full: it is moved aside on start
        f.write(b"y" * (4 * 1024 * 1024) + b"\n")
    os.chmod(log, 0o600)
    plant_symlink(victim, log + ".1")
    agent = Agent(workdir, extra_args=("--log-file", log))
    agent.stop()
    assert agent.proc.returncode == 0
    assert unchanged(victim)
    assert stat.S_ISREG(os.lstat(log + ".1").st_mode) and os.path.getsize(log + ".1") > 4 * 1024 * 1024
    with open(log, "rb") as f:
        assert b"listening on" in f.read()


@pytest.mark.parametrize("prepare,reason", [
    (lambda path, victim: (open(path, "wb").close(), os.chown(path, NOBODY, NOBODY)),
     "it belongs to another user (uid 65534)"),
    (lambda path, victim: (open(path, "wb").close(), os.chmod(path, 0o666)),
     "it is writable by others (mode 0666)"),
    (lambda path, victim: os.link(victim, path), "it has 2 hard links"),
    (lambda path, victim: os.mkfifo(path, 0o600), "it is not a regular file"),  # and the open does not hang
])
def test_a_log_file_someone_else_prepared_is_refused(workdir, hostile, victim, prepare, reason):
    log = os.path.join(hostile, "evil.log")
    prepare(log, victim)
    r = run_agent(workdir, "--log-file", log)
    assert r.returncode == 2
    assert r.stderr == ("hvtermd: refusing log file %s: %s\n" % (log, reason)).encode()
    assert unchanged(victim)


def test_a_new_log_file_is_created_private_in_a_hostile_directory(workdir, hostile):
    log = os.path.join(hostile, "fresh.log")
    agent = Agent(workdir, extra_args=("--log-file", log))
    agent.stop()
    st = os.lstat(log)
    assert stat.S_ISREG(st.st_mode) and st.st_uid == 0 and st.st_mode & 0o777 == 0o600


def test_the_sockets_lock_file_is_not_created_through_a_symlink(workdir, hostile, victim):
    target = os.path.join(workdir, "created-by-the-agent")
    sock = os.path.join(hostile, "agent.sock")
    plant_symlink(target, sock + ".lock")
    r = subprocess.run([HVTERMD, "--listen", "unix:" + sock], capture_output=True, timeout=TIMEOUT, env=BASE_ENV)
    assert r.returncode == 1
    assert r.stderr == b"hvtermd: error: refusing lock file %s.lock: it is a symbolic link\n" % sock.encode()
    assert not os.path.lexists(target) and not os.path.exists(sock)
    os.unlink(sock + ".lock")
    plant_symlink(victim, sock + ".lock")
    r = subprocess.run([HVTERMD, "--listen", "unix:" + sock], capture_output=True, timeout=TIMEOUT, env=BASE_ENV)
    assert r.returncode != 0 and b"it is a symbolic link" in r.stderr
    assert unchanged(victim)


def test_an_agent_in_a_hostile_directory_creates_its_lock_and_socket_private(workdir, hostile):
    sock = os.path.join(hostile, "agent.sock")
    proc = subprocess.Popen([HVTERMD, "--listen", "unix:" + sock], stderr=subprocess.PIPE, env=BASE_ENV)
    try:
        wait_for(lambda: os.path.exists(sock) or proc.poll() is not None, "agent socket")
        assert proc.poll() is None
        assert os.lstat(sock).st_mode & 0o777 == 0o600 and stat.S_ISSOCK(os.lstat(sock).st_mode)
        lock = os.lstat(sock + ".lock")
        assert stat.S_ISREG(lock.st_mode) and lock.st_uid == 0 and lock.st_mode & 0o777 == 0o600
        assert hvterm("exec", "unix:" + sock, "--", "echo", "ok").stdout == b"ok\n"
    finally:
        proc.terminate()
        proc.wait(timeout=TIMEOUT)


def test_the_clients_transcript_is_not_written_through_a_symlink(agent, hostile, victim):
    transcript = os.path.join(hostile, "session.log")
    plant_symlink(victim, transcript)
    r = hvterm("exec", "--log", transcript, agent.target, "--", "echo", "secret output")
    assert r.returncode == 2
    assert r.stderr.splitlines()[0] == b"hvterm: refusing --log %s: it is a symbolic link" % transcript.encode()
    assert unchanged(victim)
    os.unlink(transcript)
    with open(transcript, "wb"):
        pass
    os.chown(transcript, NOBODY, NOBODY)  # nobody's file would receive root's session output
    r = hvterm("exec", "--log", transcript, agent.target, "--", "echo", "secret output")
    assert r.returncode == 2 and b"it belongs to another user (uid 65534)" in r.stderr
    assert os.path.getsize(transcript) == 0


def test_a_local_runtime_directory_planted_by_another_user_is_refused(workdir, hostile):
    """`local` without XDG_RUNTIME_DIR uses $TMPDIR/hvterm-UID: someone else's, or a link, is refused."""
    theirs = os.path.join(hostile, "theirs")
    os.mkdir(theirs)
    os.chown(theirs, NOBODY, NOBODY)
    env = dict(BASE_ENV, TMPDIR=hostile, HVTERMD="/nonexistent/hvtermd")
    plant_symlink(theirs, os.path.join(hostile, "hvterm-0"))
    r = hvterm("exec", "local", "--", "true", env=env)
    assert r.returncode == 255
    assert r.stderr == b"hvterm: cannot use the local agent: %s/hvterm-0 is not a directory\n" % hostile.encode()
    os.unlink(os.path.join(hostile, "hvterm-0"))
    os.rename(theirs, os.path.join(hostile, "hvterm-0"))
    r = hvterm("exec", "local", "--", "true", env=env)
    assert r.returncode == 255
    assert r.stderr == (b"hvterm: cannot use the local agent: %s/hvterm-0 belongs to another user (uid 65534)\n"
                        % hostile.encode())
    assert os.listdir(os.path.join(hostile, "hvterm-0")) == []


def test_a_transcript_may_go_to_the_processs_own_descriptors(agent):
    """--log >(gzip > t.gz) and --log /dev/stderr name links, but ones nobody else can plant."""
    read_end, write_end = os.pipe()
    r = subprocess.run([HVTERM, "exec", "--log", "/dev/fd/%d" % write_end, agent.target, "--", "echo", "logged"],
                       capture_output=True, timeout=TIMEOUT, env=BASE_ENV, pass_fds=(write_end,))
    os.close(write_end)
    with os.fdopen(read_end, "rb") as f:
        assert f.read() == b"logged\n"
    assert r.returncode == 0 and r.stdout == b"logged\n", r.stderr
    r = hvterm("exec", "--log", "/dev/stderr", agent.target, "--", "echo", "twice")
    assert r.returncode == 0 and r.stdout == b"twice\n" and r.stderr == b"twice\n"
