"""What a session's program finds in its environment: the client's locale and COLORTERM (unless
--no-env-forward or the config's env-forward = false; --env wins over them), even from an agent
that runs with an empty environment as a service does; HVTERM_SESSION and HVTERM_CLIENT always."""
import json
import os

import pexpect
import pytest

from conftest import HVTERM, BASE_ENV, PROMPT, SHELL, SHELL_ENV, TIMEOUT, Agent, hvterm

SHOW = ["--", "sh", "-c", 'printf "[%s|%s|%s|%s]" "$LANG" "$LC_TIME" "$COLORTERM" "$LC_ALL"']
CLIENT_ENV = dict(BASE_ENV, LANG="C.UTF-8", LC_TIME="POSIX", COLORTERM="truecolor")


@pytest.fixture
def bare_agent(workdir):
    """An agent started as `env -i` would start it (only the guard that keeps it off this machine's vsock)."""
    a = Agent(workdir, env={"HVTERM_NO_VSOCK": "1"})
    yield a
    a.stop()
    assert a.proc.returncode == 0, a.read_log()


def test_the_agent_has_no_locale_of_its_own(bare_agent):
    r = hvterm("exec", "--no-env-forward", bare_agent.target, *SHOW, env=CLIENT_ENV, check=0)
    assert r.stdout == b"[|||]"


def test_the_clients_locale_and_colorterm_reach_the_program(bare_agent):
    assert hvterm("exec", bare_agent.target, *SHOW, env=CLIENT_ENV, check=0).stdout == b"[C.UTF-8|POSIX|truecolor|]"
    # With a UTF-8 locale, characters are characters (the issue: wc -m counted bytes).
    r = hvterm("exec", bare_agent.target, "--", "sh", "-c", "printf '\\303\\251t\\303\\251' | wc -m", env=CLIENT_ENV,
               check=0)
    assert r.stdout.strip() == b"3"
    r = hvterm("exec", "--no-env-forward", bare_agent.target, "--", "sh", "-c", "printf '\\303\\251t\\303\\251' | wc -m",
               env=CLIENT_ENV, check=0)
    assert r.stdout.strip() == b"5"


def test_locale_in_a_pty_session(bare_agent):
    child = pexpect.spawn(HVTERM, ["shell", bare_agent.target, *SHELL_ENV, *SHELL], env=CLIENT_ENV, timeout=TIMEOUT)
    child.expect_exact(PROMPT)
    child.sendline("locale | grep -E '^(LANG|LC_CTYPE|LC_TIME)='")
    child.expect_exact("LANG=C.UTF-8")
    child.expect_exact('LC_CTYPE="C.UTF-8"')
    child.expect_exact("LC_TIME=POSIX")
    child.expect_exact(PROMPT)
    child.sendline("exit")
    child.expect(pexpect.EOF)


def test_env_wins_over_forwarded_values(bare_agent):
    r = hvterm("exec", "--env", "LANG=C", "--env", "COLORTERM=", bare_agent.target, *SHOW, env=CLIENT_ENV, check=0)
    assert r.stdout == b"[C|POSIX||]"


def test_the_config_can_turn_forwarding_off(bare_agent, workdir):
    xdg = os.path.join(workdir, "xdg")
    os.makedirs(os.path.join(xdg, "hvterm"))
    with open(os.path.join(xdg, "hvterm", "config"), "w") as f:
        f.write(f'[vm]\ntarget = "{bare_agent.target}"\nenv-forward = false\n')
    env = dict(CLIENT_ENV, XDG_CONFIG_HOME=xdg, HVTERM_CONFIG_SYSTEM=os.path.join(workdir, "none"))
    assert hvterm("exec", "vm", *SHOW, env=env, check=0).stdout == b"[|||]"
    shown = hvterm("config", "vm", env=env, check=0).stdout.decode()
    assert "env-forward" in shown and "false" in shown, shown


def test_the_program_knows_its_session_and_how_the_client_came(agent):
    show = ["--", "sh", "-c", 'printf "%s %s" "$HVTERM_SESSION" "$HVTERM_CLIENT"; sleep 1000']
    proc = pexpect.spawn(HVTERM, ["exec", "-t", "-n", "who", "--env", "HVTERM_SESSION=forged", agent.target, *show],
                         env=BASE_ENV, timeout=TIMEOUT)
    proc.expect(r"([0-9a-f]{32}) (\w+)")
    session, client = proc.match.group(1).decode(), proc.match.group(2).decode()
    (listed,) = json.loads(hvterm("ls", agent.target, "--json", check=0).stdout)
    assert session == listed["id"] and client == "unix"  # the agent's facts win over --env
    hvterm("kill", agent.target, "who", "--close", check=0)
    proc.expect(pexpect.EOF)
