#!/usr/bin/python3
"""hvterm benchmarks, side by side with socat, ssh and a plain pipe, measured in one run.

    python3 tests/bench/run.py [--quick] [--build DIR] [--output FILE]

Measures hvterm over a Unix-socket agent (target unix:PATH, and the `local` target through
XDG_RUNTIME_DIR + HVTERMD pointing at the built hvtermd) and, in the same run on the same machine:

  throughput   1 GiB round trip through `exec -- cat` and 1 GiB one-way output; baselines: socat
               relay over a Unix socket (-b 262144 on both ends, and default buffers), ssh to a
               throw-away sshd on 127.0.0.1, and a plain local pipe (the ceiling)
  latency      one byte typed into `hvterm shell` running a raw echo program on a PTY, timed at the
               driving PTY master (2000 samples); baselines: socat PTY relay, ssh -tt
  set-up       `exec -- true`, p50/p99 of 200 runs; baselines: socat one-shot EXEC:true, ssh true
  memory       agent RSS idle and with 100 detached idle sessions; client peak RSS during 1 GiB
  ports        `hvterm nc` to a TCP echo server on 127.0.0.1, 1 GiB round trip;
               baselines: a tuned socat relay chain over a Unix socket to the same port, `ssh -W`;
               `hvterm forward -L` to the same server: a new connection's set-up (first echo, p50 of
               200) beside a socat one-shot relay (TCP-LISTEN,fork), and a fresh agent's RSS with 100
               forwarded connections open
  ansible      a 50-task playbook (command, shell, copy, stat, file, ping) over the hvterm connection
               plugin (contrib/ansible) and over Ansible's ssh connection to the throw-away sshd, one run
               each with each plugin's defaults (hvterm: pipelining; ssh: ControlPersist, no
               pipelining), over ssh with pipelining too, and with Ansible's local connection: the
               floor, what the same tasks cost with no transport at all
  cp           `hvterm cp` of one file (1 GiB of random bytes; --quick: --size) and of 10,000 files of
               1 KiB with -r (--quick: 2,000), into the agent's side and out of it; baselines: `tar c |
               hvterm exec -- tar x` (and `hvterm exec -- tar c | tar x`), scp (-r) to the throw-away
               sshd; fails the run when the copying agent's peak RSS rises over its idle RSS by more than
               its replay buffer (1 MiB) plus a constant (CP_RSS_CONSTANT)

It prints one Markdown table and writes it (with the raw samples) to --output. Everything it
starts it stops, on success, failure or Ctrl-C. Only 127.0.0.1 and Unix sockets are used.
"""

import argparse
import datetime
import errno
import fcntl
import hashlib
import json
import os
import platform
import pty
import random
import re
import select
import shlex
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import tty

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
MB = 1_000_000
MiB = 1 << 20
GiB = 1 << 30
BLOCK = 256 * 1024  # producer block size (dd bs=256K); `head -c` writes 4 KiB at a time and would be the bottleneck

# A marker in the environment of every process the runner starts (directly or through an agent/sshd),
# so a final sweep can find and stop, by pid, anything that outlived its parent.
TOKEN = "%d.%d" % (os.getpid(), int(time.time()))
MARK = "HVBENCH_RUN=" + TOKEN


class BenchError(Exception):
    pass


def log(msg):
    print("[bench] " + msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------------
# process bookkeeping: every long-lived process is started in its own session and registered here


class Procs:
    def __init__(self):
        self.items = []  # (name, Popen), stopped in reverse order

    def start(self, name, argv, **kw):
        kw.setdefault("start_new_session", True)
        try:
            p = subprocess.Popen(argv, **kw)
        except FileNotFoundError as e:
            raise BenchError("cannot run %s: %s" % (argv[0], e))
        self.items.append((name, p))
        return p

    def stop(self, p, sig=signal.SIGTERM, grace=3.0):
        """Stop one process we started (its own process group, by id)."""
        if p.poll() is None:
            try:
                os.killpg(p.pid, sig)
            except ProcessLookupError:
                pass
            except PermissionError:
                p.send_signal(sig)
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    p.kill()
                p.wait(5)
        self.items = [(n, q) for (n, q) in self.items if q is not p]

    def stop_all(self):
        for name, p in reversed(list(self.items)):
            try:
                self.stop(p)
            except Exception as e:  # keep cleaning up
                log("could not stop %s (pid %d): %s" % (name, p.pid, e))
        self.items = []


PROCS = Procs()


def marked_pids():
    """Pids of processes carrying this run's marker in their environment (not ourselves)."""
    found = []
    me = os.getpid()
    needle = MARK.encode() + b"\0"
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == me:
            continue
        try:
            with open("/proc/%s/environ" % d, "rb") as f:
                env = f.read() + b"\0"
        except OSError:
            continue
        if b"\0" + needle in b"\0" + env:
            found.append(int(d))
    return found


def sweep(quiet=False):
    """Last resort: stop, by pid, whatever this run started that is still alive."""
    left = marked_pids()
    if not left:
        return 0
    if not quiet:
        log("stopping %d leftover process(es): %s" % (len(left), " ".join(map(str, left))))
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in left:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            left = [p for p in left if os.path.exists("/proc/%d" % p) and not is_zombie(p)]
            if not left:
                return 0
            time.sleep(0.05)
    return len(left)


def is_zombie(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def kb_fields(path):
    """The "Name: N kB" lines of a /proc file, in bytes."""
    out = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.partition(":")
            v = v.strip()
            if v.endswith(" kB"):
                out[k] = int(v[:-3]) * 1024
    return out


def smaps_rollup(pid):
    """Pss and Pss_Anon etc. in bytes (shared library pages count once per process in RSS, shared in PSS)."""
    try:
        return kb_fields("/proc/%d/smaps_rollup" % pid)
    except OSError:
        return {}


def proc_status(pid):
    return kb_fields("/proc/%d/status" % pid)


def wait_for(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.01)
    raise BenchError("timed out waiting for " + what)


def pct(values, p):
    s = sorted(values)
    if not s:
        return float("nan")
    k = max(0, min(len(s) - 1, int(round(p / 100.0 * len(s) + 0.5)) - 1))  # nearest rank
    return s[k]


# ---------------------------------------------------------------------------------------------------------
# environment: tools, hvterm build, agents, socat servers, sshd


def need_tools(skip_ssh, only):
    missing = []
    tools = {"socat": "socat", "dd": "coreutils", "stty": "coreutils", "sh": "dash"}
    if not skip_ssh:
        tools.update({"ssh": "openssh-client", "ssh-keygen": "openssh-client"})
        if "ansible" in only:
            tools["ansible-playbook"] = "ansible-core"
        if "cp" in only:
            tools["scp"] = "openssh-client"
    if "cp" in only:
        tools.update({"tar": "tar", "bash": "bash"})
    for tool, pkg in tools.items():
        if shutil.which(tool) is None:
            missing.append((tool, pkg))
    if not skip_ssh and not find_sshd():
        missing.append(("sshd", "openssh-server"))
    if missing:
        pkgs = sorted({p for _, p in missing})
        hint = " (or pass --skip-ssh to leave out the ssh baselines)" if any(p.startswith("openssh") for p in pkgs) else ""
        raise BenchError("missing tool(s): %s -- install with: apt-get install -y %s%s" %
                         (", ".join(t for t, _ in missing), " ".join(pkgs), hint))


def find_sshd():
    for c in (shutil.which("sshd"), "/usr/sbin/sshd"):
        if c and os.access(c, os.X_OK):
            return c
    return None


def tool_version(argv, pattern):
    try:
        r = subprocess.run(argv, capture_output=True, text=True, timeout=5)
        m = re.search(pattern, r.stdout + r.stderr)
        return m.group(1) if m else "?"
    except Exception:
        return "?"


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Env:
    def __init__(self, args):
        self.args = args
        self.build = os.path.abspath(args.build)
        self.hvterm = os.path.join(self.build, "hvterm")
        self.hvtermd = os.path.join(self.build, "hvtermd")
        for b in (self.hvterm, self.hvtermd):
            if not os.access(b, os.X_OK):
                raise BenchError("%s not found; build first: cmake -S %s -B %s -G Ninja -DCMAKE_BUILD_TYPE="
                                 "RelWithDebInfo && cmake --build %s (or pass --build DIR)" %
                                 (b, REPO, self.build, self.build))
        self.tmp = tempfile.mkdtemp(prefix="hvbench-")
        os.chmod(self.tmp, 0o700)
        self.xdg = os.path.join(self.tmp, "xdg")
        os.mkdir(self.xdg, 0o700)
        self.env = dict(os.environ)
        self.env["XDG_RUNTIME_DIR"] = self.xdg
        self.env["HVTERMD"] = self.hvtermd
        self.env["HVBENCH_RUN"] = TOKEN
        self.env.pop("TMUX", None)
        os.environ["HVBENCH_RUN"] = TOKEN  # for everything else we spawn
        self.echo_script = os.path.join(self.tmp, "echo.sh")
        with open(self.echo_script, "w") as f:
            # A raw echo program on the PTY: every byte typed comes straight back. ISIG stays on so a
            # ^C ends it; 'R' says the terminal is set up.
            f.write("stty raw -echo isig\nprintf R\nexec env %s cat\n" % MARK)
        self.agent = None
        self.agent_sock = os.path.join(self.tmp, "agent.sock")
        self.local_agent_pid = None
        self.sshd = None
        self.ssh_base = None

    # ---- hvterm agents
    def start_agent(self, sock, name="hvtermd", *extra):
        errlog = open(os.path.join(self.tmp, name + ".log"), "ab")
        p = PROCS.start(name, [self.hvtermd, "--listen", "unix:" + sock, "--log-level", "warn", *extra],
                        stdin=subprocess.DEVNULL, stdout=errlog, stderr=errlog, env=self.env)
        errlog.close()
        wait_for(lambda: os.path.exists(sock) or p.poll() is not None, 10, "hvtermd to listen on " + sock)
        if p.poll() is not None:
            raise BenchError("hvtermd exited with %s; see %s" % (p.returncode, os.path.join(self.tmp, name + ".log")))
        r = subprocess.run([self.hvterm, "ping", "unix:" + sock, "--wait", "5"], env=self.env,
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
        if r.returncode != 0:
            raise BenchError("hvterm ping unix:%s failed: %s" % (sock, r.stderr.decode(errors="replace").strip()))
        return p

    def agent_pid(self, name):
        return (lambda: self.agent.pid) if name == "unix" else (lambda: self.local_agent_pid)

    def targets(self):
        return [("unix", "unix:" + self.agent_sock), ("local", "local")]

    def find_local_agent(self):
        """The local agent is started by hvterm itself (detached); find it by its socket path."""
        sock = "unix:" + os.path.join(self.xdg, "hvterm", "agent.sock")
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if sock.encode() in argv and os.path.basename(argv[0].decode(errors="replace")).startswith("hvtermd"):
                return int(d)
        return None

    def stop_local_agent(self):
        pid = self.local_agent_pid or self.find_local_agent()
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGTERM)
            wait_for(lambda: not os.path.exists("/proc/%d" % pid) or is_zombie(pid), 5, "the local agent to exit")
        except (ProcessLookupError, BenchError):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.local_agent_pid = None

    # ---- socat servers
    def socat_server(self, name, sock, *args):
        p = PROCS.start(name, ["socat"] + list(args[:-1]) + ["UNIX-LISTEN:%s,fork,unlink-early" % sock, args[-1]],
                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                        stderr=open(os.path.join(self.tmp, name + ".log"), "ab"))
        wait_for(lambda: os.path.exists(sock) or p.poll() is not None, 10, "socat to listen on " + sock)
        if p.poll() is not None:
            raise BenchError("socat server %s exited with %s" % (name, p.returncode))
        time.sleep(0.05)
        return p

    # ---- sshd
    def start_sshd(self):
        sshd = find_sshd()
        d = os.path.join(self.tmp, "ssh")
        os.mkdir(d, 0o700)
        hk, ck = os.path.join(d, "host_key"), os.path.join(d, "client_key")
        for k in (hk, ck):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", k], check=True,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        shutil.copy(ck + ".pub", os.path.join(d, "authorized_keys"))
        if os.geteuid() == 0 and not os.path.isdir("/run/sshd"):
            os.makedirs("/run/sshd", 0o755)  # sshd's privilege-separation directory (Debian makes it at boot)
        port = free_port()
        cfg = os.path.join(d, "sshd_config")
        with open(cfg, "w") as f:
            f.write("\n".join([
                "Port %d" % port, "ListenAddress 127.0.0.1", "HostKey " + hk,
                "AuthorizedKeysFile " + os.path.join(d, "authorized_keys"), "PubkeyAuthentication yes",
                "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no", "StrictModes no",
                "PidFile " + os.path.join(d, "sshd.pid"), "PermitRootLogin prohibit-password",
                "PrintMotd no", "PrintLastLog no", "UseDNS no", "MaxStartups 100", "MaxSessions 100",
                "AcceptEnv HVBENCH_RUN", "Subsystem sftp internal-sftp", ""]))
        errlog = open(os.path.join(d, "sshd.log"), "ab")
        self.sshd = PROCS.start("sshd", [sshd, "-D", "-e", "-f", cfg], stdin=subprocess.DEVNULL,
                                stdout=errlog, stderr=errlog)
        errlog.close()
        self.ssh_base = ["ssh", "-F", "/dev/null", "-i", ck, "-p", str(port), "-o", "StrictHostKeyChecking=no",
                         "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
                         "-o", "SendEnv=HVBENCH_RUN", "-o", "ControlMaster=no", "-o", "ControlPath=none",
                         "127.0.0.1"]
        deadline = time.monotonic() + 10
        while True:
            r = subprocess.run(self.ssh_base + ["true"], stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
            if r.returncode == 0:
                return
            if self.sshd.poll() is not None or time.monotonic() > deadline:
                with open(os.path.join(d, "sshd.log"), errors="replace") as f:
                    tail = f.read()[-600:]
                raise BenchError("cannot ssh to the local sshd on port %d: %s\n%s" %
                                 (port, r.stderr.decode(errors="replace").strip(), tail))
            time.sleep(0.1)

    def cleanup(self):
        self.stop_local_agent()
        PROCS.stop_all()
        left = sweep()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return left


# ---------------------------------------------------------------------------------------------------------
# throughput: producer (dd) -> command -> this process, which counts and discards


def producer(nbytes):
    return ["dd", "if=/dev/zero", "bs=%d" % BLOCK, "count=%d" % (nbytes // BLOCK), "status=none"]


def hwm(pid):
    try:
        return proc_status(pid).get("VmHWM", 0)
    except OSError:
        return 0


def cpu_ticks(pid):
    """utime + stime + cutime + cstime of a process (clock ticks): its own CPU and its reaped children's."""
    if not pid:
        return 0
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return sum(int(x) for x in fields[11:15])
    except (OSError, ValueError, IndexError):
        return 0


TICK = os.sysconf("SC_CLK_TCK")


F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
WIDE_PIPE = 1 << 20


def widen(fd):
    """Give a pipe 1 MiB of buffer (the default pipe-max-size), as hvterm does to a pipe that fills up."""
    try:
        fcntl.fcntl(fd, F_SETPIPE_SZ, WIDE_PIPE)
    except OSError as e:
        raise BenchError("cannot widen a pipe to 1 MiB (F_SETPIPE_SZ): %s" % e)


def run_transfer(env, argv, nbytes, feed, timeout, server=None, wide=False):
    """Time `dd | argv | count` (feed=True) or `argv | count` (feed=False: argv produces the bytes).
    Returns (seconds, peak RSS of argv's process in bytes polled from VmHWM while it runs, CPU seconds of
    argv's process plus what the server process `server()` and the children it reaped used meanwhile).
    wide=True gives the pipes between the processes 1 MiB buffers before any byte flows."""
    srv = server() if server else None
    srv0 = cpu_ticks(srv)
    t0 = time.perf_counter()
    prod = None
    pipes = []
    if wide:  # make the pipes here, so they are wide before either end starts
        for _ in range(2 if feed else 1):
            r, w = os.pipe()
            widen(w)
            pipes.append((r, w))
    if feed:
        prod = PROCS.start("producer", producer(nbytes), stdin=subprocess.DEVNULL,
                           stdout=pipes[1][1] if wide else subprocess.PIPE)
        if wide:
            os.close(pipes[1][1])
            prod.stdout = open(pipes[1][0], "rb", buffering=0)
    mid = PROCS.start(argv[0], argv, stdin=prod.stdout if prod else subprocess.DEVNULL,
                      stdout=pipes[0][1] if wide else subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    if wide:
        os.close(pipes[0][1])
        mid.stdout = open(pipes[0][0], "rb", buffering=0)
    if prod:
        prod.stdout.close()
    got = 0
    peak = 0
    next_poll = 0.0
    buf = bytearray(1 << 20)
    mv = memoryview(buf)
    out = mid.stdout
    fd = out.fileno()
    deadline = time.monotonic() + timeout
    try:
        with open(fd, "rb", buffering=0, closefd=False) as f:
            while True:
                now = time.monotonic()
                if now >= next_poll:  # VmHWM only grows: the last reading before exit is the peak
                    peak = max(peak, hwm(mid.pid))
                    next_poll = now + 0.02
                r, _, _ = select.select([fd], [], [], max(0.0, deadline - now))
                if not r:
                    raise BenchError("transfer through %s timed out after %.0f s (%d bytes)" % (argv[0], timeout, got))
                n = f.readinto(mv)
                if not n:
                    break
                got += n
        peak = max(peak, hwm(mid.pid))
        _, status, ru = os.wait4(mid.pid, 0)
        mid.returncode = os.waitstatus_to_exitcode(status)
        t1 = time.perf_counter()
        err = mid.stderr.read().decode(errors="replace").strip()
    finally:
        out.close()
        for p in (prod, mid):
            if p is not None:
                PROCS.stop(p)
    if mid.returncode != 0 or got != nbytes:
        raise BenchError("%s: exit %s, %d of %d bytes%s" % (" ".join(argv[:4]), mid.returncode, got, nbytes,
                                                           ("; " + err[-300:]) if err else ""))
    cpu = ru.ru_utime + ru.ru_stime
    if srv:
        time.sleep(0.1)  # let the server reap its per-connection children (socat/sshd fork one per client)
        cpu += (cpu_ticks(srv) - srv0) / TICK
    return t1 - t0, peak, cpu


def throughput_all(env, cases, nbytes, reps, timeout=300):
    """cases: {name: (argv, feed, server[, wide])}. Repetitions go round-robin over the cases, so a burst
    of load from elsewhere on the machine hits every tool alike; the median is reported."""
    res = {k: {"secs": [], "rss": 0, "cpu": []} for k in cases}
    for _ in range(reps):
        for k, (argv, feed, server, *wide) in cases.items():
            s, r, c = run_transfer(env, argv, nbytes, feed, timeout, server, bool(wide and wide[0]))
            res[k]["secs"].append(s)
            res[k]["rss"] = max(res[k]["rss"], r)
            res[k]["cpu"].append(c * GiB / nbytes)
    for v in res.values():
        v["all"] = [nbytes / s / MB for s in v["secs"]]
        v["mbps"] = statistics.median(v["all"])
        v["cpu_per_gib"] = statistics.median(v["cpu"])
    return res


# ---------------------------------------------------------------------------------------------------------
# keystroke latency: a PTY we drive like a keyboard; the client runs on its slave side


def spawn_on_pty(argv, env, raw=True):
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    if raw:
        tty.setraw(slave)

    def ctty():
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    p = PROCS.start(argv[0], argv, stdin=slave, stdout=slave, stderr=slave, env=env, preexec_fn=ctty, close_fds=True)
    return p, master, slave


def read_some(fd, timeout):
    r, _, _ = select.select([fd], [], [], timeout)
    if not r:
        return None
    try:
        return os.read(fd, 4096)
    except OSError as e:
        if e.errno == errno.EIO:
            return b""
        raise


class EchoSession:
    """A client on a PTY of ours, running the raw echo program at the other end."""

    def __init__(self, name, argv, env):
        self.name = name
        self.p, self.master, slave = spawn_on_pty(argv, env)
        os.close(slave)
        seen = b""
        deadline = time.monotonic() + 15
        while b"R" not in seen:
            chunk = read_some(self.master, max(0.0, deadline - time.monotonic()))
            if not chunk:
                self.close()
                raise BenchError("%s did not start the echo program (got %r; exit %s)" %
                                 (name, seen[-200:], self.p.poll()))
            seen += chunk

    def sample(self, n, key=b"a"):
        rtts = []
        for _ in range(n):
            t0 = time.perf_counter_ns()
            os.write(self.master, key)
            got = b""
            while not got:
                chunk = read_some(self.master, 5)
                if not chunk:
                    raise BenchError("%s: no echo within 5 s" % self.name)
                got += chunk
            t1 = time.perf_counter_ns()
            if got != key:
                raise BenchError("%s: echoed %r instead of %r" % (self.name, got, key))
            rtts.append((t1 - t0) / 1000.0)
        return rtts

    def close(self):
        if self.master is None:
            return
        try:
            os.write(self.master, b"\x03")  # ^C ends the echo program; the client then exits by itself
            deadline = time.monotonic() + 5
            while self.p.poll() is None and time.monotonic() < deadline:
                if read_some(self.master, 0.05) == b"":
                    break
            self.p.wait(max(0.1, deadline - time.monotonic()))
        except (OSError, subprocess.TimeoutExpired):
            pass
        PROCS.stop(self.p)
        os.close(self.master)
        self.master = None


def latency_all(env, cases, samples, block=100, warmup=100, block_warmup=10):
    """cases: {name: argv}. All sessions stay open; samples are taken in blocks, every round in a new
    random order: a fixed order made whichever tool came right after ssh (whose crypto evicts the
    caches) pay for it, which moved the p50s by ~5 % between tools. For the same reason the first
    few keystrokes of every block are typed but not recorded: a user typing into one session has
    no other tool running between keystrokes."""
    sessions = {}
    res = {k: [] for k in cases}
    rounds = {k: [] for k in cases}  # each round's samples, to tell a burst from outside from a steady tail
    order = random.Random(0x5eed)
    try:
        for k, argv in cases.items():
            sessions[k] = EchoSession(k, argv, env)
        for s in sessions.values():
            s.sample(warmup)
        while any(len(v) < samples for v in res.values()):
            names = list(sessions)
            order.shuffle(names)
            for k in names:
                s = sessions[k]
                s.sample(block_warmup)
                rounds[k].append(s.sample(min(block, samples - len(res[k]))))
                res[k] += rounds[k][-1]
    finally:
        for s in sessions.values():
            s.close()
    return {k: {"p50": pct(v, 50), "p99": pct(v, 99), "mean": statistics.mean(v), "all": v, "rounds": rounds[k]}
            for k, v in res.items()}


# ---------------------------------------------------------------------------------------------------------
# session set-up: wall time of a whole command that does nothing remotely


def setup_all(env, cases, runs, warmup=3):
    """cases: {name: (argv, every)}: the case runs in every `every`-th round (ssh is slow)."""
    times = {k: [] for k in cases}
    for i in range(-warmup, runs):
        for k, (argv, every) in cases.items():
            if i >= 0 and i % every:
                continue
            t0 = time.perf_counter()
            r = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, timeout=60)
            t1 = time.perf_counter()
            if r.returncode != 0:
                raise BenchError("%s exited with %d: %s" % (" ".join(argv), r.returncode,
                                                             r.stderr.decode(errors="replace").strip()[-300:]))
            if i >= 0:
                times[k].append((t1 - t0) * 1000.0)
    return {k: {"p50": pct(v, 50), "p99": pct(v, 99), "all": v} for k, v in times.items()}


# ---------------------------------------------------------------------------------------------------------
# memory: a fresh agent, idle, then with N detached sessions running `sleep`


def detached_sessions(e, target, count, sleep_arg):
    """`count` sessions of `sleep SLEEP_ARG`, each started by `hvterm shell` and detached by SIGTERM."""
    for i in range(count):
        p, master, slave = spawn_on_pty([e.hvterm, "shell", "-q", target, "--", "sleep", sleep_arg], e.env, raw=False)
        try:
            # Bound once hvterm has put our terminal in raw mode; then SIGTERM detaches it.
            wait_for(lambda: not (termios.tcgetattr(slave)[3] & termios.ICANON) or p.poll() is not None, 10,
                     "session %d to start" % i)
            if p.poll() is not None:
                raise BenchError("hvterm shell exited early with %s" % p.returncode)
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                raise BenchError("hvterm shell did not detach on SIGTERM")
        finally:
            PROCS.stop(p)
            os.close(master)
            os.close(slave)


def kill_sleepers(sleep_arg):
    """The `sleep SLEEP_ARG` processes still alive (the agent hangs them up when it stops: none)."""
    leftovers = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/cmdline" % d, "rb") as f:
                    if f.read().split(b"\0")[:2] == [b"sleep", sleep_arg.encode()]:
                        leftovers.append(int(d))
            except OSError:
                pass
    for pid in leftovers:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return leftovers


def memory(e, sessions):
    sock = os.path.join(e.tmp, "mem.sock")
    agent = e.start_agent(sock, "hvtermd-mem")
    target = "unix:" + sock
    time.sleep(0.3)
    idle = proc_status(agent.pid)
    idle.update(smaps_rollup(agent.pid))
    sleep_arg = "1000.%d" % (os.getpid() % 100000)
    t0 = time.perf_counter()
    detached_sessions(e, target, sessions, sleep_arg)
    create_s = time.perf_counter() - t0
    r = subprocess.run([e.hvterm, "ls", target, "--json"], env=e.env, capture_output=True, text=True, timeout=30)
    detached = r.stdout.count('"detached"')
    time.sleep(0.5)
    busy = proc_status(agent.pid)
    busy.update(smaps_rollup(agent.pid))
    PROCS.stop(agent)
    # The agent hangs up every session on SIGTERM: no `sleep` may survive it.
    leftovers = kill_sleepers(sleep_arg)
    return {"idle_rss": idle["VmRSS"], "busy_rss": busy["VmRSS"], "idle_anon": idle.get("RssAnon", 0),
            "idle_pss": idle.get("Pss", 0), "busy_anon": busy.get("RssAnon", 0), "sessions": sessions, "detached": detached,
            "per_session": (busy["VmRSS"] - idle["VmRSS"]) / sessions, "create_s": create_s,
            "survivors": len(leftovers)}


# Terminal sessions keep their screen in the agent (issue 17): a detached program runs on, and an
# attach gets the screen, however much was printed meanwhile. Beside tmux, measured the same way.

def time_until_shown(argv, env, text, timeout=120):
    """Seconds from starting `argv` on a PTY until `text` appears in what it writes there."""
    t0 = time.perf_counter()
    p, master, slave = spawn_on_pty(argv, env)
    os.close(slave)
    seen = b""
    try:
        deadline = time.monotonic() + timeout
        while text not in seen[-(len(text) + 65536):]:
            chunk = read_some(master, max(0.0, deadline - time.monotonic()))
            if not chunk:
                raise BenchError("%s: %r did not appear (exit %s; last output %r)" %
                                 (argv[0], text, p.poll(), seen[-200:]))
            seen += chunk
        return time.perf_counter() - t0, len(seen)
    finally:
        PROCS.stop(p)
        os.close(master)


def close_sessions(e, target):
    r = subprocess.run([e.hvterm, "ls", target, "--json"], env=e.env, capture_output=True, text=True, timeout=30)
    for s in json.loads(r.stdout or "[]"):
        subprocess.run([e.hvterm, "kill", target, s["id"], "--close"], env=e.env, capture_output=True, timeout=30)


def detach_by_sigterm(e, argv):
    """Start an interactive hvterm on a PTY and detach it with SIGTERM once it is bound."""
    p, master, slave = spawn_on_pty(argv, e.env, raw=False)
    try:
        wait_for(lambda: not (termios.tcgetattr(slave)[3] & termios.ICANON) or p.poll() is not None, 10,
                 "the session to start")
        p.send_signal(signal.SIGTERM)
        p.wait(10)
    finally:
        PROCS.stop(p)
        os.close(master)
        os.close(slave)


def screen_attach(e, lines, reps):
    """A program prints `lines` lines while nobody is attached: how long it takes, and how long an
    attach then takes until the last line is on the screen; hvterm and tmux."""
    target = "unix:" + e.agent_sock
    sock = os.path.join(e.tmp, "tmux.sock")
    out = {"lines": lines, "hvterm_run": [], "hvterm_attach": [], "hvterm_bytes": [], "tmux_run": [],
           "tmux_attach": [], "tmux_bytes": []}
    last = b"%d" % lines
    out["attached"] = []
    for rep in range(reps):
        # The same lines with a client attached that reads them as fast as it can (into a pipe).
        t0 = time.perf_counter()
        r = subprocess.run([e.hvterm, "exec", "-t", "-q", target, "--", "seq", "1", str(lines)], env=e.env,
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, timeout=600)
        if r.returncode != 0:
            raise BenchError("hvterm exec -t -- seq: exit %d" % r.returncode)
        out["attached"].append(time.perf_counter() - t0)
        mark = os.path.join(e.tmp, "screen-mark-%d" % rep)
        program = "seq 1 %d; touch %s; exec sleep 1000" % (lines, mark)
        t0 = time.perf_counter()
        detach_by_sigterm(e, [e.hvterm, "shell", "-q", target, "--", "sh", "-c", program])
        wait_for(lambda: os.path.exists(mark), 600, "seq to finish while detached")
        out["hvterm_run"].append(time.perf_counter() - t0)
        s, n = time_until_shown([e.hvterm, "attach", "-q", target], e.env, last)
        out["hvterm_attach"].append(s)
        out["hvterm_bytes"].append(n)
        close_sessions(e, target)
        if shutil.which("tmux") is None:
            continue
        mark = os.path.join(e.tmp, "tmux-mark-%d" % rep)
        program = "seq 1 %d; touch %s; exec sleep 1000" % (lines, mark)
        t0 = time.perf_counter()
        subprocess.run(["tmux", "-S", sock, "-f", "/dev/null", "new-session", "-d", "-x", "80", "-y", "24",
                        "sh", "-c", program], env=e.env, check=True, timeout=30)
        wait_for(lambda: os.path.exists(mark), 600, "seq to finish in detached tmux")
        out["tmux_run"].append(time.perf_counter() - t0)
        s, n = time_until_shown(["tmux", "-S", sock, "attach"], e.env, last)
        out["tmux_attach"].append(s)
        out["tmux_bytes"].append(n)
        subprocess.run(["tmux", "-S", sock, "kill-server"], env=e.env, capture_output=True, timeout=30)
    return out


def screen_memory(e, sessions):
    """Agent RSS per idle detached terminal session whose screen is full and whose scrollback holds
    10,000 lines of 80 columns."""
    sock = os.path.join(e.tmp, "screen-mem.sock")
    agent = e.start_agent(sock, "hvtermd-screen")
    target = "unix:" + sock
    time.sleep(0.3)
    idle = proc_status(agent.pid)
    sleep_arg = "1001.%d" % (os.getpid() % 100000)
    marks = []
    for i in range(sessions):
        mark = os.path.join(e.tmp, "screen-mem-%d" % i)
        marks.append(mark)
        program = "yes %s | head -n 20000; touch %s; exec sleep %s" % ("7" * 80, mark, sleep_arg)
        detach_by_sigterm(e, [e.hvterm, "shell", "-q", target, "--", "sh", "-c", program])
    wait_for(lambda: all(os.path.exists(m) for m in marks), 600, "every session to print its lines")
    time.sleep(0.5)
    busy = proc_status(agent.pid)
    PROCS.stop(agent)
    leftovers = kill_sleepers(sleep_arg)
    return {"sessions": sessions, "idle_rss": idle["VmRSS"], "busy_rss": busy["VmRSS"],
            "per_session": (busy["VmRSS"] - idle["VmRSS"]) / sessions, "survivors": len(leftovers)}


def concurrent_streams(e, target, count, total):
    """`count` round trips through `exec -- cat` at once, `total` bytes between them: aggregate MB/s
    and each stream's time (all start together)."""
    blocks = max(1, total // count // BLOCK)
    cmd = "dd if=/dev/zero bs=%d count=%d status=none | %s exec %s -- cat | cat > /dev/null" % (
        BLOCK, blocks, e.hvterm, target)
    t0 = time.perf_counter()
    procs = [PROCS.start("stream-%d" % i, ["sh", "-c", cmd], stdin=subprocess.DEVNULL, env=e.env)
             for i in range(count)]
    ends = {}

    def await_end(p):  # one waiter per stream: each end is timed when it happens
        p.wait()
        ends[p.pid] = time.perf_counter() - t0

    waiters = [threading.Thread(target=await_end, args=(p,)) for p in procs]
    for w in waiters:
        w.start()
    for w in waiters:
        w.join()
    failed = [p.returncode for p in procs if p.returncode != 0]
    if failed:
        raise BenchError("%d streams through exec -- cat failed (%s)" % (len(failed), failed[0]))
    wall = max(ends.values())
    return {"mbps": count * blocks * BLOCK / wall / MB, "fastest": min(ends.values()), "slowest": wall}


def scale(e, idle_sessions, runs):
    """Many streams through one agent, and an agent holding many idle sessions."""
    out = {"streams": {}}
    total = 256 * MiB
    for n in (1, 32, 64):
        out["streams"][n] = concurrent_streams(e, "unix:" + e.agent_sock, n, total)
    sock = os.path.join(e.tmp, "scale.sock")
    agent = e.start_agent(sock, "hvtermd-scale", "--max-sessions", str(idle_sessions + 16))
    target = "unix:" + sock

    def exec_true_p50():
        samples = []
        for _ in range(runs):
            t0 = time.perf_counter()
            subprocess.run([e.hvterm, "exec", target, "--", "true"], env=e.env, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=30, check=True)
            samples.append((time.perf_counter() - t0) * 1000)
        return statistics.median(samples)

    out["exec_none"] = exec_true_p50()
    sleep_arg = "2000.%d" % (os.getpid() % 100000)
    t0 = time.perf_counter()
    detached_sessions(e, target, idle_sessions, sleep_arg)
    out["create_s"] = time.perf_counter() - t0
    out["idle_sessions"] = idle_sessions
    time.sleep(0.5)
    out["rss"] = proc_status(agent.pid)["VmRSS"]
    out["exec_idle"] = exec_true_p50()
    ls_ms = []
    for _ in range(5):
        t0 = time.perf_counter()
        r = subprocess.run([e.hvterm, "ls", target], env=e.env, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=60)
        ls_ms.append((time.perf_counter() - t0) * 1000)
        if r.returncode != 0 or r.stdout.count(b"detached") != idle_sessions:
            raise BenchError("hvterm ls did not list the %d idle sessions" % idle_sessions)
    out["ls_ms"] = statistics.median(ls_ms)
    PROCS.stop(agent)
    kill_sleepers(sleep_arg)
    return out


def ports(e, nbytes, reps, skip_ssh):
    """A guest port through `hvterm nc`, beside a socat relay chain and ssh -W to the same TCP echo server."""
    port = free_port()
    # Not socat EXEC:cat: socat writes blocking, and with cat's pipes and the TCP buffers full both
    # ways it stops reading its connection (a deadlock past a few MiB in flight). One thread per
    # connection that reads and writes back as it goes never holds the stream back.
    server = ("import socket, threading\n"
              "l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
              "l.bind(('127.0.0.1', %d)); l.listen(16)\n"
              "def serve(c):\n"
              "    buf = bytearray(1 << 20)\n"
              "    while True:\n"
              "        n = c.recv_into(buf)\n"
              "        if not n: break\n"
              "        c.sendall(memoryview(buf)[:n])\n"
              "    c.shutdown(socket.SHUT_WR); c.close()\n"
              "while True:\n"
              "    c, _ = l.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()\n" % port)
    echo = PROCS.start("tcp-echo", [sys.executable, "-c", server], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=open(os.path.join(e.tmp, "tcp-echo.log"), "ab"))
    def listening():
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", port)) == 0
    wait_for(lambda: listening() or echo.poll() is not None, 10, "the echo server")
    chain = os.path.join(e.tmp, "chain.sock")
    pid = e.socat_server("socat-chain", chain, "-b262144", "TCP:127.0.0.1:%d" % port).pid
    log("ports: round trip through a guest port (%d x %s per tool)" % (reps, human(nbytes)))
    cases = {"hvterm nc": ([e.hvterm, "nc", "unix:" + e.agent_sock, "127.0.0.1:%d" % port], True, e.agent_pid("unix")),
             "socat chain": (["socat", "-b262144", "STDIO", "UNIX-CONNECT:" + chain], True, lambda: pid)}
    if not skip_ssh:
        cases["ssh -W"] = (e.ssh_base[:-1] + ["-W", "127.0.0.1:%d" % port, e.ssh_base[-1]], True, lambda: e.sshd.pid)
    out = throughput_all(e.env, cases, nbytes, reps)
    out["forward"] = forward_connections(e, port)
    PROCS.stop(echo)
    return out


def first_echo_ms(port):
    """Connect to 127.0.0.1:port, send a byte, time until it comes back (a new connection's set-up)."""
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=30) as c:
        c.sendall(b"x")
        if c.recv(1) != b"x":
            raise BenchError("no echo through 127.0.0.1:%d" % port)
        ms = (time.perf_counter() - t0) * 1000.0
    return ms


def forward_connections(e, echo_port, runs=200, concurrent=100):
    """`hvterm forward -L` to the echo server: a new connection's set-up (p50) beside a socat one-shot
    relay (a fork per connection), and a fresh agent's RSS with `concurrent` forwarded connections open."""
    sock = os.path.join(e.tmp, "fwd.sock")
    agent = e.start_agent(sock, "hvtermd-fwd", "--max-forwards", str(concurrent + 10))
    fwd = PROCS.start("hvterm-forward", [e.hvterm, "forward", "unix:" + sock, "-L", "0:%d" % echo_port],
                      env=e.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    line = fwd.stderr.readline().decode()
    m = re.match(r"hvterm: forwarding 127\.0\.0\.1:(\d+) ", line)
    if not m:
        raise BenchError("hvterm forward did not say where it listens: %r" % line)
    fport = int(m.group(1))
    sport = free_port()
    socat = PROCS.start("socat-oneshot", ["socat", "TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork" % sport,
                                          "TCP:127.0.0.1:%d" % echo_port],
                        env=e.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    def socat_listening():
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", sport)) == 0
    wait_for(lambda: socat_listening() or socat.poll() is not None, 10, "socat's listener")
    log("ports: set-up of a forwarded connection (%d each), then %d at once" % (runs, concurrent))
    times = {"hvterm forward -L": [], "socat one-shot relay": []}
    for i in range(-5, runs):  # interleaved, so both see the same machine
        for name, port in (("hvterm forward -L", fport), ("socat one-shot relay", sport)):
            ms = first_echo_ms(port)
            if i >= 0:
                times[name].append(ms)
    PROCS.stop(socat)
    wait_for(lambda: b"no sessions" in subprocess.run([e.hvterm, "ls", "unix:" + sock], env=e.env,
                                                       capture_output=True, timeout=30).stdout,
             30, "the forwarded sessions to be collected")
    idle = proc_status(agent.pid)["VmRSS"]
    conns = []
    for _ in range(concurrent):
        c = socket.create_connection(("127.0.0.1", fport), timeout=30)
        c.sendall(b"y")
        if c.recv(1) != b"y":
            raise BenchError("no echo through the forward")
        conns.append(c)
    busy = proc_status(agent.pid)["VmRSS"]
    for c in conns:
        c.close()
    PROCS.stop(fwd, sig=signal.SIGINT)
    PROCS.stop(agent)
    return {"setup": {k: {"p50": pct(v, 50), "p99": pct(v, 99), "all": v} for k, v in times.items()},
            "concurrent": concurrent, "idle_rss": idle, "busy_rss": busy}


def ansible_play(e, tasks=50):
    """Wall-clock seconds of the same playbook over hvterm and over ssh (Ansible's own defaults)."""
    d = os.path.join(e.tmp, "ansible")
    os.makedirs(os.path.join(d, "home"))
    ssh = e.ssh_base
    key, port = ssh[ssh.index("-i") + 1], ssh[ssh.index("-p") + 1]
    with open(os.path.join(d, "inventory.ini"), "w") as f:
        f.write("\n".join([
            "[hvterm]", "over-hvterm ansible_host=unix:%s ansible_connection=hvterm.hvterm.hvterm "
            "ansible_hvterm_path=%s" % (e.agent_sock, e.hvterm),
            "[local]", "no-transport ansible_connection=local",
            "[ssh]", "over-ssh ansible_host=127.0.0.1 ansible_port=%s ansible_user=%s "
            "ansible_ssh_private_key_file=%s ansible_ssh_common_args='-o StrictHostKeyChecking=no "
            "-o UserKnownHostsFile=/dev/null'" % (port, getpass_user(), key),
            "[all:vars]", "ansible_python_interpreter=/usr/bin/python3", "ansible_remote_tmp=%s/remote-tmp" % d, ""]))
    kinds = [
        "- command: /bin/true",
        "- shell: echo task {i} | tr a-z A-Z",
        "- copy:\n        content: \"task {i}\\n\"\n        dest: \"%s/out-{{{{ inventory_hostname }}}}-{i}\"" % d,
        "- stat:\n        path: /etc/hostname",
        "- file:\n        path: \"%s/dir-{{{{ inventory_hostname }}}}-{i}\"\n        state: directory" % d,
        "- ping:",
    ]
    body = "\n".join("    " + kinds[i % len(kinds)].format(i=i) for i in range(tasks))
    with open(os.path.join(d, "play.yml"), "w") as f:
        f.write("- hosts: all\n  gather_facts: false\n  tasks:\n" + body + "\n")
    env = dict(e.env, HOME=os.path.join(d, "home"), ANSIBLE_HOME=os.path.join(d, "home"),
               ANSIBLE_LOCAL_TEMP=os.path.join(d, "home", "tmp"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, "contrib", "ansible"), ANSIBLE_RETRY_FILES_ENABLED="0")
    out = {}
    for name, group, extra in (("hvterm", "hvterm", {}), ("local", "local", {}), ("ssh", "ssh", {}),
                               ("ssh pipelining", "ssh", {"ANSIBLE_PIPELINING": "1"})):
        t0 = time.perf_counter()
        r = subprocess.run(["ansible-playbook", "-i", os.path.join(d, "inventory.ini"), "-l", group,
                            os.path.join(d, "play.yml")], env=dict(env, **extra), capture_output=True, timeout=1800,
                           cwd=d)
        out[name] = time.perf_counter() - t0
        if r.returncode != 0 or "failed=0" not in r.stdout.decode(errors="replace"):
            raise BenchError("the playbook over %s failed:\n%s" % (group, (r.stdout + r.stderr).decode(errors="replace")[-2000:]))
    out["tasks"] = tasks
    return out


def getpass_user():
    import pwd
    return pwd.getpwuid(os.geteuid()).pw_name


# ---------------------------------------------------------------------------------------------------------
# hvterm cp (issue 15): one big file and a tree of small files, both ways, beside tar over `hvterm exec`
# and scp to the throw-away sshd; and the agent's peak RSS during the copies

# How far the cp agent's peak RSS (VmHWM) may rise over its idle RSS beyond its replay buffer (1 MiB):
# the copy's pieces (up to 256 KiB at a time) in flight, stream and socket buffers, what glibc keeps.
# Measured 2026-12-04 (RelWithDebInfo, 2 cores): a fresh agent rose by 1.9 MiB over three 1 GiB pushes
# and by 3.6 MiB once pulls followed (no further growth over 3 more), and by 4.1 MiB over a --quick run
# (256 MiB both ways and 2,000-file trees): so at most ~3.1 MiB beyond the replay buffer, flat in the
# file's size. 4 MiB leaves ~25 % headroom; buffering even a 256 MiB file whole would exceed it 50 times.
CP_RSS_CONSTANT = 4 * MiB


def file_digest(path):
    """(size, sha1) of a file, read 1 MiB at a time."""
    h = hashlib.sha1()
    size = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(MiB)
            if not b:
                break
            size += len(b)
            h.update(b)
    return size, h.hexdigest()


def tree_digest(root):
    """(files, bytes, sha1 over every relative name and content in sorted order) of a directory tree."""
    h = hashlib.sha1()
    files = size = 0
    for d, dirs, names in os.walk(root):
        dirs.sort()
        for n in sorted(names):
            p = os.path.join(d, n)
            with open(p, "rb") as f:
                b = f.read()
            files += 1
            size += len(b)
            h.update(os.path.relpath(p, root).encode() + b"\0" + b + b"\0")
    return files, size, h.hexdigest()


def make_tree(root, files, per_file=1024, per_dir=100):
    """`files` files of `per_file` random bytes, `per_dir` to a directory."""
    rnd = random.Random(0x15)
    for i in range(files):
        d = os.path.join(root, "d%03d" % (i // per_dir))
        if i % per_dir == 0:
            os.makedirs(d)
        with open(os.path.join(d, "f%05d" % i), "wb") as f:
            f.write(rnd.randbytes(per_file))


def fs_type(path):
    """The type of the file system `path` is on, from /proc/mounts (the longest mount point that holds it)."""
    best, kind = "", "?"
    try:
        with open("/proc/mounts") as f:
            for line in f:
                fields = line.split()
                mnt = fields[1]
                if (path == mnt or path.startswith(mnt.rstrip("/") + "/")) and len(mnt) > len(best):
                    best, kind = mnt, fields[2]
    except OSError:
        pass
    return kind


def cp_bench(e, nbytes, files, reps, skip_ssh, where=None):
    """Push and pull one file of `nbytes` and a tree of `files` 1 KiB files through `hvterm cp`, tar over
    `hvterm exec` and scp; every copy lands in an empty directory (in `where`, or the run's temporary
    directory) and is checked before it counts."""
    d = tempfile.mkdtemp(prefix="hvterm-bench-cp-", dir=where) if where else os.path.join(e.tmp, "cp")
    if not where:
        os.mkdir(d)
    # hvterm cp gets an agent of its own, so its VmHWM is what the copies cost it and nothing else
    sock = os.path.join(e.tmp, "cp.sock")
    agent = e.start_agent(sock, "hvtermd-cp")
    time.sleep(0.3)
    idle = proc_status(agent.pid)
    cp_t = ["--target", "unix:" + sock]
    ex_t = "unix:" + e.agent_sock
    hv, q = e.hvterm, shlex.quote
    scp = None
    if not skip_ssh:
        s = e.ssh_base
        scp = ["scp", "-q"] + [("-P" if a == "-p" else a) for a in s[1:-1]]
    src, dst = os.path.join(d, "src"), os.path.join(d, "dst")
    os.mkdir(src)
    log("cp: %s from /dev/urandom and %d files of 1 KiB in %s" % (human(nbytes), files, d))
    subprocess.run(["dd", "if=/dev/urandom", "of=" + os.path.join(src, "big"), "bs=%d" % BLOCK,
                    "count=%d" % (nbytes // BLOCK), "status=none"], check=True, stdin=subprocess.DEVNULL)
    want_file = file_digest(os.path.join(src, "big"))
    tree = os.path.join(src, "tree")
    os.mkdir(tree)
    make_tree(tree, files)
    want_tree = tree_digest(tree)
    # each case: (argv, what to check, source dir, destination dir); sources sit in src/, copies land in dst/
    big, tr = os.path.join(src, "big"), os.path.join(src, "tree")
    out_f, out_t = os.path.join(dst, "big"), os.path.join(dst, "tree")
    sh = lambda cmd: ["bash", "-c", "set -o pipefail; " + cmd]
    cases = {
        ("file", "push", "hvterm cp"): [hv, "cp", "-q"] + cp_t + [big, ":" + out_f],
        ("file", "push", "tar | exec tar x"): sh("tar c -C %s big | %s exec %s -- tar x -C %s" % (q(src), q(hv), q(ex_t), q(dst))),
        ("file", "pull", "hvterm cp"): [hv, "cp", "-q"] + cp_t + [":" + big, out_f],
        ("file", "pull", "exec tar c | tar x"): sh("%s exec %s -- tar c -C %s big | tar x -C %s" % (q(hv), q(ex_t), q(src), q(dst))),
        ("tree", "push", "hvterm cp"): [hv, "cp", "-q", "-r"] + cp_t + [tr, ":" + out_t],
        ("tree", "push", "tar | exec tar x"): sh("tar c -C %s tree | %s exec %s -- tar x -C %s" % (q(src), q(hv), q(ex_t), q(dst))),
        ("tree", "pull", "hvterm cp"): [hv, "cp", "-q", "-r"] + cp_t + [":" + tr, out_t],
        ("tree", "pull", "exec tar c | tar x"): sh("%s exec %s -- tar c -C %s tree | tar x -C %s" % (q(hv), q(ex_t), q(src), q(dst))),
    }
    if scp:
        host = e.ssh_base[-1]
        cases[("file", "push", "scp")] = scp + [big, "%s:%s" % (host, out_f)]
        cases[("file", "pull", "scp")] = scp + ["%s:%s" % (host, big), out_f]
        cases[("tree", "push", "scp -r")] = scp + ["-r", tr, "%s:%s" % (host, out_t)]
        cases[("tree", "pull", "scp -r")] = scp + ["-r", "%s:%s" % (host, tr), out_t]
    secs = {k: [] for k in cases}
    for rep in range(reps):
        log("cp: repetition %d of %d" % (rep + 1, reps))
        for k, argv in cases.items():  # round-robin over the tools, as throughput_all does
            os.mkdir(dst)
            t0 = time.perf_counter()
            r = subprocess.run(argv, env=e.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, timeout=900)
            t = time.perf_counter() - t0
            if r.returncode != 0:
                raise BenchError("cp %s: exit %d: %s" % ("/".join(k), r.returncode,
                                                         r.stderr.decode(errors="replace").strip()[-300:]))
            if k[0] == "file":
                got = file_digest(out_f) if os.path.isfile(out_f) else None
                if got != want_file:
                    raise BenchError("cp %s: the copy is not the source (size, sha1 %s, want %s)" % ("/".join(k), got, want_file))
            else:
                got = tree_digest(out_t) if os.path.isdir(out_t) else None
                if got != want_tree:
                    raise BenchError("cp %s: the tree copied is not the source (files, bytes, sha1 %s, want %s)" %
                                     ("/".join(k), got, want_tree))
            shutil.rmtree(dst)
            secs[k].append(t)
    peak = proc_status(agent.pid)
    PROCS.stop(agent)
    shutil.rmtree(d)
    out = {"file_bytes": nbytes, "files": files, "tree_bytes": want_tree[1], "reps": reps, "rows": {},
           "where": "%s (%s)" % (os.path.dirname(d), fs_type(os.path.dirname(d))),
           "idle_rss": idle["VmRSS"], "peak_rss": peak["VmHWM"], "replay": MiB, "constant": CP_RSS_CONSTANT}
    for (what, way, tool), v in secs.items():
        n = nbytes if what == "file" else want_tree[1]
        out["rows"].setdefault((what, way), {})[tool] = {"secs": statistics.median(v), "all": v,
                                                         "mbps": n / statistics.median(v) / MB}
    return out


# ---------------------------------------------------------------------------------------------------------
# the report


def fmt_mbps(x):
    return "%.0f" % x


def ratio(a, b):
    return a / b if b else float("nan")


def check(ok):
    return "✅" if ok else "❌"


def machine_line():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            mem = ", %.0f GiB RAM" % (int(f.readline().split()[1]) / (1 << 20))
    except (OSError, ValueError, IndexError):
        pass
    return "nproc %d, %s%s, Linux %s" % (os.cpu_count() or 0, cpu, mem, platform.release())


def cmake_cache(build, key):
    try:
        with open(os.path.join(build, "CMakeCache.txt")) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return None


def git_rev(build):
    """The git revision of the sources the build was made from (+ a note when they have local changes)."""
    src = cmake_cache(build, "CMAKE_HOME_DIRECTORY") or REPO

    def git(*a):
        return subprocess.run(["git", "-C", src] + list(a), capture_output=True, text=True, timeout=10).stdout.strip()

    try:
        rev = git("rev-parse", "--short", "HEAD")
        if not rev:
            return "? (build from %s, not a git checkout)" % src
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", "src", "platform", "CMakeLists.txt")
        return rev + (" + uncommitted changes in src/" if dirty else "")
    except Exception:
        return "?"


def build_type(build):
    return cmake_cache(build, "CMAKE_BUILD_TYPE") or "?"


def cpu_idle(seconds):
    """Share of the machine's CPU time that was idle over the next `seconds` (others' load skews results)."""
    def snap():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return v[3] + v[4], sum(v)
    try:
        i0, t0 = snap()
        time.sleep(seconds)
        i1, t1 = snap()
        return 100.0 * (i1 - i0) / max(1, t1 - t0)
    except (OSError, ValueError):
        return float("nan")


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="256 MiB, 1 repetition, fewer samples (under a minute)")
    ap.add_argument("--build", default=os.path.join(REPO, "build"), help="build directory with hvterm and hvtermd")
    ap.add_argument("--output", help="write the report here (default: BUILD/bench-results.md)")
    ap.add_argument("--size", help="bytes per transfer, e.g. 1G, 256M (default 1G, --quick 256M)")
    ap.add_argument("--reps", type=int, help="repetitions per transfer, median reported (default 5, --quick 1)")
    ap.add_argument("--samples", type=int, help="keystroke samples (default 2000)")
    ap.add_argument("--runs", type=int, help="exec set-up runs (default 200, --quick 50)")
    ap.add_argument("--sessions", type=int, help="idle sessions for the memory test (default 100)")
    ap.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                    help="first wait up to this long for the machine to be at least 80%% idle")
    ap.add_argument("--skip-ssh", action="store_true", help="leave out the ssh baselines")
    ap.add_argument("--files", type=int, help="1 KiB files in the cp tree (default 10000, --quick 2000)")
    ap.add_argument("--cp-dir", metavar="DIR",
                    help="where the cp rows make their files and copies (default: the run's temporary directory); "
                         "a tmpfs such as /dev/shm measures the tools rather than the disk")
    ap.add_argument("--screen-lines", type=int,
                    help="lines printed while detached before the attach is timed (default 10000000, --quick 1000000)")
    ap.add_argument("--only", default="throughput,latency,setup,memory,screen,scale,ansible,ports,cp",
                    help="comma-separated subset of: throughput,latency,setup,memory,screen,scale,ansible,ports,cp")
    args = ap.parse_args()

    def size_arg(s):
        m = re.fullmatch(r"(\d+)([KMG]?)i?B?", s.strip(), re.I)
        if not m:
            raise SystemExit("bad --size " + s)
        n = int(m.group(1)) * {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30}[m.group(2).upper()]
        return max(BLOCK, n // BLOCK * BLOCK)

    nbytes = size_arg(args.size) if args.size else (256 * MiB if args.quick else GiB)
    reps = args.reps or (1 if args.quick else 5)
    samples = args.samples or (1000 if args.quick else 2000)
    runs = args.runs or (50 if args.quick else 200)
    ssh_runs = 10 if args.quick else 30
    sessions = args.sessions or 100
    only = set(x.strip() for x in args.only.split(",") if x.strip())
    output = args.output or os.path.join(os.path.abspath(args.build), "bench-results.md")

    def on_signal(signum, _frame):
        raise KeyboardInterrupt("signal %d" % signum)

    for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, on_signal)

    started = time.perf_counter()
    e = None
    rc = 0
    try:
        need_tools(args.skip_ssh, only)
        e = Env(args)
        res = {}
        log("hvterm %s, %s of zeros x %d, %d keystrokes, %d set-ups; temp dir %s" %
            (git_rev(e.build), human(nbytes), reps, samples, runs, e.tmp))
        res["load_start"] = loadavg()
        res["idle_start"] = cpu_idle(1.0)
        deadline = time.monotonic() + args.wait_quiet
        while res["idle_start"] < 80 and time.monotonic() < deadline:
            log("machine busy (%.0f%% idle); waiting for it to quieten" % res["idle_start"])
            time.sleep(4)
            res["load_start"] = loadavg()
            res["idle_start"] = cpu_idle(1.0)
        e.agent = e.start_agent(e.agent_sock)
        # first use of `local` starts the per-user agent (that time is reported on its own)
        t0 = time.perf_counter()
        r = subprocess.run([e.hvterm, "exec", "local", "--", "true"], env=e.env, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=30)
        res["local_first"] = (time.perf_counter() - t0) * 1000
        if r.returncode != 0:
            raise BenchError("hvterm exec local -- true: %s" % r.stderr.decode(errors="replace").strip())
        e.local_agent_pid = e.find_local_agent()
        if not args.skip_ssh and only & {"throughput", "latency", "setup", "ansible", "ports", "cp"}:
            log("starting a throw-away sshd on 127.0.0.1")
            e.start_sshd()

        if "throughput" in only:
            relay = os.path.join(e.tmp, "relay.sock")
            relay_d = os.path.join(e.tmp, "relay-default.sock")
            src = os.path.join(e.tmp, "src.sock")
            prod = " ".join(producer(nbytes))
            srv = {}
            for key, name, sock, opts in (("relay", "socat-relay", relay, ["-b262144", "-t10", "EXEC:cat"]),
                                          ("relay_d", "socat-relay-default", relay_d, ["-t10", "EXEC:cat"]),
                                          ("src", "socat-src", src, ["-b262144", "-t10", "EXEC:" + prod])):
                pid = e.socat_server(name, sock, *opts).pid
                srv[key] = (lambda pid=pid: pid)
            log("throughput: round trip (%d x %s per tool)" % (reps, human(nbytes)))
            cases = {}
            for name, target in e.targets():
                cases["hvterm " + name] = ([e.hvterm, "exec", target, "--", "cat"], True, e.agent_pid(name))
            cases["socat -b262144"] = (["socat", "-b262144", "-t10", "STDIO", "UNIX-CONNECT:" + relay], True,
                                       srv["relay"])
            cases["socat default"] = (["socat", "-t10", "STDIO", "UNIX-CONNECT:" + relay_d], True, srv["relay_d"])
            if not args.skip_ssh:
                cases["ssh"] = (e.ssh_base + ["cat"], True, lambda: e.sshd.pid)
            cases["pipe"] = (["cat"], True, None)
            cases["pipe 1 MiB"] = (["cat"], True, None, True)
            res["rt"] = throughput_all(e.env, cases, nbytes, reps)
            log("throughput: one-way output")
            cases = {}
            for name, target in e.targets():
                cases["hvterm " + name] = ([e.hvterm, "exec", target, "--"] + producer(nbytes), False,
                                           e.agent_pid(name))
            cases["socat -b262144"] = (["socat", "-b262144", "-t10", "-u", "UNIX-CONNECT:" + src, "STDOUT"], False,
                                       srv["src"])
            if not args.skip_ssh:
                cases["ssh"] = (e.ssh_base + [prod], False, lambda: e.sshd.pid)
            cases["pipe"] = (producer(nbytes), False, None)
            cases["pipe 1 MiB"] = (producer(nbytes), False, None, True)
            res["ow"] = throughput_all(e.env, cases, nbytes, reps)
            res["agent_hwm"] = proc_status(e.agent.pid)["VmHWM"]

        if "ports" in only:
            res["ports"] = ports(e, nbytes, reps, args.skip_ssh)

        if "latency" in only:
            log("keystroke latency (%d samples per tool)" % samples)
            pty_relay = os.path.join(e.tmp, "pty.sock")
            e.socat_server("socat-pty", pty_relay, "EXEC:/bin/sh %s,pty,setsid,ctty,stderr" % e.echo_script)
            cases = {}
            for name, target in e.targets():
                cases["hvterm " + name] = [e.hvterm, "shell", "-q", "-e", "none", target, "--", "/bin/sh",
                                           e.echo_script]
            cases["socat"] = ["socat", "STDIO", "UNIX-CONNECT:" + pty_relay]
            if not args.skip_ssh:
                cases["ssh"] = e.ssh_base[:1] + ["-tt"] + e.ssh_base[1:] + ["/bin/sh " + e.echo_script]
            res["lat"] = latency_all(e.env, cases, samples)

        if "setup" in only:
            log("session set-up (%d runs per tool, ssh %d)" % (runs, ssh_runs))
            oneshot = os.path.join(e.tmp, "oneshot.sock")
            e.socat_server("socat-oneshot", oneshot, "EXEC:true")
            cases = {}
            for name, target in e.targets():
                cases["hvterm " + name] = ([e.hvterm, "exec", target, "--", "true"], 1)
            cases["socat"] = (["socat", "STDIO", "UNIX-CONNECT:" + oneshot], 1)
            if not args.skip_ssh:
                cases["ssh"] = (e.ssh_base + ["true"], max(1, runs // ssh_runs))
            res["setup"] = setup_all(e.env, cases, runs)

        if "memory" in only:
            log("memory: %d idle sessions" % sessions)
            res["mem"] = memory(e, sessions)
            res["replay"] = 0  # `sleep` prints nothing: no replay buffer in use

        if "screen" in only:
            lines = args.screen_lines or (1000000 if args.quick else 10000000)
            log("screen: %d lines printed while detached, then attach; hvterm and tmux" % lines)
            res["screen"] = screen_attach(e, lines, 1 if args.quick else 3)
            log("screen: %d idle sessions with a full screen and scrollback" % (sessions // 5))
            res["screen"]["mem"] = screen_memory(e, max(1, sessions // 5))

        if "scale" in only:
            log("scale: 1, 32 and 64 streams at once; an agent with %d idle sessions" % (sessions * 10))
            res["scale"] = scale(e, sessions * 10, 50 if args.quick else 100)

        if "ansible" in only and not args.skip_ssh:
            log("ansible: the same 50-task playbook over hvterm and over ssh")
            res["ansible"] = ansible_play(e)

        if "cp" in only:
            files = args.files or (2000 if args.quick else 10000)
            log("cp: %s and %d files of 1 KiB, both ways, %d repetition(s)" % (human(nbytes), files, reps))
            res["cp"] = cp_bench(e, nbytes, files, reps, args.skip_ssh, args.cp_dir)

        elapsed = time.perf_counter() - started
        report = render(e, res, nbytes, reps, samples, runs, ssh_runs, elapsed, args)
        print(report)
        os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
        with open(output, "w") as f:
            f.write(report + "\n" + raw_samples(res))
        log("report written to %s (%.0f s)" % (output, elapsed))
        if "cp" in res:
            grew, ok = cp_over(res["cp"])
            if not ok:
                log("FAIL: the cp agent's peak RSS rose %.0f KiB over idle, more than its replay buffer (%s) + %s" %
                    (grew / 1024, human(res["cp"]["replay"]), human(res["cp"]["constant"])))
                rc = 1
    except KeyboardInterrupt as ex:
        log("interrupted (%s); cleaning up" % (ex or "Ctrl-C"))
        rc = 130
    except BenchError as ex:
        log("error: %s" % ex)
        rc = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if e is not None:
            if e.cleanup():
                log("warning: some processes could not be stopped")
                rc = rc or 1
        else:
            PROCS.stop_all()
            sweep()
    return rc


def human(n):
    for unit, size in (("GiB", GiB), ("MiB", MiB), ("KiB", 1024)):
        if n >= size:
            return ("%.0f %s" if n % size == 0 else "%.1f %s") % (n / size, unit)
    return "%d B" % n


def best_pipe(d):
    """The ceiling: the faster of the plain pipe with the default 64 KiB buffer and with 1 MiB."""
    return max(v["mbps"] for k, v in d.items() if k.startswith("pipe"))


def render(e, res, nbytes, reps, samples, runs, ssh_runs, elapsed, args):
    rows = []
    add = rows.append
    hv = lambda d, fmt: " · ".join("%s: %s" % (k.split(" ", 1)[1], fmt(v)) for k, v in d.items() if k.startswith("hvterm"))
    if "rt" in res:
        rt = res["rt"]
        u = rt["hvterm unix"]["mbps"]
        base = " · ".join("%s: %s" % (k, fmt_mbps(v["mbps"])) for k, v in rt.items() if not k.startswith("hvterm"))
        r_s = ratio(u, rt["socat -b262144"]["mbps"])
        goal = ["%s ≥1.0× tuned socat (%.2f×)" % (check(r_s >= 1.0), r_s)]
        rat = ["%.2f× socat tuned" % r_s, "%.2f× socat default" % ratio(u, rt["socat default"]["mbps"])]
        if "ssh" in rt:
            r_h = ratio(u, rt["ssh"]["mbps"])
            goal.append("%s ≥2.5× ssh (%.1f×)" % (check(r_h >= 2.5), r_h))
            rat.append("%.1f× ssh" % r_h)
        rat.append("%.0f%% of best pipe" % (100 * ratio(u, best_pipe(rt))))
        add(("round trip `exec -- cat`, %s, MB/s" % human(nbytes), hv(rt, lambda v: fmt_mbps(v["mbps"])),
             base, " · ".join(rat), " ".join(goal)))
        cpu = lambda d: " · ".join("%s: %.2f" % (k, v["cpu_per_gib"]) for k, v in d.items() if not k.startswith("hvterm"))
        cu = rt["hvterm unix"]["cpu_per_gib"]
        add(("round trip CPU time per GiB (client + server + remote `cat`), s",
             hv(rt, lambda v: "%.2f" % v["cpu_per_gib"]), cpu(rt),
             "%.2f× socat tuned" % ratio(cu, rt["socat -b262144"]["cpu_per_gib"]) +
             (" · %.2f× ssh" % ratio(cu, rt["ssh"]["cpu_per_gib"]) if "ssh" in rt else ""), "—"))
        ow = res["ow"]
        u = ow["hvterm unix"]["mbps"]
        base = " · ".join("%s: %s" % (k, fmt_mbps(v["mbps"])) for k, v in ow.items() if not k.startswith("hvterm"))
        r_p = ratio(u, best_pipe(ow))
        rat = ["%.0f%% of best pipe" % (100 * r_p), "%.2f× socat" % ratio(u, ow["socat -b262144"]["mbps"])]
        if "ssh" in ow:
            rat.append("%.1f× ssh" % ratio(u, ow["ssh"]["mbps"]))
        add(("one-way output `exec -- dd`, %s, MB/s" % human(nbytes), hv(ow, lambda v: fmt_mbps(v["mbps"])), base,
             " · ".join(rat), "%s ≥60%% of best pipe (%.0f%%)" % (check(r_p >= 0.6), 100 * r_p)))
        cu = ow["hvterm unix"]["cpu_per_gib"]
        add(("one-way CPU time per GiB (client + server + remote `dd`), s",
             hv(ow, lambda v: "%.2f" % v["cpu_per_gib"]), cpu(ow),
             "%.2f× socat" % ratio(cu, ow["socat -b262144"]["cpu_per_gib"]) +
             (" · %.2f× ssh" % ratio(cu, ow["ssh"]["cpu_per_gib"]) if "ssh" in ow else ""), "—"))
    if "lat" in res:
        lat = res["lat"]
        u, s = lat["hvterm unix"], lat["socat"]
        base = " · ".join("%s: %.0f / %.0f" % (k, v["p50"], v["p99"]) for k, v in lat.items() if not k.startswith("hvterm"))
        r50 = ratio(u["p50"], s["p50"])
        rat = ["p50 %.2f× socat" % r50]
        if "ssh" in lat:
            rat.append("p50 %.2f× ssh" % ratio(u["p50"], lat["ssh"]["p50"]))
        rat.append("p99 = %.2f× own p50, %.2f× socat p50" % (ratio(u["p99"], u["p50"]), ratio(u["p99"], s["p50"])))
        goal = "%s p50 ≤1.0× socat (%.2f×) %s p99 ≤2× p50 (%.2f×)" % (check(r50 <= 1.0), r50,
                                                                     check(u["p99"] <= 2 * u["p50"]),
                                                                     ratio(u["p99"], u["p50"]))
        add(("keystroke round trip, p50 / p99 µs (%d samples)" % samples,
             hv(lat, lambda v: "%.0f / %.0f" % (v["p50"], v["p99"])), base, " · ".join(rat), goal))
    if "setup" in res:
        st = res["setup"]
        u, s = st["hvterm unix"], st["socat"]
        base = " · ".join("%s: %.1f / %.1f" % (k, v["p50"], v["p99"]) for k, v in st.items() if not k.startswith("hvterm"))
        r_s = ratio(u["p50"], s["p50"])
        rat = ["%.2f× socat" % r_s]
        goal = ["%s ≤2× socat (%.2f×)" % (check(r_s <= 2.0), r_s)]
        if "ssh" in st:
            r_h = ratio(st["ssh"]["p50"], u["p50"])
            rat.append("1/%.0f of ssh" % r_h)
            goal.append("%s ≤1/50 ssh (1/%.0f)" % (check(r_h >= 50), r_h))
        add(("`exec -- true` set-up, p50 / p99 ms (%d runs; ssh %d)" % (runs, len(st.get("ssh", {}).get("all", []))),
             hv(st, lambda v: "%.1f / %.1f" % (v["p50"], v["p99"])), base, " · ".join(rat), " ".join(goal)))
        if "local_first" in res:
            add(("first `exec local -- true` (starts the agent), ms", "local: %.1f" % res["local_first"], "—", "—", "—"))
    if "mem" in res:
        m = res["mem"]
        add(("agent RSS idle, KiB (of which anonymous; PSS)", "%.0f (anon %.0f; PSS %.0f)" %
             (m["idle_rss"] / 1024, m["idle_anon"] / 1024, m["idle_pss"] / 1024), "—", "—",
             "%s ≤4 MiB" % check(m["idle_rss"] <= 4 * MiB)))
        note = "" if m["detached"] == m["sessions"] else " (only %d listed detached!)" % m["detached"]
        add(("agent RSS with %d idle detached sessions, KiB" % m["sessions"],
             "%.0f (anon %.0f)%s" % (m["busy_rss"] / 1024, m["busy_anon"] / 1024, note),
             "—", "—", "—"))
        add(("agent RSS per idle session, KiB", "%.1f" % (m["per_session"] / 1024), "—", "—",
             "%s ≤128 KiB + replay used (%d B)" % (check(m["per_session"] <= 128 * 1024 + res.get("replay", 0)),
                                                   res.get("replay", 0))))
    if "screen" in res:
        s = res["screen"]
        tmux_attach = "tmux: %.0f" % (statistics.median(s["tmux_attach"]) * 1000) if s["tmux_attach"] else "—"
        add(("attach until the last line shows, after %d lines printed while detached, ms" % s["lines"],
             "%.0f (%s sent)" % (statistics.median(s["hvterm_attach"]) * 1000, human(statistics.median(s["hvterm_bytes"]))),
             tmux_attach, "%.2f× tmux" % ratio(statistics.median(s["tmux_attach"]), statistics.median(s["hvterm_attach"]))
             if s["tmux_attach"] else "—",
             "%s ≤100 ms" % check(statistics.median(s["hvterm_attach"]) <= 0.1)))
        add(("those %d lines through an attached terminal session (exec -t into a pipe), s" % s["lines"],
             "%.2f" % statistics.median(s["attached"]), "—", "—", "—"))
        add(("those %d lines printed with nobody attached, s" % s["lines"],
             "%.2f" % statistics.median(s["hvterm_run"]),
             "tmux: %.2f" % statistics.median(s["tmux_run"]) if s["tmux_run"] else "—", "—", "—"))
        m = s["mem"]
        add(("agent RSS per idle terminal session, full 80x24 screen + 10,000 lines of 80 columns, KiB",
             "%.0f" % (m["per_session"] / 1024), "—", "—", "%s ≤2 MiB" % check(m["per_session"] <= 2 * MiB)))
    if "scale" in res:
        sc = res["scale"]
        one = sc["streams"][1]["mbps"]
        for n in (32, 64):
            st = sc["streams"][n]
            r_agg, r_slow = ratio(st["mbps"], one), ratio(st["fastest"], st["slowest"])
            add(("%d concurrent `exec -- cat` round trips, 256 MiB in all, MB/s" % n, fmt_mbps(st["mbps"]),
                 "one stream: %s" % fmt_mbps(one),
                 "%.2f× one stream · slowest stream %.2f× the fastest" % (r_agg, r_slow),
                 "%s ≥0.9× one stream (%.2f×) %s slowest ≥0.5× fastest (%.2f×)" % (
                     check(r_agg >= 0.9), r_agg, check(r_slow >= 0.5), r_slow)))
        r_exec = ratio(sc["exec_idle"], sc["exec_none"])
        add(("`exec -- true` p50 with %d idle sessions in the agent, ms" % sc["idle_sessions"],
             "%.1f" % sc["exec_idle"], "with none: %.1f" % sc["exec_none"], "%.2f×" % r_exec,
             "%s ≤1.2× with none (%.2f×)" % (check(r_exec <= 1.2), r_exec)))
        add(("`hvterm ls` over %d sessions, ms" % sc["idle_sessions"], "%.1f" % sc["ls_ms"], "—", "—",
             "%s ≤50 ms" % check(sc["ls_ms"] <= 50)))
        add(("agent RSS with %d idle sessions, KiB" % sc["idle_sessions"], "%.0f" % (sc["rss"] / 1024), "—", "—",
             "%s ≤8 MiB" % check(sc["rss"] <= 8 * MiB)))
    if "ports" in res:
        po = res["ports"]
        nc, chain = po["hvterm nc"]["mbps"], po["socat chain"]["mbps"]
        ssh_w = po["ssh -W"]["mbps"] if "ssh -W" in po else None
        add(("`hvterm nc` to a TCP echo server, round trip, MB/s", fmt_mbps(nc),
             "socat relay chain: %s · ssh -W: %s" % (fmt_mbps(chain), fmt_mbps(ssh_w) if ssh_w else "—"),
             "%.2f× socat · %s" % (ratio(nc, chain), "%.2f× ssh -W" % ratio(nc, ssh_w) if ssh_w else "—"),
             "%s ≥1.0× socat (%.2f×) %s ≥2.5× ssh -W (%s)" % (
                 check(nc >= chain), ratio(nc, chain), check(bool(ssh_w) and nc >= 2.5 * ssh_w),
                 "%.2f×" % ratio(nc, ssh_w) if ssh_w else "not measured")))
        fw = po["forward"]
        hv_setup, so_setup = fw["setup"]["hvterm forward -L"], fw["setup"]["socat one-shot relay"]
        r_setup = ratio(hv_setup["p50"], so_setup["p50"])
        add(("`hvterm forward -L`: a new connection's first echo, p50 / p99, ms",
             "%.2f / %.2f" % (hv_setup["p50"], hv_setup["p99"]),
             "socat one-shot relay (fork per connection): %.2f / %.2f" % (so_setup["p50"], so_setup["p99"]),
             "%.2f× socat" % r_setup, "%s ≤2× socat (%.2f×)" % (check(r_setup <= 2), r_setup)))
        add(("agent RSS with %d forwarded connections open, KiB" % fw["concurrent"], "%.0f" % (fw["busy_rss"] / 1024),
             "the same agent idle: %.0f" % (fw["idle_rss"] / 1024), "—",
             "%s ≤16 MiB" % check(fw["busy_rss"] <= 16 * MiB)))
    if "cp" in res:
        for row in cp_rows(res["cp"]):
            add(row)
    if "ansible" in res:
        a = res["ansible"]
        r_a = ratio(a["ssh"], a["hvterm"])
        add(("Ansible playbook of %d tasks, one host, s" % a["tasks"], "%.1f" % a["hvterm"],
             "ssh: %.1f · ssh with pipelining: %.1f · local (no transport: Ansible's own floor): %.1f" %
             (a["ssh"], a["ssh pipelining"], a["local"]),
             "%.2f× faster than ssh · %.2f× than ssh with pipelining" % (r_a, ratio(a["ssh pipelining"], a["hvterm"])),
             "%s ≥3× faster than ssh (%.2f×)" % (check(r_a >= 3), r_a)))
    if "rt" in res:
        rt, ow = res["rt"], res["ow"]
        add(("client peak RSS (VmHWM) during the transfer, KiB",
             "round trip %s · one-way %s" % (" / ".join("%.0f" % (v["rss"] / 1024) for k, v in rt.items() if k.startswith("hvterm")),
                                             " / ".join("%.0f" % (v["rss"] / 1024) for k, v in ow.items() if k.startswith("hvterm"))),
             "socat round trip: %.0f · ssh round trip: %s" % (rt["socat -b262144"]["rss"] / 1024,
                                                              "%.0f" % (rt["ssh"]["rss"] / 1024) if "ssh" in rt else "—"),
             "—", "—"))
        add(("agent peak RSS (VmHWM) after all transfers, KiB", "%.0f" % (res["agent_hwm"] / 1024), "—", "—", "—"))

    head = ["# hvterm benchmarks", "",
            "- date: %s" % datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            "- machine: %s" % machine_line(),
            "- hvterm: git %s, `%s` (%s build)" % (git_rev(e.build), e.build, build_type(e.build)),
            "- baselines: socat %s, %s" % (tool_version(["socat", "-V"], r"socat version (\S+)"),
                                           "ssh/sshd " + tool_version(["ssh", "-V"], r"(OpenSSH_\S+)") +
                                           " on 127.0.0.1 (default cipher)" if not args.skip_ssh else "ssh skipped"),
            "- command: `python3 tests/bench/run.py %s` — %s, run time %.0f s" %
            (" ".join(sys.argv[1:]), "quick" if args.quick else "full", elapsed),
            "- machine load: %.0f%% CPU idle in the second before the run; load average %s at the start, %s at "
            "the end (other work on the machine skews every figure)" %
            (res.get("idle_start", float("nan")), res.get("load_start", "?"), loadavg()),
            ""]
    table = ["| metric | hvterm | baseline(s) | ratio | goal |", "|---|---|---|---|---|"]
    for r in rows:
        table.append("| " + " | ".join(c.replace("|", "\\|") for c in r) + " |")
    notes = ["",
             "Throughput: median of %d run(s) of %s of zeros, MB = 10^6 bytes; producer `dd bs=256K`, consumer "
             "the runner (reads 1 MiB at a time and discards); the hvterm figure in the ratio is the `unix:` target. "
             "socat relay: `socat -b262144 STDIO UNIX-CONNECT` → `socat -b262144 UNIX-LISTEN,fork EXEC:cat`; "
             "pipe: `dd | cat | runner` (round trip), `dd | runner` (one-way), with the default 64 KiB pipes and "
             "with pipes widened to 1 MiB before the first byte (F_SETPIPE_SZ; hvterm widens a stdin or stdout "
             "pipe that fills up); the ceiling is the faster of the two." % (reps, human(nbytes)),
             "Keystroke: one byte written to the PTY master that the client runs on, timed until it is read back; "
             "remote program `stty raw -echo; cat` on a PTY (socat: `EXEC:...,pty`, ssh: `-tt`).",
             "Set-up: wall time of the whole client process with stdin from /dev/null (socat: `socat STDIO "
             "UNIX-CONNECT` to `UNIX-LISTEN,fork EXEC:true`).",
             "Memory: a fresh agent; idle = after one ping; sessions are `hvterm shell -- sleep` detached by "
             "SIGTERM to the client; per session = (RSS with sessions − idle RSS) / sessions."]
    if "cp" in res:
        c = res["cp"]
        notes.append("cp: median of %d run(s) each, tools round-robin; one file of %s from /dev/urandom and %d files "
                     "of 1 KiB (%d directories) in %s, copied into an empty directory on the same disk and checked "
                     "(size and sha1; for the tree the file count, bytes and a sha1 over names and contents) before "
                     "the time counts; the time is the whole command's wall time. hvterm cp goes through an agent of "
                     "its own (`unix:`, default 1 MiB replay buffer) whose VmHWM is the peak RSS row; tar over exec "
                     "through the run's main `unix:` agent; scp (SFTP protocol, OpenSSH's default) to the throw-away "
                     "sshd on 127.0.0.1. Ratios are the other tool's time over hvterm's." %
                     (c["reps"], human(c["file_bytes"]), c["files"], (c["files"] + 99) // 100, c["where"]))
    return "\n".join(head + table + notes)


def cp_over(c):
    """How far the cp agent's peak RSS rose over its idle RSS, and whether that is within the bound."""
    grew = c["peak_rss"] - c["idle_rss"]
    return grew, grew <= c["replay"] + c["constant"]


def cp_rows(c):
    rows = []
    for what, goal_scp in (("file", 3.0), ("tree", 5.0)):
        for way in ("push", "pull"):
            d = c["rows"][(what, way)]
            hv = d["hvterm cp"]
            tar_k = "tar | exec tar x" if way == "push" else "exec tar c | tar x"
            scp_k = "scp" if what == "file" else "scp -r"
            tar, scp = d[tar_k], d.get(scp_k)
            if what == "file":
                name = "`hvterm cp` %s, one file of %s, MB/s" % ("into the agent's side (push)" if way == "push"
                                                                else "out of it (pull)", human(c["file_bytes"]))
                fmt = lambda v: fmt_mbps(v["mbps"])
            else:
                name = "`hvterm cp -r` %s, %d files of 1 KiB, s" % ("push" if way == "push" else "pull", c["files"])
                fmt = lambda v: "%.2f" % v["secs"]
            r_t = tar["secs"] / hv["secs"]
            base = ["`%s`: %s" % (tar_k.replace("exec", "hvterm exec --"), fmt(tar))]
            rat = ["%.2f× tar" % r_t]
            goal = ["%s ≥1.0× tar (%.2f×)" % (check(r_t >= 1.0), r_t)]
            if scp:
                r_s = scp["secs"] / hv["secs"]
                base.append("%s: %s" % (scp_k, fmt(scp)))
                rat.append("%.2f× %s" % (r_s, scp_k))
                goal.append("%s ≥%.0f× %s (%.2f×)" % (check(r_s >= goal_scp), goal_scp, scp_k, r_s))
            else:
                goal.append("%s not measured (--skip-ssh)" % scp_k)
            rows.append((name, fmt(hv), " · ".join(base), " · ".join(rat), " ".join(goal)))
    grew, ok = cp_over(c)
    rows.append(("agent peak RSS (VmHWM) during the copies, KiB (idle; rise)",
                 "%.0f (idle %.0f; +%.0f)" % (c["peak_rss"] / 1024, c["idle_rss"] / 1024, grew / 1024), "—", "—",
                 "%s rise ≤ replay buffer %s + %s" % (check(ok), human(c["replay"]), human(c["constant"]))))
    return rows


def raw_samples(res):
    lines = ["", "## raw figures", ""]
    for key, title in (("rt", "round trip MB/s"), ("ow", "one-way MB/s")):
        if key in res:
            for k, v in res[key].items():
                lines.append("- %s %s: %s (peak RSS %d KiB)" % (title, k, ", ".join("%.0f" % x for x in v["all"]),
                                                                v["rss"] // 1024))
    if "lat" in res:
        for k, v in res["lat"].items():
            s = sorted(v["all"])
            lines.append("- keystroke µs %s: min %.0f p10 %.0f p50 %.0f p90 %.0f p99 %.0f max %.0f mean %.0f" %
                         (k, s[0], pct(s, 10), pct(s, 50), pct(s, 90), pct(s, 99), s[-1], v["mean"]))
        # Samples over 2× their tool's p50, per round (rounds run the tools back to back, in a new order
        # each time): slow samples piled into the same rounds for every tool are a burst from elsewhere
        # on the machine; spread evenly over one tool's rounds, they are that tool's own tail.
        lines.append("- keystrokes over 2× own p50, per round of %d:" % len(res["lat"][next(iter(res["lat"]))]["rounds"][0]))
        for k, v in res["lat"].items():
            slow = [sum(1 for x in r if x > 2 * v["p50"]) for r in v["rounds"]]
            lines.append("  - %s: %s (%d in all)" % (k, " ".join(str(n) for n in slow), sum(slow)))
    if "setup" in res:
        for k, v in res["setup"].items():
            s = sorted(v["all"])
            lines.append("- set-up ms %s: min %.2f p50 %.2f p90 %.2f p99 %.2f max %.2f" %
                         (k, s[0], pct(s, 50), pct(s, 90), pct(s, 99), s[-1]))
    if "cp" in res:
        for (what, way), d in res["cp"]["rows"].items():
            for tool, v in d.items():
                lines.append("- cp %s %s %s, s: %s" % (what, way, tool, ", ".join("%.3f" % x for x in v["all"])))
    if "mem" in res:
        m = res["mem"]
        lines.append("- memory: idle %d KiB, with %d sessions %d KiB (%d listed detached), created in %.1f s, "
                     "%d `sleep` left after agent SIGTERM" % (m["idle_rss"] // 1024, m["sessions"],
                                                              m["busy_rss"] // 1024, m["detached"], m["create_s"],
                                                              m["survivors"]))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
