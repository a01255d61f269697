"""hvterm shell through a real PTY, like a person at a keyboard (DESIGN §5 Interactive)."""
import os
import re
import subprocess
import termios

import pexpect

from conftest import HVTERM, BASE_ENV, PROMPT, TIMEOUT, hvterm, spawn_shell


def test_prompt_echo_and_command_output(agent):
    child = spawn_shell(agent.target)
    child.expect_exact(PROMPT)
    child.sendline("echo hel''lo")
    child.expect_exact("echo hel''lo")  # the typed command is echoed by the remote terminal
    child.expect_exact("hello")
    child.expect_exact(PROMPT)
    child.sendline("exit 5")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 5


def test_window_size_at_start_and_after_resize(agent):
    child = spawn_shell(agent.target, rows=33, cols=101)
    child.expect_exact(PROMPT)
    child.sendline("stty size")
    child.expect_exact("33 101")
    child.setwinsize(47, 132)
    # The remote shell learns of the change from SIGWINCH; ask until it reports the new size.
    child.sendline("stty size")
    child.expect_exact("47 132")
    child.sendline("exit")
    child.expect(pexpect.EOF)


def test_term_is_forwarded(agent):
    env = dict(BASE_ENV, TERM="vt220")
    child = spawn_shell(agent.target, env=env)
    child.expect_exact(PROMPT)
    child.sendline('echo "term=$TERM"')
    child.expect_exact("term=vt220")
    child.sendline("exit")
    child.expect(pexpect.EOF)


def test_detach_restores_the_terminal_exactly(agent):
    # Put our own PTY in a distinctive mode, then check it is exactly that after ~.
    master, slave = os.openpty()
    attrs = termios.tcgetattr(slave)
    attrs[3] &= ~termios.ECHOCTL
    attrs[6][termios.VINTR] = b"\x07"
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    before = termios.tcgetattr(slave)
    proc = subprocess.Popen([HVTERM, "shell", agent.target, "--env", "PS1=" + PROMPT, "--", "/bin/bash", "--norc"],
                            stdin=slave, stdout=slave, stderr=slave, env=BASE_ENV, start_new_session=True)
    seen = b""
    while PROMPT.encode() not in seen:
        seen += os.read(master, 4096)
    assert termios.tcgetattr(slave) != before  # raw while bridged
    os.write(master, b"\r~.")
    assert proc.wait(timeout=TIMEOUT) == 0
    assert termios.tcgetattr(slave) == before
    os.close(master)
    os.close(slave)


VIM_LIKE = r"printf '\033[?1049h\033[?1000h\033[?2004h\033=\033[?25lREADY'"
VIM_LIKE_RESTORED = b"\x1b[?1000l\x1b[?2004l\x1b>\x1b[?1049l\x1b[?25h"


def test_detach_turns_off_the_modes_the_program_left_on_before_the_notice(agent):
    child = pexpect.spawn(HVTERM, ["shell", agent.target, "--", "sh", "-c", VIM_LIKE + "; sleep 100"],
                          env=BASE_ENV, timeout=TIMEOUT)
    child.expect_exact("READY")
    child.send("~.")
    child.expect(pexpect.EOF)
    after = child.before
    child.close()
    assert child.exitstatus == 0
    notice = re.fullmatch(re.escape(VIM_LIKE_RESTORED) +
                          rb"\r\nhvterm: detached from session ([0-9a-f]{8}); [^\r]*\r\n", after)
    assert notice, after
    assert hvterm("kill", "--close", agent.target, notice.group(1).decode()).returncode == 0


def test_detach_from_a_program_that_changed_no_mode_writes_only_the_notice(agent):
    child = pexpect.spawn(HVTERM, ["shell", agent.target, "--", "sh", "-c", "echo READY; sleep 100"],
                          env=BASE_ENV, timeout=TIMEOUT)
    child.expect_exact("READY\r\n")
    child.send("~.")
    child.expect(pexpect.EOF)
    notice = re.fullmatch(rb"\r\nhvterm: detached from session ([0-9a-f]{8}); [^\r]*\r\n", child.before)
    assert notice, child.before
    child.close()
    assert hvterm("kill", "--close", agent.target, notice.group(1).decode()).returncode == 0


def test_a_program_that_ends_with_its_modes_on_leaves_the_terminal_restored(agent):
    child = pexpect.spawn(HVTERM, ["shell", agent.target, "--", "sh", "-c", VIM_LIKE + "; exit 3"],
                          env=BASE_ENV, timeout=TIMEOUT)
    child.expect_exact("READY")
    child.expect(pexpect.EOF)
    assert child.before == VIM_LIKE_RESTORED, child.before
    child.close()
    assert child.exitstatus == 3


def test_output_to_a_file_is_not_followed_or_restored(agent, workdir):
    # Only the terminal is ours to restore: with stdout redirected, the bytes are the program's alone.
    out = os.path.join(workdir, "modes.out")
    child = pexpect.spawn("/bin/sh", ["-c", f"exec {HVTERM} shell {agent.target} -- sh -c \"{VIM_LIKE}; exit 3\" > {out}"],
                          env=BASE_ENV, timeout=TIMEOUT)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 3
    with open(out, "rb") as f:
        assert f.read() == b"\x1b[?1049h\x1b[?1000h\x1b[?2004h\x1b=\x1b[?25lREADY"


def test_tilde_tilde_sends_one_tilde(agent):
    child = spawn_shell(agent.target)
    child.expect_exact(PROMPT)
    child.send("~~x\r")  # at line start: ~~ is a literal ~
    child.expect_exact("~x: command not found")
    child.sendline("echo a~.b")  # mid-line ~. is not an escape
    child.expect_exact("a~.b")
    child.sendline("exit")
    child.expect(pexpect.EOF)


def test_escape_none_passes_tilde_dot_through(agent):
    child = spawn_shell(agent.target, "-e", "none")
    child.expect_exact(PROMPT)
    child.send("~.\r")
    child.expect_exact("~.: command not found")
    child.sendline("exit 0")
    child.expect(pexpect.EOF)


def test_custom_escape_character(agent):
    child = spawn_shell(agent.target, "-e", "%")
    child.expect_exact(PROMPT)
    child.send("~.\r")
    child.expect_exact("~.: command not found")
    child.send("%.")
    child.expect_exact("detached")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_escape_help_and_status(agent):
    child = spawn_shell(agent.target)
    child.expect_exact(PROMPT)
    child.send("~?")
    child.expect_exact("Supported escape sequences")
    child.send("~#")
    child.expect(r"session [0-9a-f]{32} on unix:.*connected")
    child.send("\r~.")
    child.expect(pexpect.EOF)


def test_suspend_and_resume(agent):
    # ~^Z stops the client like ^Z; a job-control shell around it resumes it with fg.
    child = pexpect.spawn("/bin/bash", ["--norc", "--noprofile"], env=dict(BASE_ENV, PS1="OUTER$ "),
                          timeout=TIMEOUT)
    child.expect_exact("OUTER$ ")
    child.sendline(f"'{HVTERM}' shell {agent.target} --env 'PS1={PROMPT}' -- /bin/bash --norc --noprofile")
    child.expect_exact(PROMPT)
    child.send("\r~\x1a")
    child.expect("Stopped")
    child.expect_exact("OUTER$ ")
    child.sendline("stty -a | grep -o ' icanon'")  # the outer terminal is back in cooked mode
    child.expect_exact(" icanon")
    child.sendline("fg")
    child.sendline("echo back-again")
    child.expect_exact("back-again")
    child.sendline("exit 4")
    child.expect_exact("OUTER$ ")
    child.sendline("echo status=$?")
    child.expect_exact("status=4")
    child.sendline("exit")
    child.expect(pexpect.EOF)


def test_utf8_and_control_bytes_pass_through(agent):
    child = spawn_shell(agent.target)
    child.expect_exact(PROMPT)
    child.sendline("printf 'gr\\303\\274\\303\\237e \\342\\234\\223\\n'")
    child.expect_exact("grüße ✓".encode())
    child.sendline("exit")
    child.expect(pexpect.EOF)


def test_ctrl_c_reaches_the_remote_program(agent):
    child = spawn_shell(agent.target)
    child.expect_exact(PROMPT)
    # "ready" is printed by the very process (after exec) that must receive the ^C.
    child.sendline("bash -c 'echo rea\"\"dy; exec sleep 100'; echo after-sleep")
    child.expect_exact("ready")
    child.sendcontrol("c")
    child.expect_exact(PROMPT)
    assert b"after-sleep" not in child.before.split(b"\n", 1)[-1]
    child.sendline("exit")
    child.expect(pexpect.EOF)


def test_shell_without_a_terminal_says_so(agent):
    r = hvterm("shell", agent.target, input=b"")
    assert r.returncode == 2
    assert b"not a terminal" in r.stderr and r.stderr.count(b"\n") == 1


def test_default_is_the_login_shell(agent):
    child = pexpect.spawn(HVTERM, ["exec", "-t", agent.target, "--", "sh", "-c", "echo $0"], env=BASE_ENV,
                          timeout=TIMEOUT)
    child.expect_exact("sh")
    child.expect(pexpect.EOF)


def test_log_keeps_a_transcript(agent, workdir):
    log = os.path.join(workdir, "session.log")
    child = spawn_shell(agent.target, "--log", log)
    child.expect_exact(PROMPT)
    child.sendline("echo transcri''bed")
    child.expect_exact("transcribed")
    child.sendline("exit")
    child.expect(pexpect.EOF)
    child.close()
    with open(log, "rb") as f:
        assert b"transcribed" in f.read()
    r = hvterm("exec", "--log", "/nonexistent/dir/x.log", agent.target, "--", "true")
    assert r.returncode == 2 and b"cannot open --log" in r.stderr
