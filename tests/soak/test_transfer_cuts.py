"""Many concurrent `hvterm exec -- cat` transfers through a relay that cuts connections at random:
every byte arrives once and in order, and every exit status and stderr line is right.

A cut can also land before the agent started a client's command (during the handshake, or with the
OPEN request still in the relay). The client then says so on one line and exits 255, and the
command must not have run: a command never runs twice, and never once unreported. Each command
leaves a marker file when it starts, which tells these cases from the transfers that must be exact."""
import hashlib
import os
import random
import subprocess
import threading
import time

from soak import (BASE_ENV, HVTERM, SANITIZED, Agent, Checks, agent_status, env_int, quiet_status, report, settle,
                  workdir)  # noqa: F401
from relay import Relay  # noqa: E402  (found through soak's path to tests/e2e)

CLIENTS = 64
MIB = env_int("HVTERM_SOAK_TRANSFER_MIB", 16)      # per client, each way
CUT_WINDOW = 60          # seconds during which the relay cuts connections
MEAN_CUT_GAP = 0.1       # seconds between cuts, on average: each client is cut several times
TRANSFER_SECONDS = 45    # the relay's rate spreads an uncut transfer over this long
DEADLINE = 300           # for everything; a transfer still running then is a failure
CHUNK = 1 << 20
SLACK_FDS = 2
SLACK_RSS_KIB = 4096    # a burst of many sessions leaves a few MiB in the allocator, reused by the next


def stream_of(base, client):
    """Client `client`'s input: the random block rotated by a per-client amount, so that bytes
    delivered to the wrong session show as a wrong hash."""
    split = (client * 1_000_003) % len(base)
    return (base[split:], base[:split])


def transfer(target, markers, client, base, results, procs):
    """One client's round trip; its outcome goes into results[client]."""
    size = len(base)
    parts = stream_of(base, client)
    expected = hashlib.sha256()
    for part in parts:
        expected.update(part)
    marker = os.path.join(markers, str(client))
    script = f"touch {marker}; cat; echo client {client} done >&2; exit {client % 100}"
    proc = subprocess.Popen([HVTERM, "exec", "-q", target, "--", "sh", "-c", script], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=BASE_ENV)
    procs.append(proc)
    stderr = []

    def feed():
        try:
            for part in parts:
                for at in range(0, len(part), CHUNK):
                    proc.stdin.write(part[at:at + CHUNK])
            proc.stdin.close()
        except (BrokenPipeError, ValueError):
            pass  # hvterm died: its exit status says why

    helpers = [threading.Thread(target=feed, daemon=True),
               threading.Thread(target=lambda: stderr.append(proc.stderr.read()), daemon=True)]
    for h in helpers:
        h.start()
    got, received = hashlib.sha256(), 0
    while chunk := proc.stdout.read1(CHUNK):
        got.update(chunk)
        received += len(chunk)
    for h in helpers:
        h.join()
    proc.wait()
    results[client] = {
        "marker": marker, "status": proc.returncode, "expected_status": client % 100,
        "bytes": received, "sha_ok": received == size and got.digest() == expected.digest(),
        "stderr": stderr[0], "expected_stderr": f"client {client} done\n".encode()}


def reported_not_started(r):
    """The outcome the README promises for a command the agent never started: exit 255, no output,
    a one-line reason; and the command indeed never ran."""
    return (not os.path.exists(r["marker"]) and r["status"] == 255 and r["bytes"] == 0
            and r["stderr"].count(b"\n") == 1)


def test_concurrent_transfers_survive_random_cuts(workdir):
    agent = Agent(workdir)
    relay = Relay(workdir, agent.sock)
    size = MIB << 20
    relay.rate = size / TRANSFER_SECONDS
    checks = Checks()
    results, procs = {}, []
    report(f"{CLIENTS} concurrent `exec -- cat` of {MIB} MiB each way through a relay at "
           f"{relay.rate / 1024:.0f} KiB/s per connection, one connection cut every {MEAN_CUT_GAP} s "
           f"on average for {CUT_WINDOW} s")
    try:
        baseline = quiet_status(agent)
        base = memoryview(random.Random(13).randbytes(size))
        start = time.monotonic()
        cutter = relay.cut_randomly(CUT_WINDOW, MEAN_CUT_GAP, seed=7)
        markers = os.path.join(workdir, "started")
        os.mkdir(markers)
        clients = [threading.Thread(target=transfer, args=(relay.target, markers, i, base, results, procs),
                                    daemon=True) for i in range(CLIENTS)]
        for c in clients:
            c.start()
        for c in clients:
            c.join(max(0.0, DEADLINE - (time.monotonic() - start)))
        elapsed = time.monotonic() - start
        cutter.join()
        during = agent_status(agent)
        unfinished = [i for i in range(CLIENTS) if i not in results]
        left, after = settle(agent, baseline, SLACK_FDS, SLACK_RSS_KIB) if not unfinished else ([], during)
        # Markers are looked at once the agent has settled: a command it started has touched its own.
        not_started = {i: r for i, r in results.items() if reported_not_started(r)}
        done = {i: r for i, r in results.items() if i not in not_started}
        report(f"{len(results)} of {CLIENTS} clients ended in {elapsed:.1f} s, {len(not_started)} of them reported "
               f"(exit 255) that a cut came before the agent started the command: "
               f"{sorted({r['stderr'].decode(errors='replace').strip()[:90] for r in not_started.values()})}")
        report(f"{relay.random_cuts} cuts, "
               f"{relay.connections} connections; agent RSS {baseline['rss_kib']} KiB before, peak "
               f"{during['peak_kib']} KiB, {after['rss_kib']} KiB after; fds {baseline['fds']} -> {after['fds']}")
        checks.check(not unfinished, f"every transfer ends within {DEADLINE} s", f"still running: {unfinished}")
        checks.check(len(not_started) <= CLIENTS // 4, "most commands start (at most 1 in 4 cut before they start)",
                     f"{len(not_started)} not started")
        wrong = lambda key, want: [i for i, r in done.items() if r[key] != r[want]]
        checks.check(not [i for i, r in done.items() if not r["sha_ok"]],
                     "every started command's bytes arrive once and in order",
                     f"clients {[(i, r['bytes']) for i, r in done.items() if not r['sha_ok']][:5]} (bytes received)")
        checks.check(not wrong("status", "expected_status"), "every started command's exit status right",
                     f"{[(i, done[i]['status']) for i in wrong('status', 'expected_status')][:5]}")
        checks.check(not wrong("stderr", "expected_stderr"),
                     "every started command's stderr right (no notices with -q)",
                     f"{[(i, done[i]['stderr'][-200:]) for i in wrong('stderr', 'expected_stderr')][:3]}")
        # Without cuts landing mid-transfer the checks above would prove little.
        checks.check(relay.random_cuts >= CUT_WINDOW / MEAN_CUT_GAP / 4 and relay.connections > 2 * CLIENTS,
                     "the relay cut connections while the transfers ran",
                     f"{relay.random_cuts} cuts, {relay.connections} connections")
        checks.check(not left, "no session left behind", f"{len(left)} left, e.g. {left[:2]}")
        if SANITIZED:
            report("(ASan: RSS not checked, its quarantine holds freed memory on purpose)")
        else:  # per session at most the replay buffer, the input window and a read block
            checks.check(during["peak_kib"] <= baseline["rss_kib"] + CLIENTS * 3 * 1024,
                         "agent peak RSS within 3 MiB per session", f"{during['peak_kib']} KiB")
            checks.check(after["rss_kib"] <= baseline["rss_kib"] + SLACK_RSS_KIB,
                         f"agent RSS back to the baseline + {SLACK_RSS_KIB} KiB", f"{after['rss_kib']} KiB")
        checks.check(after["fds"] <= baseline["fds"] + SLACK_FDS, f"agent fds back to the baseline + {SLACK_FDS}",
                     f"{baseline['fds']} -> {after['fds']}")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
        relay.close()
        agent.stop()
    checks.verify()
    assert agent.proc.returncode == 0, agent.read_log()[-4000:]
