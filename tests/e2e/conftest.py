"""Shared fixtures for the end-to-end tests: real hvtermd and hvterm binaries over Unix sockets,
driven through real PTYs (pexpect) the way a person at a keyboard would."""
import hashlib
import os
import re
import signal
import subprocess
import tempfile
import time

import pexpect
import pytest

BIN = os.environ.get("HVTERM_BIN_DIR", os.path.join(os.path.dirname(__file__), "..", "..", "build"))
HVTERM = os.path.abspath(os.path.join(BIN, "hvterm"))
HVTERMD = os.path.abspath(os.path.join(BIN, "hvtermd"))
SANITIZED = os.environ.get("HVTERM_SANITIZED") == "1"
# The version the binaries must report: the project's, as CMakeLists.txt declares it.
with open(os.path.join(os.path.dirname(__file__), "..", "..", "CMakeLists.txt")) as _f:
    VERSION = re.search(r"project\(hvterm VERSION (\S+)", _f.read()).group(1)
TIMEOUT = 60  # generous: tests wait on events, never on the clock

# A predictable environment for every process we start: no user rc files, a known prompt.
BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/root" if os.geteuid() == 0 else os.environ.get("HOME", "/tmp"),
    "LANG": "C.UTF-8",
    "TERM": "xterm",
    # This machine's vsock belongs to its infrastructure: hvterm and hvtermd must never touch it here.
    "HVTERM_NO_VSOCK": "1",
    # Nor any libvirt of this machine: VM names are looked up in libvirt's built-in test driver.
    "LIBVIRT_DEFAULT_URI": "test:///default",
}
if "ASAN_OPTIONS" in os.environ:
    BASE_ENV["ASAN_OPTIONS"] = os.environ["ASAN_OPTIONS"]
if "UBSAN_OPTIONS" in os.environ:
    BASE_ENV["UBSAN_OPTIONS"] = os.environ["UBSAN_OPTIONS"]

PROMPT = "PROMPT>"
SHELL = ["--", "/bin/bash", "--norc", "--noprofile"]
SHELL_ENV = ["--env", "PS1=" + PROMPT, "--env", "PROMPT_COMMAND="]


class Agent:
    def __init__(self, directory, extra_args=(), env=None):
        self.dir = directory
        self.sock = os.path.join(directory, "agent.sock")
        self.target = "unix:" + self.sock
        self.log_path = os.path.join(directory, "agent.log")
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [HVTERMD, "--listen", self.target, "--log-level", "debug", *extra_args],
            stdout=self.log, stderr=subprocess.STDOUT, env=BASE_ENV if env is None else env, cwd=directory)
        wait_for(lambda: os.path.exists(self.sock) or self.proc.poll() is not None, "agent socket")
        assert self.proc.poll() is None, self.read_log()

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def children(self):
        """Direct children of the agent (sessions' processes) as (pid, command name), from /proc."""
        out = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/stat") as f:
                    stat = f.read()
                name = stat[stat.index("(") + 1:stat.rindex(")")]
                fields = stat[stat.rindex(")") + 1:].split()
                if int(fields[1]) == self.proc.pid:
                    out.append((int(pid), name))
            except (OSError, ValueError):
                pass
        return out

    def fd_count(self):
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("agent did not exit on SIGTERM\n" + self.read_log())
        self.log.close()


# What a terminal acts on rather than shows: CSI sequences and the keypad's ESC = / ESC >.
TERMINAL_CONTROLS = re.compile(rb"\x1b\[[0-9;?>]*[ -/]*[@-~]|\x1b[=>]")


def shown_text(transcript):
    """A transcript's text as its lines read on a terminal, without the control sequences."""
    return TERMINAL_CONTROLS.sub(b"", transcript).decode(errors="replace")


def numbers_shown(transcript):
    """The lines of a transcript that are a whole number, in the order a terminal showed them."""
    return [int(line.strip()) for line in shown_text(transcript).split("\n") if line.strip().isdigit()]


def until_detach(transcript, notice=b"hvterm: detached"):
    """What a client showed of a session before it detached: its whole lines (one it was in the
    middle of comes again, complete, with the next attach). The notice has a line of its own."""
    head = transcript[:transcript.index(notice)]
    head = head[:-2] if head.endswith(b"\r\n") else head
    return head[:head.rindex(b"\r\n") + 2]


def sha256_of(path):
    """A file's SHA-256 in hex, read 1 MiB at a time."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def wait_for(predicate, what, timeout=TIMEOUT, interval=0.01):
    """Poll for a condition that has no event to wait on (a file appearing, a process exiting)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError("timed out waiting for " + what)


@pytest.fixture
def workdir():
    with tempfile.TemporaryDirectory(prefix="hvterm-e2e-") as d:
        yield d


@pytest.fixture
def agent(workdir):
    a = Agent(workdir)
    yield a
    a.stop()
    assert a.proc.returncode == 0, a.read_log()
    assert "ERROR" not in a.read_log() and "runtime error" not in a.read_log(), a.read_log()


def hvterm(*args, input=None, timeout=TIMEOUT, env=None, check=None):
    """Run hvterm to completion; returns CompletedProcess with bytes stdout/stderr."""
    proc = subprocess.run([HVTERM, *args], input=input, capture_output=True, timeout=timeout,
                          env=env or BASE_ENV)
    if check is not None:
        assert proc.returncode == check, (proc.returncode, proc.stderr)
    return proc


def spawn_shell(target, *extra, rows=24, cols=80, env=None, command=None):
    """hvterm shell TARGET on a fresh PTY, with a bash that shows PROMPT>."""
    args = ["shell", target, *SHELL_ENV, *extra, *(command or SHELL)]
    child = pexpect.spawn(HVTERM, args, env=env or BASE_ENV, dimensions=(rows, cols), timeout=TIMEOUT)
    return child
