"""What the soak tests measure of the agent and how they report it. The tier reuses the end-to-end
tests' harness (tests/e2e): their conftest, loaded here as the module e2e_conftest (this folder has
no conftest of its own, so the two folders can also be collected in one pytest run), the relay and
the raw-protocol helpers."""
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time

E2E = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "e2e"))
sys.path.insert(0, E2E)
if "e2e_conftest" not in sys.modules:
    _spec = importlib.util.spec_from_file_location("e2e_conftest", os.path.join(E2E, "conftest.py"))
    sys.modules["e2e_conftest"] = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(sys.modules["e2e_conftest"])

# Re-exported for the tests; workdir is a fixture, found by pytest where a test module imports it.
from e2e_conftest import BASE_ENV, HVTERM, SANITIZED, TIMEOUT, Agent, hvterm, workdir  # noqa: E402,F401


def env_int(name, default):
    """A size the build sets for this tier (smaller under the sanitizers); the default otherwise."""
    return int(os.environ.get(name, default))


def agent_status(agent):
    """The agent's open fds, threads and resident memory (KiB, now and peak), from /proc."""
    fields = {}
    with open(f"/proc/{agent.proc.pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.split()[0] if value.split() else ""
    return {"fds": agent.fd_count(), "threads": int(fields["Threads"]),
            "rss_kib": int(fields["VmRSS"]), "peak_kib": int(fields["VmHWM"])}


def quiet_status(agent, timeout=5):
    """agent_status once the agent has closed what finished clients left (three equal fd counts in a
    row, 0.1 s apart), so a baseline does not count connections that are still going away."""
    readings = [agent_status(agent)]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not (len(readings) >= 3 and
                                                len({r["fds"] for r in readings[-3:]}) == 1):
        time.sleep(0.1)
        readings.append(agent_status(agent))
    return readings[-1]


def sessions(agent):
    r = hvterm("ls", agent.target, "--json", check=0)
    return json.loads(r.stdout)


def timed_exec(target, *command):
    """One `hvterm exec TARGET -- COMMAND`: (seconds, CompletedProcess)."""
    start = time.monotonic()
    r = subprocess.run([HVTERM, "exec", target, "--", *command], capture_output=True, timeout=TIMEOUT,
                       env=BASE_ENV)
    return time.monotonic() - start, r


def median_ms(seconds):
    return statistics.median(seconds) * 1000


def settle(agent, baseline, slack_fds, slack_rss_kib, timeout=10):
    """Wait (up to `timeout` s) for no sessions and the agent's fds, threads and (without ASan,
    whose quarantine holds freed memory on purpose) resident memory back at `baseline`, within the
    slack: (sessions left, status)."""
    deadline = time.monotonic() + timeout
    while True:
        left, now = sessions(agent), agent_status(agent)
        back = (not left and now["fds"] <= baseline["fds"] + slack_fds and now["threads"] <= baseline["threads"]
                and (SANITIZED or now["rss_kib"] <= baseline["rss_kib"] + slack_rss_kib))
        if back or time.monotonic() > deadline:
            return left, now
        time.sleep(0.2)


def report(line):
    """One line of the tier's summary; the soak tier shows test output even when a test passes."""
    print("soak: " + line, flush=True)


class Checks:
    """Every check of a test is evaluated and reported, so one run shows all that is wrong."""

    def __init__(self):
        self.failed = []

    def check(self, ok, what, detail=""):
        report(f"{'ok  ' if ok else 'FAIL'} {what}" + ("" if ok or not detail else f": {detail}"))
        if not ok:
            self.failed.append(f"{what}: {detail}" if detail else what)

    def verify(self):
        assert not self.failed, "\n".join(self.failed)
