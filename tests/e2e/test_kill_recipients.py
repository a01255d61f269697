"""hvterm kill: the session's own process (the PID ls shows) by default, the terminal's foreground
job with --foreground, and --close hangs the whole session up and discards it."""
import json
import subprocess

import pexpect

from conftest import HVTERM, BASE_ENV, PROMPT, hvterm, spawn_shell, wait_for


def sessions(agent):
    return json.loads(hvterm("ls", agent.target, "--json", check=0).stdout)


def shell_running_sleep(agent, name):
    """A shell (with job control) whose foreground job is `sleep 1000`; returns the client and the
    pids of the shell and of sleep."""
    child = spawn_shell(agent.target, "-n", name)
    child.expect_exact(PROMPT)
    child.sendline("echo shell-$$; sleep 1000")
    child.expect(r"shell-(\d+)")
    shell_pid = int(child.match.group(1))
    wait_for(lambda: any(name == "sleep" for _, name in agent_descendants(agent)), "sleep to start")
    (s,) = [s for s in sessions(agent) if s["name"] == name]
    assert s["pid"] == shell_pid  # what ls shows is the shell
    return child, shell_pid


def agent_descendants(agent):
    out = []
    frontier = [agent.proc.pid]
    while frontier:
        parent = frontier.pop()
        r = subprocess.run(["ps", "-o", "pid=,comm=", "--ppid", str(parent)], capture_output=True, text=True)
        for line in r.stdout.splitlines():
            pid, name = line.split(None, 1)
            out.append((int(pid), name.strip()))
            frontier.append(int(pid))
    return out


def test_kill_signals_the_process_ls_shows_not_the_foreground_job(agent):
    child, _ = shell_running_sleep(agent, "job")
    hvterm("kill", agent.target, "job", "-s", "KILL", check=0)
    child.expect(pexpect.EOF)  # the shell died, so the session ended
    child.close()
    assert child.exitstatus == 128 + 9, child.before  # the shell's status, collected by its client
    # The hang-up of its terminal took the job with it: nothing is left running.
    wait_for(lambda: agent_descendants(agent) == [], "the job to go with its terminal")
    wait_for(lambda: sessions(agent) == [], "the session to be collected")


def test_kill_foreground_signals_the_job_and_the_shell_goes_on(agent):
    child, shell_pid = shell_running_sleep(agent, "fg")
    hvterm("kill", agent.target, "fg", "--foreground", "-s", "KILL", check=0)
    child.expect_exact(PROMPT)  # the job died; the shell is back
    child.sendline("echo still-$$")
    child.expect_exact(f"still-{shell_pid}")
    (s,) = sessions(agent)
    assert s["state"] == "attached"
    hvterm("kill", agent.target, "fg", "--close", check=0)
    child.expect(pexpect.EOF)


def test_close_hangs_up_and_discards_an_attached_session(agent):
    child, _ = shell_running_sleep(agent, "gone")
    hvterm("kill", agent.target, "gone", "--close", check=0)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 255
    assert b"no longer exists in the agent" in child.before, child.before
    wait_for(lambda: sessions(agent) == [], "the session to be discarded")
    wait_for(lambda: agent_descendants(agent) == [], "its processes to be gone")


def test_close_discards_a_detached_session_and_its_output(agent):
    proc = subprocess.Popen([HVTERM, "exec", "--no-reconnect", "-n", "quiet", agent.target, "--", "sh", "-c",
                             "echo unread; sleep 1000"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env=BASE_ENV)
    wait_for(lambda: [s["name"] for s in sessions(agent)] == ["quiet"], "the session")
    proc.kill()
    proc.wait()
    wait_for(lambda: sessions(agent)[0]["state"] == "detached", "the session to detach")
    hvterm("kill", agent.target, "quiet", "--close", check=0)
    wait_for(lambda: sessions(agent) == [], "the session to be discarded")
    wait_for(lambda: agent_descendants(agent) == [], "sleep to be gone")
    r = hvterm("attach", agent.target, "quiet")
    assert r.returncode == 255 and b"no session named 'quiet'" in r.stderr


def test_close_takes_no_signal_and_no_foreground(agent):
    for extra in (["-s", "KILL"], ["--foreground"]):
        r = hvterm("kill", agent.target, "x", "--close", *extra)
        assert r.returncode == 2 and r.stderr == (b"hvterm: kill --close hangs the whole session up: it takes neither "
                                                  b"--signal nor --foreground\n"), r
