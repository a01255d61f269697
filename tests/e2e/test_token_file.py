"""--token-file on both sides: a file others may read is refused as ssh refuses such a private key,
and a token written with CRLF line endings (Windows, some editors) is the same token."""
import os
import subprocess

import pytest

from conftest import BASE_ENV, HVTERM, HVTERMD, TIMEOUT, Agent, hvterm


def token_file(directory, name, text, mode=0o600):
    path = os.path.join(directory, name)
    with open(path, "wb") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def test_a_token_file_others_may_read_is_refused_by_agent_and_client(workdir):
    path = token_file(workdir, "token", b"s3cret\n", 0o644)
    r = subprocess.run([HVTERMD, "--listen", "unix:" + os.path.join(workdir, "a.sock"), "--token-file", path],
                       capture_output=True, timeout=TIMEOUT, env=BASE_ENV)
    assert r.returncode == 2
    assert r.stderr == b"hvtermd: token file %s is readable by others (mode 0644); chmod 600 it\n" % path.encode()
    r = hvterm("exec", "--token-file", path, "unix:" + os.path.join(workdir, "a.sock"), "--", "true")
    assert r.returncode == 2
    assert r.stderr.splitlines()[0] == b"hvterm: token file %s is readable by others (mode 0644); chmod 600 it" % (
        path.encode())
    os.chmod(path, 0o640)
    r = hvterm("ls", "--token-file", path, "unix:" + os.path.join(workdir, "a.sock"))
    assert r.returncode == 2 and b"(mode 0640); chmod 600 it" in r.stderr


def test_crlf_and_lf_token_files_hold_the_same_token(workdir):
    agent = Agent(workdir, ["--token-file", token_file(workdir, "agent-token", b"s3cret\r\n")])
    try:
        for text in (b"s3cret\n", b"s3cret\r\n", b"s3cret"):
            client = token_file(workdir, "client-token", text)
            r = hvterm("exec", "--token-file", client, agent.target, "--", "echo", "in")
            assert r.returncode == 0 and r.stdout == b"in\n", (text, r.stderr)
        r = hvterm("exec", "--token-file", token_file(workdir, "client-token", b"s3cret \n"), agent.target,
                   "--", "true")
        assert r.returncode == 255 and b"token" in r.stderr
    finally:
        agent.stop()


def test_an_empty_token_file_is_an_error_for_the_client_too(workdir):
    path = token_file(workdir, "token", b"\r\n")
    r = hvterm("exec", "--token-file", path, "unix:" + os.path.join(workdir, "a.sock"), "--", "true")
    assert r.returncode == 2
    assert r.stderr.splitlines()[0] == b"hvterm: token file %s is empty (the token is its first line)" % path.encode()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the file to another user")
def test_a_token_file_of_another_user_is_refused_by_a_root_agent(workdir):
    path = token_file(workdir, "token", b"s3cret\n")
    os.chown(path, 65534, 65534)  # nobody could change the token that guards root's sessions
    r = subprocess.run([HVTERMD, "--listen", "unix:" + os.path.join(workdir, "a.sock"), "--token-file", path],
                       capture_output=True, timeout=TIMEOUT, env=BASE_ENV)
    assert r.returncode == 2
    assert r.stderr == b"hvtermd: token file %s belongs to another user (uid 65534)\n" % path.encode()


def test_a_token_can_come_from_a_pipe(workdir):
    """hvterm exec --token-file <(pass show hvterm) ...: the token never touches a disk."""
    agent = Agent(workdir, ["--token-file", token_file(workdir, "agent-token", b"s3cret\n")])
    try:
        read_end, write_end = os.pipe()
        os.write(write_end, b"s3cret\n")
        os.close(write_end)
        r = subprocess.run([HVTERM, "exec", "--token-file", "/dev/fd/%d" % read_end, agent.target, "--", "echo", "in"],
                           capture_output=True, timeout=TIMEOUT, env=BASE_ENV, pass_fds=(read_end,))
        os.close(read_end)
        assert r.returncode == 0 and r.stdout == b"in\n", r.stderr
    finally:
        agent.stop()
