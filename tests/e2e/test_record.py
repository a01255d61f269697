"""--record FILE: the terminal session as asciicast v2 (asciinema's format), written as it runs.

Each check replays the recording the way a player would: every line parses with Python's json,
and the output events' text, turned back into bytes with "surrogateescape", is exactly what the
terminal (a real PTY, read by pexpect) got from hvterm; so is what `asciinema cat` plays back."""
import io
import json
import os
import subprocess

import pexpect
import pytest

from conftest import HVTERM, BASE_ENV, PROMPT, TIMEOUT, hvterm, spawn_shell, wait_for

# Typed at the remote shell: bytes that are not UTF-8, and a 3-byte character (U+20AC) whose
# first byte is written, and seen on the terminal, before the program writes the other two. `read
# -s -n 1` waits for one key without echoing it, so nothing lands between the halves.
SPLIT_COMMAND = r"printf 'bad:\377\376 split:\342'; read -s -n 1 k; printf '\202\254 done\n'"
SPLIT_HEAD = b"bad:\xff\xfe split:\xe2"
SPLIT_TAIL = b"\x82\xac done"


def read_cast(path):
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    assert lines[-1] == b"", "the recording ends with a newline"
    header = json.loads(lines[0])
    events = [json.loads(line) for line in lines[1:-1]]
    return header, events


def output_bytes(events):
    return b"".join(e[2].encode("utf-8", "surrogateescape") for e in events if e[1] == "o")


def asciinema_cat(path):
    """What asciinema itself (Debian's, from tools/deps.sh) plays back from the file. Its `cat` reads
    keys from a terminal, so it runs on one; the output events go to a file, as bytes again."""
    replayed = path + ".replayed"
    child = pexpect.spawn("sh", ["-c", 'exec asciinema cat "$0" > "$1"', path, replayed],
                          env=dict(BASE_ENV, PYTHONIOENCODING="utf-8:surrogateescape"), timeout=TIMEOUT)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    with open(replayed, "rb") as f:
        return f.read()


def check_recording(path, terminal_bytes, cols, rows):
    header, events = read_cast(path)
    assert header["version"] == 2 and header["width"] == cols and header["height"] == rows, header
    assert isinstance(header["timestamp"], int) and header["env"]["TERM"] == BASE_ENV["TERM"], header
    times = [e[0] for e in events]
    assert times == sorted(times) and all(isinstance(t, float) and t >= 0 for t in times), times
    assert all(len(e) == 3 and e[1] in ("o", "r") and isinstance(e[2], str) for e in events), events
    assert output_bytes(events) == terminal_bytes
    assert asciinema_cat(path) == terminal_bytes
    return header, events


def type_split_command(child):
    """Run SPLIT_COMMAND: its first half reaches the terminal before the second is written."""
    child.sendline(SPLIT_COMMAND)
    child.expect_exact(SPLIT_HEAD)
    child.send("x")
    child.expect_exact(SPLIT_TAIL)


def exit_shell(child, status):
    child.sendline("exit %d" % status)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == status


def recorded(child):
    """Keep every byte the terminal gets from hvterm."""
    child.logfile_read = io.BytesIO()
    return child.logfile_read


def test_shell_recording_replays_to_the_exact_bytes_and_records_a_resize(agent, workdir):
    cast = os.path.join(workdir, "shell.cast")
    child = spawn_shell(agent.target, "-q", "--record", cast, rows=30, cols=100)
    seen = recorded(child)
    child.expect_exact(PROMPT)
    type_split_command(child)
    child.expect_exact(PROMPT)
    # Written as the session runs, not at its end.
    wait_for(lambda: b"done" in output_bytes(read_cast(cast)[1]), "the recording to hold the output so far")
    child.setwinsize(40, 120)
    child.sendline("stty size")
    child.expect_exact("40 120")
    child.expect_exact(PROMPT)
    exit_shell(child, 0)
    _, events = check_recording(cast, seen.getvalue(), cols=100, rows=30)
    assert [e[2] for e in events if e[1] == "r"] == ["120x40"]
    # The resize comes before the output that shows it.
    resize = next(i for i, e in enumerate(events) if e[1] == "r")
    assert b"40 120" in output_bytes(events[resize:]) and b"40 120" not in output_bytes(events[:resize])


def test_exec_tty_recording(agent, workdir):
    cast = os.path.join(workdir, "exec.cast")
    styled = "printf '\\033[1mbold\\033[0m \"q\" \\\\ tab\\t\\r\\n'"
    # The program waits for a key before it exits: its last output is on the terminal by then.
    child = pexpect.spawn(HVTERM, ["exec", "-t", "-q", "--record", cast, agent.target, "--", "bash", "-c",
                                   SPLIT_COMMAND + "; " + styled + "; read -s -n 1 k"],
                          env=BASE_ENV, dimensions=(25, 90), timeout=TIMEOUT)
    seen = recorded(child)
    child.expect_exact(SPLIT_HEAD)
    child.send("x")
    child.expect_exact(b"\x1b[1mbold\x1b[0m \"q\" \\ tab\t\r\r\n")  # the PTY turned \n into \r\n
    child.send("x")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    _, events = check_recording(cast, seen.getvalue(), cols=90, rows=25)
    assert b"\x1b[1mbold\x1b[0m \"q\" \\ tab\t" in output_bytes(events)
    # The character split across the program's writes is one character in the recording.
    assert any("\u20ac done" in e[2] for e in events)
    assert any(e[2].endswith("\udcff\udcfe split:") for e in events)


def test_attach_recording(agent, workdir):
    first = spawn_shell(agent.target)
    first.expect_exact(PROMPT)
    first.send("\r~.")
    first.expect(pexpect.EOF)
    cast = os.path.join(workdir, "attach.cast")
    child = pexpect.spawn(HVTERM, ["attach", "--record", cast, agent.target], env=BASE_ENV,
                          dimensions=(28, 95), timeout=TIMEOUT)
    seen = recorded(child)
    # hvterm's own words are on the terminal, not in the recording.
    child.expect(rb"\r\nhvterm: attached to session [0-9a-f]{8}\r\n")
    notice = child.match.group(0)
    child.sendline("echo after''attach")
    child.expect_exact("afterattach")
    child.expect_exact(PROMPT)
    type_split_command(child)
    child.expect_exact(PROMPT)
    exit_shell(child, 3)
    assert seen.getvalue().count(notice) == 1
    check_recording(cast, seen.getvalue().replace(notice, b""), cols=95, rows=28)


def test_record_replaces_an_existing_file(agent, workdir):
    cast = os.path.join(workdir, "again.cast")
    with open(cast, "w") as f:
        f.write("an older recording, longer than the new one" * 100 + "\n")
    os.chmod(cast, 0o600)
    child = pexpect.spawn(HVTERM, ["exec", "-t", "-q", "--record", cast, agent.target, "--", "echo", "new"],
                          env=BASE_ENV, timeout=TIMEOUT)
    seen = recorded(child)
    child.expect(pexpect.EOF)
    child.close()
    check_recording(cast, seen.getvalue(), cols=80, rows=24)


def test_a_new_recording_is_private(agent, workdir):
    cast = os.path.join(workdir, "private.cast")
    child = pexpect.spawn(HVTERM, ["exec", "-t", "--record", cast, agent.target, "--", "true"], env=BASE_ENV,
                          timeout=TIMEOUT)
    child.expect(pexpect.EOF)
    assert os.stat(cast).st_mode & 0o777 == 0o600


def test_record_without_a_terminal_session_is_a_usage_error(agent, workdir):
    cast = os.path.join(workdir, "pipes.cast")
    r = hvterm("exec", "--record", cast, agent.target, "--", "echo", "hi")
    assert r.returncode == 2 and r.stdout == b""
    assert r.stderr == b"hvterm: --record records a terminal: it goes with shell, exec -t or attach\n"
    assert not os.path.exists(cast)


@pytest.mark.parametrize("command", [["exec", "-t"], ["shell"], ["attach"]])
def test_a_recording_that_cannot_be_opened_is_a_usage_error_before_connecting(workdir, command):
    # Nothing listens on the target: the error must be about the file, said before any connection.
    target = "unix:" + os.path.join(workdir, "nobody.sock")
    extra = ["--", "true"] if command[0] == "exec" else []
    proc = pexpect.spawn(HVTERM, [*command, "--record", "/nonexistent/dir/x.cast", target, *extra],
                         env=BASE_ENV, timeout=TIMEOUT)
    proc.expect(pexpect.EOF)
    proc.close()
    assert proc.exitstatus == 2
    assert proc.before == b"hvterm: cannot open --record /nonexistent/dir/x.cast: No such file or directory\r\n"


def test_a_link_planted_at_the_recording_is_refused_and_its_target_kept(agent, workdir):
    victim = os.path.join(workdir, "victim")
    with open(victim, "w") as f:
        f.write("precious")
    link = os.path.join(workdir, "link.cast")
    os.symlink(victim, link)
    r = hvterm("exec", "-t", "--record", link, agent.target, "--", "true")
    assert r.returncode == 2
    assert r.stderr == b"hvterm: refusing --record %s: it is a symbolic link\n" % link.encode()
    with open(victim) as f:
        assert f.read() == "precious"


def test_a_recording_that_cannot_be_written_is_a_warning_once_and_the_session_goes_on(agent):
    # /dev/full: a device, so not emptied; every write fails with ENOSPC.
    r = hvterm("exec", "-t", "--record", "/dev/full", agent.target, "--", "seq", "20000")
    assert r.returncode == 0
    # All of it but a tail: the agent may miss what a program wrote to its PTY just before it
    # exited (a known loss in `exec -t`, recording or not).
    everything = b"".join(b"%d\r\n" % i for i in range(1, 20001))
    assert everything.startswith(r.stdout) and len(r.stdout) > 64 * 1024
    assert r.stderr == b"hvterm: cannot write the recording /dev/full: no space left on device; " \
                       b"it lacks the output from here on\n"


def test_a_recording_into_a_pipe(agent):
    # --record >(gzip > s.cast.gz): the process's own descriptor, followed and not emptied.
    read_end, write_end = os.pipe()
    proc = subprocess.Popen([HVTERM, "exec", "-t", "--record", "/dev/fd/%d" % write_end, agent.target, "--",
                             "printf", "piped\\n"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=BASE_ENV, pass_fds=(write_end,))
    os.close(write_end)
    with os.fdopen(read_end, "rb") as f:
        lines = f.read().split(b"\n")
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 0 and err == b"" and out == b"piped\r\n"
    assert json.loads(lines[0])["version"] == 2
    events = [json.loads(line) for line in lines[1:-1]]
    assert output_bytes(events) == b"piped\r\n"
