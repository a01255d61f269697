"""Many short `hvterm exec -- true` runs against one agent: every run succeeds, no session is left
behind, and the agent's fds, threads and memory come back to where they were."""
import collections
import concurrent.futures
import threading
import time

from soak import SANITIZED, Agent, Checks, env_int, quiet_status, report, settle, timed_exec, workdir  # noqa: F401

RUNS = env_int("HVTERM_SOAK_EXEC_RUNS", 10000)
WARM_UP = 200        # the runs before the baseline: pools, caches and libuv's threads exist by then
PARALLEL = 4
MAX_SESSIONS = 5     # one more than PARALLEL: a second session left behind makes runs fail
SLACK_FDS = 2
SLACK_RSS_KIB = 1024


def run_execs(agent, count):
    """`count` runs, PARALLEL at a time: how many failed, by exit status and first stderr line."""
    failures = collections.Counter()
    lock = threading.Lock()

    def one(_):
        _, r = timed_exec(agent.target, "true")
        if r.returncode != 0:
            first_line = (r.stderr.decode(errors="replace").strip().splitlines() or [""])[0]
            with lock:
                failures[(r.returncode, first_line)] += 1

    with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
        list(pool.map(one, range(count)))
    return failures


def test_exec_runs_leave_no_session_and_no_resource_behind(workdir):
    agent = Agent(workdir, ["--max-sessions", str(MAX_SESSIONS)])
    checks = Checks()
    try:
        report(f"{RUNS} x `exec -- true`, {PARALLEL} at a time, against hvtermd --max-sessions {MAX_SESSIONS}")
        start = time.monotonic()
        failures = run_execs(agent, WARM_UP)
        baseline = quiet_status(agent)
        failures += run_execs(agent, RUNS - WARM_UP)
        elapsed = time.monotonic() - start
        left, after = settle(agent, baseline, SLACK_FDS, SLACK_RSS_KIB)
        report(f"{RUNS} runs in {elapsed:.1f} s; agent after the first {WARM_UP} -> after all: "
               f"fds {baseline['fds']} -> {after['fds']}, threads {baseline['threads']} -> {after['threads']}, "
               f"RSS {baseline['rss_kib']} -> {after['rss_kib']} KiB (peak {after['peak_kib']} KiB)")
        for (code, message), n in failures.most_common():
            report(f"  {n} runs exited {code}: {message}")
        checks.check(not failures, "every run exits 0", f"{sum(failures.values())} of {RUNS} failed")
        checks.check(not left, "no session left behind", f"{len(left)} left, e.g. {left[:2]}")
        checks.check(after["fds"] <= baseline["fds"] + SLACK_FDS, f"agent fds back to the baseline + {SLACK_FDS}",
                     f"{baseline['fds']} -> {after['fds']}")
        checks.check(after["threads"] <= baseline["threads"], "agent threads back to the baseline",
                     f"{baseline['threads']} -> {after['threads']}")
        if SANITIZED:
            report("(ASan: RSS not checked, its quarantine holds freed memory on purpose)")
        else:
            checks.check(after["rss_kib"] <= baseline["rss_kib"] + SLACK_RSS_KIB,
                         f"agent RSS back to the baseline + {SLACK_RSS_KIB} KiB",
                         f"{baseline['rss_kib']} -> {after['rss_kib']} KiB")
    finally:
        agent.stop()
    checks.verify()
    assert agent.proc.returncode == 0, agent.read_log()[-4000:]
