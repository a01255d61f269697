"""hvtermd --log-file: records in a file of their own (as a Windows service writes by default),
timestamped, and never inherited by the programs sessions run."""
import os
import re
import subprocess

from conftest import BASE_ENV, HVTERMD, TIMEOUT, Agent, hvterm

RECORD = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z hvtermd: (debug|info|warn|error): .")


def test_records_go_to_the_file_with_timestamps(workdir):
    log = os.path.join(workdir, "hvtermd.log")
    agent = Agent(workdir, extra_args=("--log-file", log))
    try:
        # The session's shell lists its open files: the log must not be among them (close-on-exec).
        r = hvterm("exec", agent.target, "--", "sh", "-c", "ls -l /proc/$$/fd/")
        assert r.returncode == 0, r.stderr
        assert b"hvtermd.log" not in r.stdout and b"/proc/" not in r.stderr
    finally:
        agent.stop()
    assert agent.proc.returncode == 0
    assert agent.read_log() == ""  # stderr stays empty
    assert os.stat(log).st_mode & 0o777 == 0o600  # records name peers and commands: the owner's only
    with open(log) as f:
        lines = f.read().splitlines()
    assert lines and all(RECORD.match(line) for line in lines), lines
    text = "\n".join(lines)
    assert "info: listening on " + agent.target in text
    assert re.search(r"info: session [0-9a-f]{8} started: sh -c", text), text
    assert "info: received SIGTERM, shutting down" in text


def test_a_log_file_that_cannot_be_opened_is_a_one_line_error(workdir):
    path = os.path.join(workdir, "missing", "hvtermd.log")
    r = subprocess.run([HVTERMD, "--listen", "unix:" + os.path.join(workdir, "a.sock"), "--log-file", path],
                       capture_output=True, timeout=TIMEOUT, env=BASE_ENV)
    assert r.returncode == 2
    assert r.stderr == ("hvtermd: cannot open log file %s: No such file or directory\n" % path).encode()
    assert not os.path.exists(os.path.join(workdir, "a.sock"))
