"""hvterm cp: files and trees into and out of the guest, copied by the agent itself, exact both
ways, across connection cuts, and never leaving a partial file under a final name."""
import contextlib
import hashlib
import os
import stat
import struct
import subprocess

import pytest

from conftest import BASE_ENV, HVTERM, hvterm, sha256_of, wait_for
from rawwire import (CAP_COLLECT_OK, CAP_OPEN_ID, CAP_RESUME, COLLECT, DATA, EOF, EXIT, HELLO, OK, OPEN, SESSION,
                     FakeAgent, frame, read_frame, string)
from relay import Relay

MIB = 1024 * 1024


def random_file(path, size, seed):
    with open(path, "wb") as f:
        f.write(os.urandom(size) if seed is None else (hashlib.sha256(seed).digest() * (size // 32 + 1))[:size])


def cp(agent, *args, **kwargs):
    return hvterm("cp", "--target", agent.target, *args, **kwargs)


def tree_listing(root):
    """Every entry under root: its relative name (bytes), kind, mode, size, content hash or link target."""
    listing = {}
    for directory, dirs, files in os.walk(os.fsencode(root)):
        for name in dirs + files:
            path = os.path.join(directory, name)
            st = os.lstat(path)
            rel = os.path.relpath(path, os.fsencode(root))
            if stat.S_ISLNK(st.st_mode):
                listing[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                listing[rel] = ("dir", stat.S_IMODE(st.st_mode))
            else:
                with open(path, "rb") as f:
                    listing[rel] = ("file", stat.S_IMODE(st.st_mode), int(st.st_mtime), hashlib.sha256(f.read()).digest())
    return listing


def make_tree(root, files=5000):
    os.makedirs(root)
    for i in range(files):
        sub = os.path.join(root, f"d{i % 7}", f"e{i % 3}")
        os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, f"f{i}"), "wb") as f:
            f.write(os.urandom(i % 700 * 3))  # f0 is empty, and every 700th
        os.chmod(os.path.join(sub, f"f{i}"), 0o600 + (i % 2) * 0o44)
        os.utime(os.path.join(sub, f"f{i}"), (1600000000 + i, 1600000000 + i))
    odd = os.path.join(os.fsencode(root), b"with space, new\nline and \xff\xfe bytes")
    with open(odd, "wb") as f:
        f.write(b"odd")
    open(os.path.join(root, "empty"), "wb").close()
    os.chmod(os.path.join(root, "d1"), 0o750)
    os.symlink("d0/e0", os.path.join(root, "link"))


def temporaries(root):
    """The names a file has while it is written: its partial name, or a random one beside it."""
    return [p for p in os.listdir(root) if p.startswith(".hvterm-cp-") or p.endswith(".hvterm-partial")]


def no_temporaries(root):
    return temporaries(root) == []


def test_a_random_256_mib_file_both_ways(agent, workdir):
    src = os.path.join(workdir, "big")
    random_file(src, 256 * MIB, None)
    inside = os.path.join(workdir, "in-guest")
    os.mkdir(inside)
    proc = cp(agent, src, ":" + inside + "/")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b""  # piped: no progress, nothing to say
    assert sha256_of(os.path.join(inside, "big")) == sha256_of(src)
    back = os.path.join(workdir, "back")
    cp(agent, ":" + os.path.join(inside, "big"), back, check=0)
    assert sha256_of(back) == sha256_of(src)
    assert no_temporaries(inside) and no_temporaries(workdir)


def test_a_tree_both_ways_with_modes_and_times(agent, workdir):
    src = os.path.join(workdir, "tree")
    make_tree(src)
    inside = os.path.join(workdir, "in-guest")
    proc = cp(agent, "-r", "-p", src, ":" + inside)  # a new name: the tree becomes it
    assert proc.returncode == 0, proc.stderr
    assert tree_listing(inside) == tree_listing(src)
    out = os.path.join(workdir, "out")
    os.mkdir(out)
    proc = cp(agent, "-r", "-p", ":" + inside, out)  # an existing directory: the tree goes into it
    assert proc.returncode == 0, proc.stderr
    assert tree_listing(os.path.join(out, "in-guest")) == tree_listing(src)


def test_without_p_modes_follow_the_umask_and_times_are_new(agent, workdir):
    src = os.path.join(workdir, "f")
    with open(src, "wb") as f:
        f.write(b"x")
    os.chmod(src, 0o777)
    os.utime(src, (1000000000, 1000000000))
    cp(agent, src, ":" + os.path.join(workdir, "g"), check=0)
    st = os.stat(os.path.join(workdir, "g"))
    assert stat.S_IMODE(st.st_mode) == 0o755  # the agent's umask is 022
    assert st.st_mtime > 1000000000


def test_a_copy_of_256_mib_across_three_cuts_is_exact_both_ways(agent, workdir):
    src = os.path.join(workdir, "big")
    random_file(src, 256 * MIB, None)
    relay = Relay(workdir, agent.sock)
    try:
        relay.cut_after(30 * MIB, 110 * MIB, 200 * MIB)
        proc = hvterm("cp", "--target", relay.target, src, ":" + os.path.join(workdir, "pushed"))
        assert proc.returncode == 0, proc.stderr
        assert relay.cuts == 3
        assert sha256_of(os.path.join(workdir, "pushed")) == sha256_of(src)
        relay.cuts = 0
        relay.forwarded = 0
        relay.cut_after(30 * MIB, 110 * MIB, 200 * MIB)
        proc = hvterm("cp", "--target", relay.target, ":" + src, os.path.join(workdir, "pulled"))
        assert proc.returncode == 0, proc.stderr
        assert relay.cuts == 3
        assert sha256_of(os.path.join(workdir, "pulled")) == sha256_of(src)
    finally:
        relay.close()


def test_stdin_and_stdout(agent, workdir):
    data = os.urandom(300000)
    dest = os.path.join(workdir, "from-stdin")
    cp(agent, "-", ":" + dest, input=data, check=0)
    with open(dest, "rb") as f:
        assert f.read() == data
    assert cp(agent, ":" + dest, "-", check=0).stdout == data


def test_a_missing_source_is_named_and_the_rest_is_copied(agent, workdir):
    good = os.path.join(workdir, "good")
    with open(good, "wb") as f:
        f.write(b"good")
    dest = os.path.join(workdir, "dest")
    os.mkdir(dest)
    missing = os.path.join(workdir, "missing")
    proc = cp(agent, missing, good, ":" + dest)
    assert proc.returncode == 1
    assert proc.stderr == f"hvterm: cp: {missing}: No such file or directory\n".encode()
    assert os.listdir(dest) == ["good"]
    # The same out of the guest: the agent names the file.
    out = os.path.join(workdir, "out")
    os.mkdir(out)
    proc = cp(agent, ":" + missing, ":" + good, out)
    assert proc.returncode == 1
    assert proc.stderr == f"hvterm: cp: {missing}: No such file or directory\n".encode()
    assert os.listdir(out) == ["good"]


def test_several_sources_need_a_directory(agent, workdir):
    a = os.path.join(workdir, "a")
    open(a, "wb").close()
    proc = cp(agent, a, a, ":" + os.path.join(workdir, "nodir"))
    assert proc.returncode == 1
    assert proc.stderr.endswith(b"nodir: not a directory\n") and proc.stderr.count(b"\n") == 1
    proc = cp(agent, ":" + a, ":" + a, os.path.join(workdir, "nodir"))
    assert proc.returncode == 1
    assert proc.stderr.endswith(b"nodir: not a directory\n") and proc.stderr.count(b"\n") == 1
    assert not os.path.exists(os.path.join(workdir, "nodir"))


def test_a_directory_without_r_and_no_clobber(agent, workdir):
    d = os.path.join(workdir, "d")
    os.mkdir(d)
    proc = cp(agent, d, ":" + os.path.join(workdir, "e"))
    assert proc.returncode == 1
    assert proc.stderr == f"hvterm: cp: {d}: is a directory (use -r)\n".encode()
    f = os.path.join(workdir, "f")
    with open(f, "wb") as out:
        out.write(b"new")
    g = os.path.join(workdir, "g")
    with open(g, "wb") as out:
        out.write(b"old")
    proc = cp(agent, "--no-clobber", f, ":" + g)
    assert proc.returncode == 1
    assert proc.stderr == f"hvterm: cp: {g}: exists (--no-clobber)\n".encode()
    with open(g, "rb") as inp:
        assert inp.read() == b"old"
    cp(agent, f, ":" + g, check=0)  # replaced, as cp does
    with open(g, "rb") as inp:
        assert inp.read() == b"new"


@pytest.fixture
def small_mount(workdir):
    """A 1 MiB tmpfs (this test tier runs as root), and a read-only one."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mounts = {}
    for name, options in (("small", "size=1m"), ("readonly", "ro,size=1m")):
        path = os.path.join(workdir, name)
        os.mkdir(path)
        if subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", path]).returncode != 0:
            pytest.skip("cannot mount a tmpfs here")
        mounts[name] = path
    yield mounts
    for path in mounts.values():
        subprocess.run(["umount", path])


@pytest.mark.parametrize("direction", ["push", "pull"])
def test_a_full_disk_leaves_nothing_under_a_final_name(agent, workdir, small_mount, direction):
    src = os.path.join(workdir, "src")
    os.mkdir(src)
    random_file(os.path.join(src, "a-fits"), 100000, b"a")
    random_file(os.path.join(src, "b-too-big"), 3 * MIB, b"b")
    random_file(os.path.join(src, "c-fits"), 100000, b"c")
    dest = small_mount["small"]
    if direction == "push":
        proc = cp(agent, "-r", src, ":" + dest)
    else:
        proc = cp(agent, "-r", ":" + src, dest)
    assert proc.returncode == 1
    assert b"src/b-too-big: No space left on device" in proc.stderr
    assert sorted(os.listdir(os.path.join(dest, "src"))) == ["a-fits", "c-fits"]
    assert sha256_of(os.path.join(dest, "src", "c-fits")) == sha256_of(os.path.join(src, "c-fits"))


def test_a_read_only_destination_is_a_clear_error(agent, workdir, small_mount):
    src = os.path.join(workdir, "f")
    open(src, "wb").close()
    readonly = small_mount["readonly"]
    for args in ([src, ":" + readonly], [":" + src, readonly]):
        proc = cp(agent, *args)
        assert proc.returncode == 1
        assert proc.stderr == f"hvterm: cp: {readonly}/f: Read-only file system\n".encode()


def copy_stream(*records):
    return b"HVCP\x01" + b"".join(records) + b"\x07"


def file_record(name, body):
    # type, name, mode, mtime s, ns, uid, gid, size; one chunk; the end with a wrong checksum: it
    # must not matter, the name is refused first.
    return (b"\x02" + string(name) + struct.pack("<IqIIIQ", 0o644, 0, 0, 0, 0, len(body)) +
            b"\x03" + struct.pack("<I", len(body)) + body + b"\x04" + struct.pack("<Q", len(body)) + b"\0" * 16)


class CopyingAgent(FakeAgent):
    """Answers one copy out of the guest with the stream the test gives it."""

    def __init__(self, directory, stream):
        self.stream = stream
        super().__init__(directory)

    def converse(self, conn):
        kind, _ = read_frame(conn)
        assert kind == HELLO
        conn.sendall(frame(HELLO, b"HVTM" + struct.pack("<HI", 1, CAP_RESUME | CAP_OPEN_ID | CAP_COLLECT_OK | 0x100) +
                           string(b"fake") + string(b"")))
        kind, payload = read_frame(conn)
        if kind != OPEN:
            return
        session_id = payload[19:35]
        conn.sendall(frame(SESSION, session_id + b"\x04" + struct.pack("<IQQQ", 0, 0, 0, 0)))
        conn.sendall(frame(DATA, b"\x01" + struct.pack("<Q", 0) + self.stream))
        conn.sendall(frame(EOF, b"\x01" + struct.pack("<Q", len(self.stream))))
        conn.sendall(frame(EOF, b"\x02" + struct.pack("<Q", 0)))
        conn.sendall(frame(EXIT, b"\x00" + struct.pack("<i", 0) + string(b"")))
        while True:
            kind, _ = read_frame(conn)
            if kind is None:
                break
            if kind == COLLECT:
                conn.sendall(frame(OK, b""))
                break


@pytest.mark.parametrize("name", [b"../x", b"/tmp/hvterm-cp-abs-x", b"sub/../../x"])
def test_a_hostile_agent_cannot_write_outside_the_destination(workdir, name):
    fake = CopyingAgent(workdir, copy_stream(file_record(name, b"evil")))
    dest = os.path.join(workdir, "dest")
    os.mkdir(dest)
    try:
        proc = hvterm("cp", "--target", fake.target, ":whatever", dest + "/")
    finally:
        fake.close()
    assert proc.returncode == 1
    assert b"the copy stream is malformed" in proc.stderr
    assert os.listdir(dest) == []
    assert not os.path.exists(os.path.join(workdir, "x"))
    assert not os.path.exists("/tmp/hvterm-cp-abs-x")


def test_a_killed_copy_leaves_no_file_under_its_final_name(agent, workdir):
    src = os.path.join(workdir, "big")
    random_file(src, 64 * MIB, b"k")
    dest = os.path.join(workdir, "dest")
    os.mkdir(dest)
    proc = subprocess.Popen([HVTERM, "cp", "--target", agent.target, src, ":" + dest + "/"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=BASE_ENV)
    # Once the temporary file has grown, the client goes away mid-copy.
    def grown():
        temps = temporaries(dest)
        return temps and os.path.getsize(os.path.join(dest, temps[0])) > MIB
    wait_for(grown, "the temporary file to pass 1 MiB")
    proc.kill()
    proc.wait()
    assert "big" not in os.listdir(dest)


@pytest.mark.parametrize("args,message", [
    (["a", "b"], b"name the guest's side as TARGET:PATH"),
    (["a", "unix:/run/x.sock:/tmp"], b"--target unix:"),
    (["a", "hybrid:/run/vm.sock:18518:/tmp"], b"--target hybrid:"),
    (["vm1:a", "vm1:b"], b"not both"),
    (["--target", "local", "a", "b"], b"with --target, write the guest's path as :PATH"),
    (["-", "a", "vm1:/x"], b"'-' (stdin) must be the only source"),
])
def test_operands_that_cannot_be_read_are_one_line_and_2(args, message):
    proc = hvterm("cp", *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert proc.stderr.count(b"\n") == 1


@contextlib.contextmanager
def slow_relay(agent, workdir):
    """A relay to the agent at 16 MiB/s: 8 MiB take half a second, long enough for several progress lines."""
    relay = Relay(workdir, agent.sock)
    relay.rate = 16 * MIB
    try:
        yield relay
    finally:
        relay.close()


def spawn_cp(*args):
    import pexpect
    return pexpect.spawn(HVTERM, ["cp"] + list(args), env=BASE_ENV, timeout=60)


def test_progress_on_a_terminal_and_a_summary(agent, workdir):
    import pexpect
    src = os.path.join(workdir, "big")
    random_file(src, 8 * MIB, b"p")
    with slow_relay(agent, workdir) as relay:
        child = spawn_cp("--target", relay.target, src, ":" + os.path.join(workdir, "copy"))
        child.expect(r"\r" + r".*big  [\d.]+ (B|KiB|MiB) / 8\.0 MiB  \d+%  [\d.]+ (B|KiB|MiB)/s  ETA \d+:\d\d\x1b\[K")
        child.expect(r"copied 8\.0 MiB in [\d.]+ s \([\d.]+ (KiB|MiB)/s\)\r\n")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0
        # -q: not a byte of it.
        child = spawn_cp("-q", "--target", relay.target, src, ":" + os.path.join(workdir, "c2"))
        child.expect(pexpect.EOF)
        assert child.before == b""
        child.close()
        assert child.exitstatus == 0
    assert sha256_of(os.path.join(workdir, "copy")) == sha256_of(src)


def test_progress_of_a_tree_is_of_the_whole_tree(agent, workdir):
    import pexpect
    tree = os.path.join(workdir, "tree")
    for sub in ("a", "b/c"):
        os.makedirs(os.path.join(tree, sub))
        for i in range(2):
            random_file(os.path.join(tree, sub, "f%d" % i), 2 * MIB, sub.encode())
    with slow_relay(agent, workdir) as relay:
        child = spawn_cp("-r", "--target", relay.target, tree, ":" + os.path.join(workdir, "copy"))
        # The total is the tree's 8 MiB from the first files on, not the file's 2 MiB.
        child.expect(r"\r" + r".*tree/a/f\d  [\d.]+ (B|KiB|MiB) / 8\.0 MiB  \d+%")
        child.expect(r"copied 8\.0 MiB in [\d.]+ s")
        child.expect(pexpect.EOF)
        child.close()
        assert child.exitstatus == 0


def test_progress_when_piped_only_with_the_option(agent, workdir):
    src = os.path.join(workdir, "f")
    random_file(src, 3 * MIB, b"q")
    quiet = cp(agent, src, ":" + os.path.join(workdir, "g"), check=0)
    assert quiet.stderr == b""
    shown = cp(agent, "--progress", ":" + src, os.path.join(workdir, "h"), check=0)
    lines = shown.stderr.decode().splitlines()
    assert lines[-1].startswith("copied 3.0 MiB in ")
    assert all("\r" not in line and "\x1b" not in line for line in lines)


@pytest.mark.parametrize("direction", ["push", "pull"])
def test_ctrl_c_stops_the_copy_on_both_sides_and_leaves_nothing(agent, workdir, direction):
    import signal
    import time
    src = os.path.join(workdir, "big")
    random_file(src, 32 * MIB, b"i")
    dest = os.path.join(workdir, "dest")
    os.mkdir(dest)
    relay = Relay(workdir, agent.sock)
    relay.rate = 8 * MIB  # seconds, so that the signal comes in the middle
    try:
        args = [src, ":" + dest + "/"] if direction == "push" else [":" + src, dest + "/"]
        proc = subprocess.Popen([HVTERM, "cp", "-q", "--target", relay.target, *args],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=BASE_ENV)
        deadline = time.time() + 30
        while time.time() < deadline and not temporaries(dest):
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130, proc.stderr.read()
    finally:
        relay.close()
    deadline = time.time() + 10
    while time.time() < deadline and os.listdir(dest):
        time.sleep(0.05)
    assert os.listdir(dest) == []  # neither the final name nor the temporary one


def resumed_of(summary):
    """The bytes a --progress summary says were resumed from partial files (0 when it says none)."""
    import re
    m = re.search(rb", ([\d.]+) (B|KiB|MiB) of it resumed from partial files", summary)
    return 0 if not m else float(m.group(1)) * {b"B": 1, b"KiB": 1024, b"MiB": MIB}[m.group(2)]


@pytest.mark.parametrize("direction", ["push", "pull"])
def test_a_copy_whose_hvterm_died_goes_on_with_resume_sending_only_the_rest(agent, workdir, direction):
    size = 64 * MIB
    src = os.path.join(workdir, "big")
    random_file(src, size, None)
    dest = os.path.join(workdir, "dest")
    os.mkdir(dest)
    partial = os.path.join(dest, ".big.hvterm-partial")
    args = [src, ":" + dest + "/"] if direction == "push" else [":" + src, dest + "/"]
    slow = Relay(workdir, agent.sock)
    slow.rate = 32 * MIB  # two seconds: time to kill it in the middle
    try:
        proc = subprocess.Popen([HVTERM, "cp", "--target", slow.target, *args],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=BASE_ENV)
        wait_for(lambda: os.path.exists(partial) and os.path.getsize(partial) >= size // 2,
                 "the partial file to reach half the size")
        proc.kill()
        proc.wait()
    finally:
        slow.close()
    assert "big" not in os.listdir(dest)  # never anything under the final name before it is complete
    assert os.path.getsize(partial) < size
    # Again with --resume (in the guest the dead copy's session still holds the file: it is taken over).
    counted = Relay(workdir, agent.sock, "counted.sock")
    try:
        proc = hvterm("cp", "--resume", "--progress", "--target", counted.target, *args)
        sent = counted.forwarded
    finally:
        counted.close()
    assert proc.returncode == 0, proc.stderr
    assert sha256_of(os.path.join(dest, "big")) == sha256_of(src)
    assert no_temporaries(dest)
    resumed = resumed_of(proc.stderr.splitlines()[-1])
    assert size // 4 <= resumed < size, proc.stderr[-300:]
    assert sent < size - resumed + MIB, (sent, resumed)  # only the rest went over the connection


def test_resume_starts_over_a_partial_file_that_does_not_match(agent, workdir):
    src = os.path.join(workdir, "f")
    random_file(src, 3 * MIB, b"r")
    for direction in ("push", "pull"):
        dest = os.path.join(workdir, "dest-" + direction)
        os.mkdir(dest)
        with open(os.path.join(dest, ".f.hvterm-partial"), "wb") as f:
            f.write(b"not the first bytes of f" * 1000)
        args = [src, ":" + dest + "/"] if direction == "push" else [":" + src, dest + "/"]
        proc = cp(agent, "--resume", "--progress", *args)
        assert proc.returncode == 0, proc.stderr
        assert resumed_of(proc.stderr.splitlines()[-1]) == 0, proc.stderr
        assert sha256_of(os.path.join(dest, "f")) == sha256_of(src)
        assert no_temporaries(dest)


def test_resume_of_a_tree_continues_only_what_is_partial(agent, workdir):
    src = os.path.join(workdir, "tree")
    make_tree(src, 500)  # each file waits a round trip for the receiver's answer
    random_file(os.path.join(src, "d2", "big"), 2 * MIB, b"t")
    out = os.path.join(workdir, "out")
    os.mkdir(out)
    proc = cp(agent, "-r", "-p", src, ":" + out)
    assert proc.returncode == 0, proc.stderr
    # As an interrupted copy leaves it: one file cut short under its partial name, not its own.
    big = os.path.join(out, "tree", "d2", "big")
    with open(big, "rb") as f:
        head = f.read(MIB)
    os.unlink(big)
    with open(os.path.join(out, "tree", "d2", ".big.hvterm-partial"), "wb") as f:
        f.write(head)
    proc = cp(agent, "-r", "-p", "--resume", "--progress", src, ":" + out)
    assert proc.returncode == 0, proc.stderr
    assert resumed_of(proc.stderr.splitlines()[-1]) == MIB
    assert tree_listing(os.path.join(out, "tree")) == tree_listing(src)


def test_ctrl_c_removes_the_partial_file_a_plain_interruption_keeps(agent, workdir):
    """What stays after a kill (above) is for --resume; a copy stopped on purpose leaves nothing."""
    src = os.path.join(workdir, "f")
    random_file(src, 16 * MIB, b"c")
    dest = os.path.join(workdir, "dest")
    os.mkdir(dest)
    relay = Relay(workdir, agent.sock)
    relay.rate = 4 * MIB
    try:
        proc = subprocess.Popen([HVTERM, "cp", "--resume", "-q", "--target", relay.target, ":" + src, dest + "/"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=BASE_ENV)
        partial = os.path.join(dest, ".f.hvterm-partial")
        wait_for(lambda: os.path.exists(partial) and os.path.getsize(partial) > 0, "the partial file to grow")
        import signal
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130, proc.stderr.read()
    finally:
        relay.close()
    assert os.listdir(dest) == []


def test_a_copy_ends_even_when_its_progress_line_waits_for_a_full_stderr(agent, workdir):
    """The copy is over while stderr (a small pipe nobody reads yet) may still hold progress lines:
    once they are read, hvterm exits 0 with the summary last."""
    import fcntl
    import threading
    src = os.path.join(workdir, "f")
    random_file(src, 8 * MIB, b"s")
    dest = os.path.join(workdir, "copy")
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, 1031, 4096)  # F_SETPIPE_SZ: full after ~60 progress lines (6 s)
    relay = Relay(workdir, agent.sock)
    relay.rate = MIB  # 8 s
    try:
        proc = subprocess.Popen([HVTERM, "cp", "--progress", "--target", relay.target, src, ":" + dest],
                                stdout=subprocess.DEVNULL, stderr=write_end, env=BASE_ENV)
        os.close(write_end)
        wait_for(lambda: os.path.exists(dest), "the copy to arrive", timeout=60)
        shown = []
        reader = threading.Thread(target=lambda: shown.append(b"".join(iter(lambda: os.read(read_end, 65536), b""))))
        reader.start()
        assert proc.wait(timeout=60) == 0
        reader.join(timeout=60)
    finally:
        relay.close()
        os.close(read_end)
    assert shown and shown[0].splitlines()[-1].startswith(b"copied 8.0 MiB in ")
    assert sha256_of(dest) == sha256_of(src)
