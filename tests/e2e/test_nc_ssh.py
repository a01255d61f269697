"""A real OpenSSH server reached through `hvterm nc` as ssh's ProxyCommand: ssh, scp and rsync work
with nothing but the agent in between, and an scp survives the agent connection being cut under it
(ssh's own connection never notices). sshd runs on 127.0.0.1 with a throw-away config and keys."""
import filecmp
import os
import random
import shlex
import shutil
import socket
import subprocess

import pytest

from conftest import BASE_ENV, HVTERM, TIMEOUT, sha256_of, wait_for
from relay import Relay

MIB = 1 << 20
SSHD = "/usr/sbin/sshd"

pytestmark = pytest.mark.skipif(not (os.access(SSHD, os.X_OK) and shutil.which("ssh") and shutil.which("rsync")),
                                reason="needs openssh-server, openssh-client and rsync (tools/deps.sh test)")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def sshd(workdir):
    """sshd on 127.0.0.1:PORT accepting our throw-away key for the current user; stopped at the end."""
    keys = os.path.join(workdir, "keys")
    os.mkdir(keys, 0o700)
    for name in ("host", "client"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", os.path.join(keys, name)], check=True)
    authorized = os.path.join(keys, "authorized_keys")
    shutil.copy(os.path.join(keys, "client.pub"), authorized)
    port = free_port()
    config = os.path.join(workdir, "sshd_config")
    with open(config, "w") as f:
        f.write(f"""ListenAddress 127.0.0.1
Port {port}
HostKey {keys}/host
AuthorizedKeysFile {authorized}
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
PidFile none
Subsystem sftp internal-sftp
""")
    os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege separation directory
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", config], stdout=subprocess.DEVNULL,
                            stderr=open(os.path.join(workdir, "sshd.log"), "wb"))

    def listening():
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0
    wait_for(lambda: listening() or proc.poll() is not None, "sshd to listen")
    assert proc.poll() is None, open(os.path.join(workdir, "sshd.log")).read()
    yield {"port": port, "key": os.path.join(keys, "client")}
    proc.terminate()
    proc.wait(timeout=TIMEOUT)


def ssh_options(sshd, target):
    proxy = f"{shlex.quote(HVTERM)} nc -q {shlex.quote(target)} 127.0.0.1:{sshd['port']}"
    return ["-F", "/dev/null", "-i", sshd["key"], "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
            "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
            "-o", "ProxyCommand=" + proxy]


def run(args, **kwargs):
    return subprocess.run(args, capture_output=True, env=BASE_ENV, timeout=TIMEOUT * 5, **kwargs)


def random_file(path, size, seed):
    rng = random.Random(seed)
    with open(path, "wb") as f:
        for _ in range(size // MIB):
            f.write(rng.randbytes(MIB))


def test_ssh_runs_a_command_through_nc(agent, sshd):
    proc = run(["ssh", *ssh_options(sshd, agent.target), "vm", "echo", "through", "the", "agent;", "exit", "7"])
    assert proc.returncode == 7, proc.stderr
    assert proc.stdout == b"through the agent\n"


def test_scp_and_rsync_through_nc_are_exact(agent, sshd, workdir):
    source = os.path.join(workdir, "big.bin")
    random_file(source, 64 * MIB, seed=5)
    copied = os.path.join(workdir, "copied.bin")
    proc = run(["scp", "-q", *ssh_options(sshd, agent.target), source, f"vm:{copied}"])
    assert proc.returncode == 0, proc.stderr
    assert sha256_of(copied) == sha256_of(source)

    tree = os.path.join(workdir, "tree")
    rng = random.Random(6)
    for d in range(5):
        os.makedirs(os.path.join(tree, f"dir{d}", "sub"))
        for i in range(20):
            with open(os.path.join(tree, f"dir{d}", "sub" if i % 2 else "", f"f{i}"), "wb") as f:
                f.write(rng.randbytes(rng.randrange(0, 200_000)))
    os.symlink("dir0/f0", os.path.join(tree, "link"))
    mirror = os.path.join(workdir, "mirror")
    ssh_command = " ".join(shlex.quote(w) for w in ["ssh", *ssh_options(sshd, agent.target)])
    proc = run(["rsync", "-a", "-e", ssh_command, tree + "/", f"vm:{mirror}/"])
    assert proc.returncode == 0, proc.stderr
    comparison = filecmp.dircmp(tree, mirror)
    assert_same_tree(comparison)
    assert os.readlink(os.path.join(mirror, "link")) == "dir0/f0"


def assert_same_tree(comparison):
    assert not comparison.left_only and not comparison.right_only and not comparison.funny_files, comparison.report()
    _, mismatch, errors = filecmp.cmpfiles(comparison.left, comparison.right, comparison.common_files, shallow=False)
    assert not mismatch and not errors, (mismatch, errors)
    for sub in comparison.subdirs.values():
        assert_same_tree(sub)


def test_scp_survives_three_cuts_of_the_agent_connection(agent, sshd, workdir):
    source = os.path.join(workdir, "huge.bin")
    random_file(source, 256 * MIB, seed=7)
    relay = Relay(workdir, agent.sock)
    relay.cut_after(40 * MIB, 120 * MIB, 200 * MIB)
    copied = os.path.join(workdir, "huge-copy.bin")
    try:
        proc = run(["scp", "-q", *ssh_options(sshd, relay.target), source, f"vm:{copied}"])
        assert proc.returncode == 0, proc.stderr
        assert relay.cuts == 3
    finally:
        relay.close()
    assert sha256_of(copied) == sha256_of(source)
