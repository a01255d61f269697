"""Shell completion scripts in completions/: bash, zsh and fish driven for real, PowerShell checked
statically (no PowerShell on Linux test machines).

bash: the completion function is called in `bash --norc` with COMP_WORDS/COMP_CWORD/COMP_LINE/
COMP_POINT split the way readline splits them (':' and '=' are word breaks), and COMPREPLY is
checked; a few lines are also completed by real readline in an interactive bash on a PTY.
zsh: an interactive `zsh` on a PTY with compinit, where a wrapper around compadd records every match
the completion system adds. fish: `complete -C`.

Session ids come from a real agent: `hvtermd --listen unix:...` (never vsock) with a detached and an
exited session. The binaries are taken from $HVTERM_BIN_DIR (default: the build/ directory of this
checkout). Run: /usr/bin/python3 -m pytest tests/completions
"""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import pytest

try:
    import pexpect
except ImportError:  # the interactive tests need it; the rest do not
    pexpect = None

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
COMPLETIONS = os.path.join(ROOT, "completions")
BIN = os.path.abspath(os.environ.get("HVTERM_BIN_DIR", os.path.join(ROOT, "build")))
HVTERM = os.path.join(BIN, "hvterm")
HVTERMD = os.path.join(BIN, "hvtermd")
BASH_SCRIPT = os.path.join(COMPLETIONS, "hvterm.bash")
BASHD_SCRIPT = os.path.join(COMPLETIONS, "hvtermd.bash")

SUBCOMMANDS = ["shell", "exec", "nc", "cp", "forward", "attach", "ls", "kill", "ping", "vms", "config", "service-id", "port", "register"]
SIGNALS = ["HUP", "INT", "QUIT", "KILL", "USR1", "USR2", "PIPE", "TERM", "CONT", "STOP", "TSTP", "WINCH"]
TARGET_FORMS = ["local", "unix:", "vsock:", "hybrid:", "hv:"]
LOG_LEVELS = ["debug", "info", "warn", "error", "quiet"]
FORWARD_POLICIES = ["none", "local", "any"]
# nc's DESTINATION: [HOST:]PORT is free-form; only the socket forms are offered.
DESTINATION_FORMS = ["unix:", "pipe:"]
# -L/-R as the forward contract has them: forward, shell and exec take both. The C++ may not list
# them all in --help yet (forward -R, shell/exec -L/-R), so the completions are held to --help plus these.
FORWARDS = {"-L", "--local", "-R", "--remote"}
CONTRACT = {"forward": FORWARDS, "shell": FORWARDS, "exec": FORWARDS}
# Options no ordinary command has: offered after `--`, they would be hvterm's own.
HVTERM_ONLY = {"--no-reconnect", "--keepalive", "--dead-timeout", "--connect-timeout", "--reconnect-timeout"}

pytestmark = pytest.mark.skipif(not (os.access(HVTERM, os.X_OK) and os.access(HVTERMD, os.X_OK)),
                                reason=f"hvterm/hvtermd not built in {BIN}")


def base_env(**extra):
    env = {
        "PATH": BIN + ":/usr/local/bin:/usr/bin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        # No config file of this machine's: its names would show up among the targets.
        "XDG_CONFIG_HOME": "/nonexistent/config",
        "HVTERM_CONFIG_SYSTEM": "/nonexistent/hvterm-config",
    }
    env.update(extra)
    return env


def wait_for(predicate, what, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def help_options(*args):
    """The options `hvterm ... --help` (or hvtermd) documents, as a set such as {'-p', '--port'}."""
    out = subprocess.run(list(args) + ["--help"], capture_output=True, text=True, check=True).stdout
    options, in_options = set(), False
    for line in out.splitlines():
        if line.startswith("Options:"):
            in_options = True
        elif in_options and not line.strip():
            in_options = False
        elif in_options:
            m = re.match(r"^  (-\S+)", line)
            if m:
                options.update(m.group(1).split(","))
    assert options, out
    return options


def sub_options(sub):
    """The options of `hvterm SUB --help`, with -L/-R where the forward contract puts them."""
    return help_options(HVTERM, sub) | CONTRACT.get(sub, set())


def help_subcommands():
    out = subprocess.run([HVTERM, "--help"], capture_output=True, text=True, check=True).stdout
    section = out.split("Subcommands:")[1].split("\n\n")[0]
    return [line.split()[0] for line in section.splitlines() if line.strip()]


# ---- a real agent with a detached and an exited session -------------------------------------------

class Agent:
    def __init__(self, sock, env):
        self.sock = sock
        self.target = "unix:" + sock
        self.env = env
        self.log = open(sock + ".log", "wb")
        # Always --listen unix:...: without it the agent would use vsock.
        self.proc = subprocess.Popen([HVTERMD, "--listen", self.target, "--log-level", "debug"],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=env)
        wait_for(lambda: os.path.exists(sock) or self.proc.poll() is not None, "agent socket " + sock)
        assert self.proc.poll() is None, "hvtermd exited"

    def sessions(self):
        r = subprocess.run([HVTERM, "ls", self.target, "--json"], capture_output=True, text=True, env=self.env)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def abandoned_session(self, *command, options=()):
        """Start COMMAND in a session whose client then dies (SIGKILL): the session stays, detached.
        Returns its full id."""
        before = {s["id"] for s in self.sessions()}
        client = subprocess.Popen([HVTERM, "exec", "--no-reconnect", *options, self.target, "--", *command],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  env=self.env)
        new = wait_for(lambda: [s for s in self.sessions() if s["id"] not in before], "the new session")
        client.send_signal(signal.SIGKILL)
        client.wait()
        session_id = new[0]["id"]
        wait_for(lambda: any(s["id"] == session_id and s["state"] != "attached" for s in self.sessions()),
                 "the session to be detached")
        return session_id

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def tmp():
    # Short, under /tmp: Unix socket paths are limited to ~108 bytes.
    d = tempfile.mkdtemp(prefix="hvc-", dir="/tmp")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="module")
def agent(tmp):
    a = Agent(os.path.join(tmp, "a.sock"), base_env())
    try:
        a.running = a.abandoned_session("sleep", "100")
        # It exits only when told, after its client is gone: a program that ended on its own
        # clock could end while the client is still attached, which collects it before ls sees it.
        release = os.path.join(tmp, "release")
        a.exited = a.abandoned_session("sh", "-c", f"while [ ! -e '{release}' ]; do sleep 0.05; done")
        open(release, "w").close()
        wait_for(lambda: any(s["id"] == a.exited and s["state"] == "exited" for s in a.sessions()),
                 "the second session to exit")
        yield a
    finally:
        a.stop()


@pytest.fixture(scope="module")
def named_agent(tmp):
    """An agent with one session named build.1 (and its id)."""
    a = Agent(os.path.join(tmp, "n.sock"), base_env())
    try:
        a.running = a.abandoned_session("sleep", "100", options=("-n", "build.1"))
        yield a
    finally:
        a.stop()


@pytest.fixture(scope="module")
def local_agent(tmp):
    """An agent where the `local` target looks for it, under a private XDG_RUNTIME_DIR."""
    runtime = os.path.join(tmp, "xdg")
    os.makedirs(os.path.join(runtime, "hvterm"), mode=0o700)
    os.chmod(runtime, 0o700)
    a = Agent(os.path.join(runtime, "hvterm", "agent.sock"), base_env(XDG_RUNTIME_DIR=runtime))
    try:
        a.runtime = runtime
        a.running = a.abandoned_session("sleep", "100")
        yield a
    finally:
        a.stop()


# ---- bash -----------------------------------------------------------------------------------------

BASH_BREAKS = "\"'><=;|&(:"


def bash_split(line, breaks=BASH_BREAKS):
    """COMP_WORDS for LINE with the cursor at its end, split as readline splits it: at whitespace, and
    runs of COMP_WORDBREAKS characters (outside quotes) become words of their own."""
    breaks = set(breaks) - set("\"'")
    words, cur, kind, i = [], "", None, 0
    while i < len(line):
        c = line[i]
        if c in " \t\n":
            if kind:
                words.append(cur)
                cur, kind = "", None
            i += 1
            continue
        if c in breaks:
            if kind == "w":
                words.append(cur)
                cur = ""
            kind = "b"
            cur += c
            i += 1
            continue
        if kind == "b":
            words.append(cur)
            cur = ""
        kind = "w"
        if c == "\\" and i + 1 < len(line):
            cur += line[i:i + 2]
            i += 2
        elif c in "'\"":
            j = line.find(c, i + 1)
            j = len(line) if j < 0 else j + 1
            cur += line[i:j]
            i = j
        else:
            cur += c
            i += 1
    if kind:
        words.append(cur)
    if not line or line[-1] in " \t":
        words.append("")
    return words


BASH_DRIVER = r'''
compopt() { printf '%s\n' "$*" >> "$COMPOPT_LOG"; }
source "$1" || exit 99
func=$2 COMP_LINE=$3 COMP_POINT=$4 COMP_CWORD=$5
[[ -n $6 ]] && COMP_WORDBREAKS=$6
shift 6
COMP_WORDS=("$@")
"$func"
status=$?
for reply in "${COMPREPLY[@]}"; do printf '%s\n' "$reply"; done
exit $status
'''


def bash_complete(line, script=BASH_SCRIPT, func="_hvterm", env=None, breaks=None, opts=None):
    """COMPREPLY of the completion function for LINE (cursor at its end). If OPTS is a list, the
    compopt calls the function made are appended to it."""
    words = bash_split(line, breaks if breaks is not None else BASH_BREAKS)
    with tempfile.NamedTemporaryFile("r") as log:
        e = dict(env or base_env())
        e["COMPOPT_LOG"] = log.name
        r = subprocess.run(["bash", "--norc", "--noprofile", "-c", BASH_DRIVER, "driver", script, func, line,
                            str(len(line)), str(len(words) - 1), breaks or "", *words],
                           capture_output=True, text=True, env=e, timeout=30)
        if opts is not None:
            opts.extend(log.read().split())
    assert r.returncode == 0, (line, r.returncode, r.stderr)
    assert r.stderr == "", (line, r.stderr)
    return r.stdout.splitlines()


def test_bash_scripts_source_cleanly():
    for script, name, func in [(BASH_SCRIPT, "hvterm", "_hvterm"), (BASHD_SCRIPT, "hvtermd", "_hvtermd")]:
        r = subprocess.run(["bash", "--norc", "--noprofile", "-c", f'source "$1" && complete -p {name}', "x", script],
                           capture_output=True, text=True)
        assert r.returncode == 0 and r.stderr == "", r.stderr
        assert r.stdout.strip() == f"complete -F {func} {name}"


def test_bash_subcommands():
    assert bash_complete("hvterm ") == help_subcommands() == SUBCOMMANDS
    assert bash_complete("hvterm ex") == ["exec"]
    assert bash_complete("hvterm s") == ["shell", "service-id"]
    assert set(bash_complete("hvterm -")) == help_options(HVTERM)


@pytest.mark.parametrize("sub", SUBCOMMANDS)
def test_bash_options_of_each_subcommand(sub):
    offered = bash_complete(f"hvterm {sub} -")
    assert len(offered) == len(set(offered))
    extra = {"--"} if sub in ("shell", "exec") else set()
    assert set(offered) == sub_options(sub) | extra
    assert set(bash_complete(f"hvterm {sub} --")) == {o for o in sub_options(sub) if o.startswith("--")} | extra


def test_bash_option_values():
    assert bash_complete("hvterm shell -e ") == ["none", "\\~", "%"]  # a bare ~ would be expanded
    assert bash_complete("hvterm attach --escape ") == ["none", "\\~", "%"]
    assert bash_complete("hvterm exec --escape=") == ["none", "~", "%"]
    assert bash_complete("hvterm exec --escape=n") == ["none"]
    assert bash_complete("hvterm kill -s ") == SIGNALS
    assert bash_complete("hvterm kill unix:/x --signal ") == SIGNALS
    assert bash_complete("hvterm kill --signal=W") == ["WINCH"]
    assert bash_complete("hvterm kill -s sigu") == ["SIGUSR1", "SIGUSR2"]
    assert bash_complete("hvterm ls --token-file /etc/hostnam") == ["/etc/hostname"]
    assert bash_complete("hvterm ls --token-file=/etc/hostnam") == ["/etc/hostname"]
    # Free-form values: nothing to offer, and certainly not the subcommand's options or targets.
    for line in ["hvterm shell -p ", "hvterm exec --connect-timeout ", "hvterm exec -u ", "hvterm exec --env ",
                 "hvterm ping --wait ", "hvterm register --name ", "hvterm exec -w "]:
        assert bash_complete(line) == [], line
    # A value is not a positional: the word after it is still the TARGET.
    assert bash_complete("hvterm exec -p 5000 ") == TARGET_FORMS
    assert bash_complete("hvterm exec --env A=B -e none ") == TARGET_FORMS


def valued_options(sub):
    """The options of `hvterm SUB --help` that take a value (those shown with a type)."""
    out = subprocess.run([HVTERM, sub, "--help"], capture_output=True, text=True, check=True).stdout
    return [name for names, _ in re.findall(r"^  (-\S+) ([A-Z]\S*)", out, re.M) for name in names.split(",")]


@pytest.mark.parametrize("sub", ["shell", "exec", "nc", "forward", "attach", "ls", "kill", "ping"])
def test_bash_option_values_are_not_targets(sub):
    """Every option that takes a value is known as one: its value is not taken for the TARGET."""
    for option in set(valued_options(sub)) | CONTRACT.get(sub, set()):
        assert bash_complete(f"hvterm {sub} {option} ") != TARGET_FORMS, option
        assert bash_complete(f"hvterm {sub} {option} 1 ") == TARGET_FORMS, option


def test_bash_targets(tmp):
    sub = os.path.join(tmp, "dir")
    os.makedirs(sub, exist_ok=True)
    open(os.path.join(tmp, "vm.sock"), "w").close()
    for cmd in ["shell", "exec", "nc", "forward", "attach", "ls", "kill", "ping"]:
        assert bash_complete(f"hvterm {cmd} ") == TARGET_FORMS, cmd
    opts = []
    assert bash_complete("hvterm shell un", opts=opts) == ["unix:"]
    assert "nospace" in opts
    opts = []
    assert bash_complete("hvterm ls lo", opts=opts) == ["local"]
    assert "nospace" not in opts
    # After unix: and hybrid: come paths. readline replaces only what follows the ':'.
    assert sorted(bash_complete(f"hvterm ls unix:{tmp}/")) >= sorted([f"{tmp}/dir/", f"{tmp}/vm.sock"])
    assert bash_complete(f"hvterm ls unix:{tmp}/vm") == [f"{tmp}/vm.sock"]
    opts = []
    assert bash_complete(f"hvterm exec hybrid:{tmp}/vm", opts=opts) == [f"{tmp}/vm.sock"]
    assert "nospace" in opts  # :PORT follows
    assert bash_complete("hvterm ls vsock:") == []
    assert bash_complete("hvterm ls hv:") == []
    # With ':' taken out of COMP_WORDBREAKS the whole word is replaced.
    no_colon = BASH_BREAKS.replace(":", "")
    assert bash_complete(f"hvterm ls unix:{tmp}/vm", breaks=no_colon) == [f"unix:{tmp}/vm.sock"]
    assert bash_complete(f"hvterm ls unix:{tmp}/d", breaks=no_colon) == [f"unix:{tmp}/dir/"]
    # A second positional of ls/ping: nothing.
    assert bash_complete(f"hvterm ls unix:{tmp}/vm.sock ") == []


NAMES = ["db", "web1", "web2"]


@pytest.fixture(scope="module")
def named(tmp):
    """A system config file naming db, web1 and web2 (and -F's own file naming solo)."""
    path = os.path.join(tmp, "names.toml")
    with open(path, "w") as f:
        f.write('[web1]\ntarget = "vsock:3"\n[web2]\ntarget = "vsock:4"\n[db]\nuser = "postgres"\n')
    only = os.path.join(tmp, "only.toml")
    with open(only, "w") as f:
        f.write('[solo]\ntarget = "vsock:9"\n')
    return {"env": base_env(HVTERM_CONFIG_SYSTEM=path), "only": only}


def test_bash_offers_the_configured_names(named):
    env = named["env"]
    assert bash_complete("hvterm shell ", env=env) == TARGET_FORMS + NAMES
    assert bash_complete("hvterm exec we", env=env) == ["web1", "web2"]
    assert bash_complete("hvterm config ", env=env) == NAMES
    assert bash_complete(f"hvterm ls -F {named['only']} ", env=env) == TARGET_FORMS + ["solo"]
    assert bash_complete(f"hvterm config --config={named['only']} ", env=env) == ["solo"]
    assert bash_complete("hvterm exec -F ", env=env) != TARGET_FORMS + NAMES  # a file, not a target


def test_bash_nc_destination(tmp):
    opts = []
    assert bash_complete("hvterm nc vsock:3 ", opts=opts) == DESTINATION_FORMS
    assert bash_complete("hvterm nc -p 5000 --keepalive 1s vsock:3 p") == ["pipe:"]
    assert bash_complete(f"hvterm nc unix:{tmp}/a.sock u", opts=opts) == ["unix:"]
    assert "nospace" in opts  # PATH follows
    # Paths and ports in the guest: nothing to offer from here. Nothing after DESTINATION either.
    for line in ["hvterm nc x unix:", "hvterm nc x unix:/ru", "hvterm nc x 2", "hvterm nc x localhost:",
                 "hvterm nc x 22 ", "hvterm nc --keepalive "]:
        assert bash_complete(line) == [], line
    # nc has no options of shell/exec's.
    assert not set(bash_complete("hvterm nc -")) & {"-e", "--escape", "--log", "--record", "-u", "--env", "--"}


def test_bash_forward():
    assert bash_complete("hvterm f") == ["forward"]
    assert bash_complete("hvterm forward -L 8080:80 -p 5 ") == TARGET_FORMS
    # cp's -p is --preserve, no value: what follows it is an operand, as after --port 5.
    operands = bash_complete("hvterm cp --port 5 ")
    assert operands and bash_complete("hvterm cp -p ") == operands
    # SPEC is free-form: nothing to offer, not the targets, not options.
    for line in ["hvterm forward -L ", "hvterm forward vsock:3 --remote ", "hvterm forward x -L 8080:",
                 "hvterm forward --local=", "hvterm shell -R ", "hvterm exec x -L 2222:"]:
        assert bash_complete(line) == [], line
    assert bash_complete("hvterm forward x -R 3128:proxy:3128 -") == bash_complete("hvterm forward -")
    assert bash_complete("hvterm forward x --lo") == ["--local"]
    assert set(bash_complete("hvterm exec -")) >= FORWARDS and set(bash_complete("hvterm shell -")) >= FORWARDS
    # forward has no options of shell/exec's, nor a command.
    assert not set(bash_complete("hvterm forward -")) & {"-e", "--escape", "--log", "--record", "-u", "--env", "-w",
                                                       "--"}
    assert bash_complete("hvterm forward x ") == []
    # -L's value is not the command of exec.
    assert bash_complete("hvterm exec -L 8080:80 x ") == ["--"]


def test_bash_session_ids_from_the_agent(agent):
    running, exited = agent.running[:8], agent.exited[:8]
    assert running != exited
    line = f"hvterm attach {agent.target} "
    assert sorted(bash_complete(line)) == sorted([running, exited])
    assert bash_complete(line + running[:3]) == [running]
    # kill: only sessions whose program still runs.
    assert bash_complete(f"hvterm kill {agent.target} ") == [running]
    # Options before or around the target are skipped; -p and -q do not disturb the query.
    assert bash_complete(f"hvterm kill -s KILL -p 18518 {agent.target} ") == [running]
    assert bash_complete(f"hvterm attach -q --escape none {agent.target} ") != []
    # The program as typed (a path) is the one asked.
    assert bash_complete(f"{HVTERM} kill {agent.target} ") == [running]
    # Nothing more after SESSION.
    assert bash_complete(f"hvterm attach {agent.target} {running} ") == []


def test_bash_session_names_from_the_agent(named_agent):
    target = named_agent.target
    assert sorted(bash_complete(f"hvterm attach {target} ")) == sorted([named_agent.running[:8], "build.1"])
    assert bash_complete(f"hvterm kill --close {target} bu") == ["build.1"]


def test_bash_session_ids_need_a_reachable_agent(tmp):
    started = time.monotonic()
    assert bash_complete(f"hvterm attach unix:{tmp}/nobody.sock ") == []
    assert bash_complete(f"hvterm kill hybrid:{tmp}/nobody.sock:5 ") == []
    assert bash_complete("hvterm kill bad:target ") == []  # hvterm rejects it: a usage error, quietly
    assert time.monotonic() - started < 10
    # An hvterm that is not there: no ids, no error.
    env = base_env(PATH="/usr/bin:/bin")
    assert bash_complete(f"hvterm attach unix:{tmp}/nobody.sock ", env=env) == []


def test_bash_local_target_never_starts_an_agent(tmp):
    runtime = os.path.join(tmp, "xdg-empty")
    os.makedirs(runtime, mode=0o700, exist_ok=True)
    assert bash_complete("hvterm attach local ", env=base_env(XDG_RUNTIME_DIR=runtime)) == []
    time.sleep(0.3)
    assert not os.path.exists(os.path.join(runtime, "hvterm", "agent.sock"))


def test_bash_local_target_sessions(local_agent):
    env = base_env(XDG_RUNTIME_DIR=local_agent.runtime)
    assert bash_complete("hvterm attach local ", env=env) == [local_agent.running[:8]]


def test_bash_remote_command_is_not_ours(tmp):
    t = f"unix:{tmp}/a.sock"
    open(os.path.join(tmp, "payload.txt"), "w").close()
    assert bash_complete(f"hvterm exec {t} ") == ["--"]
    commands = bash_complete(f"hvterm exec {t} -- ech")
    assert "echo" in commands and len(commands) == len(set(commands))
    assert "echo" in bash_complete(f"hvterm shell -t {t} -- ech")
    assert bash_complete(f"hvterm exec {t} -- cat {tmp}/payl") == [f"{tmp}/payload.txt"]
    # The remote command's options are not hvterm's.
    for line in [f"hvterm exec {t} -- ls -", f"hvterm exec {t} -- ls --", f"hvterm exec {t} ls -",
                 f"hvterm shell {t} -- sh -c -", f"hvterm exec {t} -- ls -e "]:
        assert not set(bash_complete(line)) & (HVTERM_ONLY | {"none", "\\~"}), line
    # ssh style, without --: the word after TARGET is the command.
    assert "echo" in bash_complete(f"hvterm exec {t} ech")
    assert bash_complete(f"hvterm exec {t} cat {tmp}/payl") == [f"{tmp}/payload.txt"]


def test_bash_remote_command_uses_bash_completion_when_loaded():
    """With bash-completion loaded, the remote command gets its own completion through
    _command_offset, which takes an index into bash's own COMP_WORDS."""
    driver = BASH_SCRIPT + ".with-offset"
    try:
        with open(driver, "w") as f:
            f.write('_command_offset() { COMPREPLY=("offset=$1" "word=${COMP_WORDS[$1]}"); }\n')
            f.write(f'source "{BASH_SCRIPT}"\n')
        # hvterm exec unix : /x/a.sock -- ls -> "ls" is COMP_WORDS[6]
        assert bash_complete("hvterm exec unix:/x/a.sock -- ls ", script=driver) == ["offset=6", "word=ls"]
        assert bash_complete("hvterm exec -e none vsock:3 ls -", script=driver) == ["offset=7", "word=ls"]
    finally:
        os.unlink(driver)


def test_bashd_options():
    offered = bash_complete("hvtermd -", BASHD_SCRIPT, "_hvtermd")
    assert set(offered) == help_options(HVTERMD)
    assert bash_complete("hvtermd --log-level ", BASHD_SCRIPT, "_hvtermd") == LOG_LEVELS
    assert bash_complete("hvtermd --log-level=w", BASHD_SCRIPT, "_hvtermd") == ["warn"]
    assert bash_complete("hvtermd --allow-cid ", BASHD_SCRIPT, "_hvtermd") == ["any", "2"]
    assert bash_complete("hvtermd --max-sessions ", BASHD_SCRIPT, "_hvtermd") == []
    assert bash_complete("hvtermd --forward ", BASHD_SCRIPT, "_hvtermd") == FORWARD_POLICIES
    assert bash_complete("hvtermd --forward=l", BASHD_SCRIPT, "_hvtermd") == ["local"]
    assert bash_complete("hvtermd --forward-allow ", BASHD_SCRIPT, "_hvtermd") == []
    assert bash_complete("hvtermd --max-forwards ", BASHD_SCRIPT, "_hvtermd") == []
    assert bash_complete("hvtermd --max-forwards 4 --forw", BASHD_SCRIPT, "_hvtermd") == ["--forward", "--forward-allow"]
    assert bash_complete("hvtermd --token-file /etc/hostnam", BASHD_SCRIPT, "_hvtermd") == ["/etc/hostname"]


def test_bashd_listen(tmp):
    d = lambda line, **kw: bash_complete(line, BASHD_SCRIPT, "_hvtermd", **kw)  # noqa: E731
    assert d("hvtermd --listen ") == ["unix:", "vsock:any:"]
    assert d("hvtermd -l v") == ["vsock:any:"]
    opts = []
    assert d("hvtermd --listen vsock:", opts=opts) == ["any:"]
    assert "nospace" in opts
    assert d("hvtermd --listen=") == ["unix:", "vsock:any:"]
    open(os.path.join(tmp, "vm.sock"), "w").close()
    assert d(f"hvtermd -l unix:{tmp}/vm") == [f"{tmp}/vm.sock"]
    assert d(f"hvtermd --listen=unix:{tmp}/vm") == [f"{tmp}/vm.sock"]
    assert d(f"hvtermd --port 1 --listen unix:{tmp}/vm") == [f"{tmp}/vm.sock"]


# ---- bash through real readline -------------------------------------------------------------------

def interactive_bash(env):
    b = pexpect.spawn("bash", ["--norc", "--noprofile", "-i"], env=env, encoding="utf-8", timeout=30,
                      dimensions=(50, 250))
    b.sendline(f'PS1="$ "; source {BASH_SCRIPT}; source {BASHD_SCRIPT}; '
               r"""bind -x '"\C-t": printf "\nLINE=[%s]\n" "$READLINE_LINE"'; echo READ""Y""")
    b.expect_exact("READY")
    return b


def readline_complete(b, text):
    """What the line holds after typing TEXT and one TAB."""
    b.send(text + "\t")
    b.send("\x14")  # C-t: print the line
    b.expect(r"LINE=\[(.*)\]\r\n")
    line = b.match.group(1)
    b.send("\x15")  # C-u: clear it
    return line


@pytest.mark.skipif(pexpect is None, reason="needs pexpect")
def test_bash_readline_end_to_end(agent, tmp):
    open(os.path.join(tmp, "vm.sock"), "w").close()
    b = interactive_bash(base_env())
    try:
        assert readline_complete(b, "hvterm ex") == "hvterm exec "
        assert readline_complete(b, "hvterm exec un") == "hvterm exec unix:"
        assert readline_complete(b, f"hvterm exec unix:{tmp}/vm") == f"hvterm exec unix:{tmp}/vm.sock "
        assert readline_complete(b, f"hvterm exec hybrid:{tmp}/vm") == f"hvterm exec hybrid:{tmp}/vm.sock"
        assert readline_complete(b, "hvterm kill --signal=TE") == "hvterm kill --signal=TERM "
        assert readline_complete(b, f"hvterm kill {agent.target} ") == f"hvterm kill {agent.target} {agent.running[:8]} "
        assert readline_complete(b, "hvterm exec x -- ech") == "hvterm exec x -- echo "
        assert readline_complete(b, "hvtermd --listen vs") == "hvtermd --listen vsock:any:"
        assert readline_complete(b, "hvterm nc vsock:3 pi") == "hvterm nc vsock:3 pipe:"
        assert readline_complete(b, "hvtermd --forward=lo") == "hvtermd --forward=local "
    finally:
        b.sendline("exit")
        b.close(force=True)


# ---- zsh ------------------------------------------------------------------------------------------

needs_zsh = pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed (apt-get install zsh)")

ZSHRC = r'''
fpath=(%(completions)s $fpath)
autoload -U compinit && compinit -u -D
unsetopt autolist listambiguous automenu listbeep beep
# Record every match the completion system adds (after its own matching against the word) in $HITS.
compadd() {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then
    builtin compadd "$@"
    return $?
  fi
  local -a __hits
  builtin compadd -A __hits "$@"
  local __ret=$?
  local -A __apre __hpre
  zparseopts -E P:=__apre p:=__hpre
  local __h
  for __h in $__hits; do
    print -r -- "$IPREFIX${__apre[-P]}${__hpre[-p]}$__h" >> $HITS
  done
  builtin compadd "$@"
  return $__ret
}
PS1='%%%% '
print READ""Y
'''


class Zsh:
    def __init__(self, tmp, env):
        self.dir = tempfile.mkdtemp(dir=tmp)
        with open(os.path.join(self.dir, ".zshrc"), "w") as f:
            f.write(ZSHRC % {"completions": COMPLETIONS})
        self.hits = os.path.join(self.dir, "hits")
        env = dict(env, ZDOTDIR=self.dir, HITS=self.hits)
        self.z = pexpect.spawn("zsh", ["-i"], env=env, encoding="utf-8", timeout=30, dimensions=(50, 250))
        self.z.expect_exact("READY")
        self.n = 0

    def complete(self, text):
        if os.path.exists(self.hits):
            os.unlink(self.hits)
        self.n += 1
        self.z.send(text + "\t")
        self.z.send("\x15")  # kill the line (keys wait until the completion is done)
        self.z.sendline(f"print DONE-{self.n}-")
        self.z.expect_exact(f"DONE-{self.n}-\r\n")
        if not os.path.exists(self.hits):
            return []
        with open(self.hits) as f:
            return f.read().splitlines()

    def close(self):
        self.z.sendline("exit")
        self.z.close(force=True)


@pytest.fixture(scope="module")
def zsh(tmp):
    if shutil.which("zsh") is None or pexpect is None:
        pytest.skip("needs zsh and pexpect")
    z = Zsh(tmp, base_env())
    yield z
    z.close()


@needs_zsh
def test_zsh_scripts_load(tmp):
    for name in ["_hvterm", "_hvtermd"]:
        # Sourced after compinit ...
        r = subprocess.run(["zsh", "-f", "-c", f"autoload -U compinit; compinit -u -D; source {COMPLETIONS}/{name}; "
                            "print -r -- $_comps[hvterm] $_comps[hvtermd]"],
                           capture_output=True, text=True, env=base_env(HOME=tmp))
        assert r.returncode == 0 and r.stderr == "", r.stderr
        assert name in r.stdout.split()
    # ... or found on $fpath by compinit.
    r = subprocess.run(["zsh", "-f", "-c", f"fpath=({COMPLETIONS} $fpath); autoload -U compinit; compinit -u -D; "
                        "print -r -- $_comps[hvterm] $_comps[hvtermd] $_comps[hvterm.exe]"],
                       capture_output=True, text=True, env=base_env(HOME=tmp))
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert r.stdout.split() == ["_hvterm", "_hvtermd", "_hvterm"]


@needs_zsh
def test_zsh_subcommands_and_options(zsh):
    assert zsh.complete("hvterm ") == SUBCOMMANDS
    assert zsh.complete("hvterm ex") == ["exec"]
    for sub in SUBCOMMANDS:
        offered = zsh.complete(f"hvterm {sub} -")
        assert set(offered) == sub_options(sub), sub
    assert set(zsh.complete("hvtermd -")) == help_options(HVTERMD)


@needs_zsh
def test_zsh_values_and_targets(zsh, tmp):
    open(os.path.join(tmp, "vm.sock"), "w").close()
    assert zsh.complete("hvterm shell -e ") in (["none", "\\~", "%"], ["none", "~", "%"])
    assert zsh.complete("hvterm kill -s ") == SIGNALS
    assert zsh.complete("hvterm kill --signal=") == ["--signal=" + s for s in SIGNALS]
    assert zsh.complete("hvtermd --log-level ") == LOG_LEVELS
    assert zsh.complete("hvtermd --forward ") == FORWARD_POLICIES
    assert zsh.complete("hvtermd --forward=") == ["--forward=" + p for p in FORWARD_POLICIES]
    assert zsh.complete("hvtermd --max-forwards ") == []
    assert zsh.complete("hvterm nc ") == TARGET_FORMS
    assert zsh.complete("hvterm nc -p 5 vsock:3 ") == DESTINATION_FORMS
    assert zsh.complete("hvterm nc x unix:") == []
    assert zsh.complete("hvtermd --listen ") == ["unix:", "vsock:any:"]
    assert zsh.complete(f"hvtermd --listen unix:{tmp}/vm") == [f"unix:{tmp}/vm.sock"]
    assert zsh.complete("hvterm exec ") == TARGET_FORMS
    assert zsh.complete("hvterm exec -p 5 ") == TARGET_FORMS
    assert zsh.complete(f"hvterm exec unix:{tmp}/vm") == [f"unix:{tmp}/vm.sock"]
    assert zsh.complete(f"hvterm ls hybrid:{tmp}/vm") == [f"hybrid:{tmp}/vm.sock"]


@needs_zsh
def test_zsh_forward(zsh):
    assert zsh.complete("hvterm f") == ["forward"]
    assert zsh.complete("hvterm forward ") == TARGET_FORMS
    assert zsh.complete("hvterm forward -L 8080:80 ") == TARGET_FORMS
    assert zsh.complete("hvterm forward -L ") == []
    assert zsh.complete("hvterm forward x -R ") == []
    assert not set(zsh.complete("hvterm forward -")) & {"-e", "--escape", "--log", "--record", "-u", "--env"}
    assert zsh.complete("hvterm exec -L 8080:80 x ") == ["--"]


@needs_zsh
def test_zsh_offers_the_configured_names(tmp, named):
    z = Zsh(tmp, named["env"])
    try:
        assert z.complete("hvterm exec ") == TARGET_FORMS + NAMES
        assert z.complete("hvterm exec we") == ["web1", "web2"]
        assert z.complete("hvterm config ") == NAMES
        assert z.complete(f"hvterm ls -F {named['only']} ") == TARGET_FORMS + ["solo"]
    finally:
        z.close()


@needs_zsh
def test_zsh_session_ids(zsh, agent):
    assert sorted(zsh.complete(f"hvterm attach {agent.target} ")) == sorted([agent.running[:8], agent.exited[:8]])
    assert zsh.complete(f"hvterm kill -s KILL {agent.target} ") == [agent.running[:8]]
    assert zsh.complete(f"hvterm attach unix:{agent.sock}.missing ") == []


@needs_zsh
def test_zsh_remote_command(zsh):
    assert zsh.complete("hvterm exec x ") == ["--"]
    assert "echo" in zsh.complete("hvterm exec x -- ech")
    assert "echo" in zsh.complete("hvterm exec x ech")
    for line in ["hvterm exec x -- ls -", "hvterm exec x ls -", "hvterm shell -e none x -- ls --"]:
        assert not set(zsh.complete(line)) & HVTERM_ONLY, line


# ---- fish -----------------------------------------------------------------------------------------

needs_fish = pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed (apt-get install fish)")


def fish_complete(line, tmp, env=None, script="hvterm.fish"):
    """The candidates (without descriptions) fish offers for LINE."""
    home = os.path.join(tmp, "fish-home")
    os.makedirs(home, exist_ok=True)
    e = dict(env or base_env())
    e.update(HOME=home, XDG_CONFIG_HOME=os.path.join(home, "config"), XDG_DATA_HOME=os.path.join(home, "data"))
    r = subprocess.run(["fish", "--no-config", "-c", f"source {COMPLETIONS}/{script}; complete -C $argv[1]", line],
                       capture_output=True, text=True, env=e, timeout=30)
    assert r.returncode == 0 and r.stderr == "", (line, r.stderr)
    return [c.split("\t")[0] for c in r.stdout.splitlines()]


@needs_fish
def test_fish_subcommands_and_options(tmp):
    assert "exec" in fish_complete("hvterm ex", tmp)
    assert sorted(fish_complete("hvterm ", tmp)) == sorted(SUBCOMMANDS)
    for sub in SUBCOMMANDS:
        assert set(fish_complete(f"hvterm {sub} -", tmp)) == sub_options(sub), sub
    assert set(fish_complete("hvtermd -", tmp, script="hvtermd.fish")) == help_options(HVTERMD)


@needs_fish
def test_fish_values_and_targets(tmp):
    open(os.path.join(tmp, "vm.sock"), "w").close()
    assert sorted(fish_complete("hvterm exec -e ", tmp)) == sorted(["none", "~", "%"])
    assert sorted(fish_complete("hvterm kill -s ", tmp)) == sorted(SIGNALS)
    assert sorted(fish_complete("hvterm kill --signal=", tmp)) == sorted("--signal=" + s for s in SIGNALS)
    assert sorted(fish_complete("hvterm exec ", tmp)) == sorted(TARGET_FORMS)
    assert sorted(fish_complete("hvterm exec -p 5 ", tmp)) == sorted(TARGET_FORMS)
    assert fish_complete(f"hvterm exec unix:{tmp}/vm", tmp) == [f"unix:{tmp}/vm.sock"]
    assert fish_complete(f"hvterm exec hybrid:{tmp}/vm", tmp) == [f"hybrid:{tmp}/vm.sock"]
    assert sorted(fish_complete("hvtermd --log-level ", tmp, script="hvtermd.fish")) == sorted(LOG_LEVELS)
    assert sorted(fish_complete("hvtermd --forward ", tmp, script="hvtermd.fish")) == sorted(FORWARD_POLICIES)
    assert fish_complete("hvtermd --max-forwards ", tmp, script="hvtermd.fish") == []
    assert sorted(fish_complete("hvterm nc ", tmp)) == sorted(TARGET_FORMS)
    assert sorted(fish_complete("hvterm nc -p 5 vsock:3 ", tmp)) == sorted(DESTINATION_FORMS)
    assert fish_complete("hvterm nc x unix:", tmp) == []
    assert fish_complete("hvterm nc x 22 ", tmp) == []
    assert sorted(fish_complete("hvtermd --listen ", tmp, script="hvtermd.fish")) == ["unix:", "vsock:any:"]
    assert fish_complete(f"hvtermd -l unix:{tmp}/vm", tmp, script="hvtermd.fish") == [f"unix:{tmp}/vm.sock"]


@needs_fish
def test_fish_forward(tmp):
    assert fish_complete("hvterm f", tmp) == ["forward"]
    assert sorted(fish_complete("hvterm forward ", tmp)) == sorted(TARGET_FORMS)
    assert sorted(fish_complete("hvterm forward -L 8080:80 ", tmp)) == sorted(TARGET_FORMS)
    assert fish_complete("hvterm forward -L ", tmp) == []
    assert fish_complete("hvterm forward x --remote ", tmp) == []
    assert not set(fish_complete("hvterm forward -", tmp)) & {"-e", "--escape", "--log", "--record", "-u", "--env"}
    assert fish_complete("hvterm exec -L 8080:80 x ", tmp) == ["--"]


@needs_fish
def test_fish_offers_the_configured_names(tmp, named):
    env = named["env"]
    assert sorted(fish_complete("hvterm exec ", tmp, env=env)) == sorted(TARGET_FORMS + NAMES)
    assert sorted(fish_complete("hvterm exec we", tmp, env=env)) == ["web1", "web2"]
    assert sorted(fish_complete("hvterm config ", tmp, env=env)) == NAMES
    assert sorted(fish_complete(f"hvterm ls -F {named['only']} ", tmp, env=env)) == sorted(TARGET_FORMS + ["solo"])


@needs_fish
def test_zsh_and_fish_session_names(zsh, named_agent, tmp):
    expected = sorted([named_agent.running[:8], "build.1"])
    assert sorted(zsh.complete(f"hvterm attach {named_agent.target} ")) == expected
    assert sorted(fish_complete(f"hvterm kill {named_agent.target} ", tmp)) == expected


def test_fish_session_ids(agent, tmp):
    assert sorted(fish_complete(f"hvterm attach {agent.target} ", tmp)) == sorted([agent.running[:8], agent.exited[:8]])
    assert fish_complete(f"hvterm kill -s KILL {agent.target} ", tmp) == [agent.running[:8]]
    assert fish_complete(f"hvterm attach unix:{agent.sock}.missing ", tmp) == []


@needs_fish
def test_fish_local_target(local_agent, tmp):
    env = base_env(XDG_RUNTIME_DIR=local_agent.runtime)
    assert fish_complete("hvterm attach local ", tmp, env=env) == [local_agent.running[:8]]
    runtime = os.path.join(tmp, "xdg-empty-fish")
    os.makedirs(runtime, mode=0o700, exist_ok=True)
    assert fish_complete("hvterm attach local ", tmp, env=base_env(XDG_RUNTIME_DIR=runtime)) == []
    assert not os.path.exists(os.path.join(runtime, "hvterm", "agent.sock"))


@needs_fish
def test_fish_remote_command(tmp):
    assert fish_complete("hvterm exec x ", tmp) == ["--"]
    assert "echo" in fish_complete("hvterm exec x -- ech", tmp)
    assert "echo" in fish_complete("hvterm exec x ech", tmp)
    for line in ["hvterm exec x -- ls -", "hvterm exec x ls -", "hvterm shell -e none x -- ls --"]:
        assert not set(fish_complete(line, tmp)) & HVTERM_ONLY, line


# ---- PowerShell (static: there is no PowerShell here) ---------------------------------------------

def powershell_list(text, start, variables):
    """Evaluate the PowerShell list expression at TEXT[START:]: terms `$var` or `@('a', 'b')` joined by
    `+`, as in `$session + $opens + @('-t', '--tty')`."""
    items, i = [], start
    while True:
        m = re.compile(r"\s*(?:\$(\w+)|@\(([^)]*)\))").match(text, i)
        assert m, text[start:start + 80]
        items += variables[m.group(1)] if m.group(1) else re.findall(r"'([^']*)'", m.group(2))
        i = m.end()
        plus = re.compile(r"\s*\+").match(text, i)
        if not plus:
            return items
        i = plus.end()


def test_powershell_script_covers_the_cli():
    with open(os.path.join(COMPLETIONS, "hvterm.ps1")) as f:
        text = f.read()
    assert "Register-ArgumentCompleter -Native -CommandName 'hvterm', 'hvterm.exe'" in text
    assert "Register-ArgumentCompleter -Native -CommandName 'hvtermd', 'hvtermd.exe'" in text
    # The option table of each subcommand is what `hvterm SUB --help` documents.
    variables = {}
    for name in ["conn", "resume", "session", "opens", "forwards", "valued"]:
        variables[name] = powershell_list(text, re.search(r"\$%s = " % name, text).end(), variables)
    for sub in SUBCOMMANDS:
        table = set(powershell_list(text, re.search(r"'%s'\s*= " % sub, text).end(), variables))
        extra = {"--"} if sub in ("shell", "exec") else set()
        assert table == sub_options(sub) | extra, sub
    hvtermd = text[text.index("-CommandName 'hvtermd'"):]
    options = re.search(r"if \(\$wordToComplete.StartsWith\('-'\)\) \{\s*(@\()", hvtermd)
    assert set(powershell_list(hvtermd, options.start(1), {})) == help_options(HVTERMD)
    # Every option that takes a value is known as one (so the word after it is not a TARGET).
    for sub in SUBCOMMANDS:
        out = subprocess.run([HVTERM, sub, "--help"], capture_output=True, text=True).stdout
        for names, kind in re.findall(r"^  (-\S+) ([A-Z]+)", out, re.M):
            assert set(names.split(",")) <= set(variables["valued"]), (sub, names)
    assert FORWARDS <= set(variables["valued"])
    # forward's TARGET is its only positional: the target forms, as for nc.
    assert re.search(r"\$npos -eq 0 -and \$sub -in @\([^)]*'forward'", text)
    quoted = set(re.findall(r"'([^'\s]+)'", text))
    for word in (SUBCOMMANDS + SIGNALS + LOG_LEVELS + FORWARD_POLICIES + ["none", "~", "%", "unix:", "vsock:any:"]
                 + TARGET_FORMS + DESTINATION_FORMS):
        assert word in quoted, word
    assert "'--forward' { @(" + ", ".join(f"'{p}'" for p in FORWARD_POLICIES) + ")" in hvtermd
    # nc's DESTINATION (the second positional) offers the socket forms.
    assert re.search(r"\$npos -eq 1 -and \$sub -eq 'nc'[^}]*'unix:'[^}]*'pipe:'", text)
    assert "ls $target --json --connect-timeout 1s" in text
    assert "config --names @configArgs" in text
    # Balanced brackets: a cheap guard against a truncated edit.
    for open_, close in ["{}", "()", "[]"]:
        assert text.count(open_) == text.count(close), open_ + close
