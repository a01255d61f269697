"""Sessions as another user (`-u USER`, root agent): a login's environment rather than root's, and
the working directory entered as that user. Tests run as root and use `nobody`."""
import os
import re
import pwd
import subprocess
import tempfile

import pytest

from conftest import BASE_ENV, HVTERMD, TIMEOUT, hvterm, wait_for

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: sessions as another user")

NOBODY = pwd.getpwnam("nobody")


@pytest.fixture
def root_agent(workdir):
    """A root agent whose own environment holds what a user session must not inherit: a PATH led by
    a directory only root may search, and a variable of its own."""
    root_only = os.path.join(workdir, "root-bin")
    os.mkdir(root_only, 0o700)
    env = dict(BASE_ENV, PATH=root_only + ":/usr/local/bin:/usr/bin:/bin", AGENT_SECRET="root's",
               LANG="C.UTF-8", LC_TIME="C", TZ="UTC")
    sock = os.path.join(workdir, "agent.sock")
    log = open(os.path.join(workdir, "agent.log"), "wb")
    proc = subprocess.Popen([HVTERMD, "--listen", "unix:" + sock], stdout=log, stderr=subprocess.STDOUT, env=env)
    wait_for(lambda: os.path.exists(sock) or proc.poll() is not None, "agent socket")
    assert proc.poll() is None
    yield "unix:" + sock
    proc.terminate()
    proc.wait(timeout=TIMEOUT)
    log.close()


def environment(output, separator=b"\n"):
    return dict(line.split(b"=", 1) for line in output.split(separator) if line)


def test_a_user_session_gets_a_login_environment_not_roots(root_agent):
    r = hvterm("exec", "-u", "nobody", "--env", "EXTRA=given", root_agent, "--", "env")
    assert r.returncode == 0, r.stderr
    env = environment(r.stdout)
    # Where the program runs, from the agent (test_session_environment.py checks the values).
    assert re.fullmatch(rb"[0-9a-f]{32}", env.pop(b"HVTERM_SESSION")) and env.pop(b"HVTERM_CLIENT") == b"unix"
    assert env == {
        b"HOME": NOBODY.pw_dir.encode(),
        b"USER": b"nobody",
        b"LOGNAME": b"nobody",
        b"SHELL": NOBODY.pw_shell.encode(),
        b"PATH": b"/usr/local/bin:/usr/bin:/bin",
        b"LANG": b"C.UTF-8",  # the machine's locale and time zone, as pam_env gives a login
        b"LC_TIME": b"C",
        b"TZ": b"UTC",
        b"EXTRA": b"given",
    }


def test_a_user_session_on_a_pty_keeps_term_and_env_overrides(root_agent):
    r = hvterm("exec", "-t", "-u", "nobody", "--env", "PATH=/bin", "--env", "LANG=C", root_agent, "--", "env")
    assert r.returncode == 0, r.stderr
    env = environment(r.stdout, b"\r\n")
    assert env[b"TERM"] == BASE_ENV["TERM"].encode()
    assert env[b"PATH"] == b"/bin" and env[b"LANG"] == b"C"
    assert b"AGENT_SECRET" not in env and env[b"USER"] == b"nobody"


def test_a_user_session_runs_as_that_user(root_agent):
    r = hvterm("exec", "-u", "nobody", root_agent, "--", "id", "-u")
    assert r.returncode == 0 and r.stdout == b"%d\n" % NOBODY.pw_uid, r.stderr


def test_a_missing_command_is_127_even_with_a_root_only_directory_in_roots_path(root_agent):
    r = hvterm("exec", "-u", "nobody", root_agent, "--", "no-such-command-hvterm")
    assert r.returncode == 127, r.stderr
    assert r.stderr == b"hvtermd: no-such-command-hvterm: command not found\n"


def test_a_workdir_the_user_may_not_enter_is_refused(root_agent):
    with tempfile.TemporaryDirectory(prefix="hvterm-root-only-") as private:  # 0700, root's
        r = hvterm("exec", "-u", "nobody", "-w", private, root_agent, "--", "pwd")
        assert r.returncode == 126
        assert r.stdout == b""
        assert r.stderr == b"hvtermd: cannot change to directory %s: Permission denied\n" % private.encode()
        # root itself may: the check is the user's, not the agent's
        assert hvterm("exec", "-w", private, root_agent, "--", "pwd").stdout == private.encode() + b"\n"


def test_a_workdir_the_user_may_enter_is_used_and_a_missing_home_means_slash(root_agent):
    assert hvterm("exec", "-u", "nobody", "-w", "/tmp", root_agent, "--", "pwd").stdout == b"/tmp\n"
    assert not os.path.isdir(NOBODY.pw_dir)  # /nonexistent: like login(1), start in /
    assert hvterm("exec", "-u", "nobody", root_agent, "--", "pwd").stdout == b"/\n"
    r = hvterm("exec", "-u", "nobody", "-w", "/no/such/dir", root_agent, "--", "pwd")
    assert r.returncode == 126
    assert r.stderr == b"hvtermd: cannot change to directory /no/such/dir: No such file or directory\n"


def test_a_user_shell_on_a_pty_enters_the_workdir_as_the_user(root_agent):
    with tempfile.TemporaryDirectory(prefix="hvterm-root-only-") as private:
        r = hvterm("exec", "-t", "-u", "nobody", "-w", private, root_agent, "--", "pwd")
        assert r.returncode == 126
        assert r.stdout == b"hvtermd: cannot change to directory %s: Permission denied\r\n" % private.encode()


def test_a_user_session_owns_its_terminal(root_agent):
    """As after login or ssh: programs that open the terminal by name (screen, mesg) may."""
    r = hvterm("exec", "-t", "-u", "nobody", root_agent, "--", "sh", "-c", 'stat -c %u "$(tty)" && : < "$(tty)"')
    assert r.returncode == 0, r.stdout
    assert r.stdout == b"%d\r\n" % NOBODY.pw_uid


def test_an_agent_that_is_not_root_may_be_asked_for_its_own_user(workdir):
    """`-u` naming the agent's own user needs no switch (which only root could make)."""
    os.chmod(workdir, 0o755)
    theirs = os.path.join(workdir, "nobody")
    os.mkdir(theirs)
    os.chown(theirs, NOBODY.pw_uid, NOBODY.pw_gid)
    sock = os.path.join(theirs, "agent.sock")
    log = open(os.path.join(workdir, "nobody-agent.log"), "wb")

    def as_nobody():
        os.setgroups([])
        os.setgid(NOBODY.pw_gid)
        os.setuid(NOBODY.pw_uid)

    proc = subprocess.Popen([HVTERMD, "--listen", "unix:" + sock], stdout=log, stderr=subprocess.STDOUT,
                            env=BASE_ENV, cwd="/", preexec_fn=as_nobody)
    try:
        wait_for(lambda: os.path.exists(sock) or proc.poll() is not None, "agent socket")
        assert proc.poll() is None
        r = hvterm("exec", "-u", "nobody", "unix:" + sock, "--", "id", "-u")  # root may use any agent
        assert r.returncode == 0 and r.stdout == b"%d\n" % NOBODY.pw_uid, r.stderr
        r = hvterm("exec", "-u", "root", "unix:" + sock, "--", "id", "-u")
        assert r.returncode == 126
        assert r.stderr == b"hvterm: cannot run as root: the agent is not running as root\n"
    finally:
        proc.terminate()
        proc.wait(timeout=TIMEOUT)
        log.close()
