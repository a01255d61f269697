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


def test_a_command_cannot_forge_records_or_drive_the_terminal_of_whoever_reads_the_log(workdir):
    log = os.path.join(workdir, "hvtermd.log")
    agent = Agent(workdir, extra_args=("--log-file", log))
    forged = "2026-01-01T00:00:00.000Z hvtermd: error: forged record"
    try:
        r = hvterm("exec", agent.target, "--", "echo", "x\n" + forged, "\x1b]0;title\x07\x1b[2J\r\x7f")
        assert r.returncode == 0, r.stderr
    finally:
        agent.stop()
    with open(log, "rb") as f:
        text = f.read().decode()
    lines = text.splitlines()
    assert all(RECORD.match(line) for line in lines), lines
    assert not any(line.startswith("2026-01-01") for line in lines)
    assert "\x1b" not in text and "\r" not in text and "\x07" not in text and "\x7f" not in text
    started = [line for line in lines if " started: echo " in line]
    assert len(started) == 1
    assert started[0].endswith(r"started: echo x\n" + forged + r" \e]0;title\x07\e[2J\r\x7f")
    # The same records on stderr, where systemd's journal takes one line per record.
    assert agent.read_log() == ""


def test_records_on_stderr_are_escaped_too(agent):
    r = hvterm("exec", agent.target, "--", "echo", "one\ntwo")
    assert r.returncode == 0
    records = [line for line in agent.read_log().splitlines() if "started: echo" in line]
    assert records and records[0].endswith(r"started: echo one\ntwo")
