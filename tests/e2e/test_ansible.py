"""Ansible over hvterm (contrib/ansible): Debian's ansible-core drives three agents through the
hvterm.hvterm.hvterm connection plugin, with -f 3 forks, and every module kind a fleet uses:
ping, command, shell, file, copy (10 MiB), stat, template, fetch and become. A host whose agent is
not there is unreachable with hvterm's own reason."""
import hashlib
import os
import re
import shutil
import subprocess

import pytest

from conftest import HVTERM, BASE_ENV, Agent

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
COLLECTIONS = os.path.join(ROOT, "contrib", "ansible")
PLAYBOOK_TIMEOUT = 600  # three hosts, a dozen tasks, under ASan too
BIG = 10 * 1024 * 1024

pytestmark = pytest.mark.skipif(shutil.which("ansible-playbook") is None,
                                reason="needs ansible-core (apt-get install ansible-core)")

PLAY = """
- hosts: vms
  gather_facts: false
  vars:
    here: "{out}/{{{{ inventory_hostname }}}}"
  tasks:
    - ping:
    - command: uname -s
      register: uname
    - shell: echo "${{FLEET_MARK:-unset}}"
      register: mark
    - assert:
        that:
          - uname.stdout == 'Linux'
          - mark.stdout == ('set' if inventory_hostname == 'vm0' else 'unset')
    - shell: printf '%s' "$((6 * 7))" && echo to-stderr >&2 && exit 3
      register: sh
      failed_when: sh.rc != 3 or sh.stdout != '42' or sh.stderr != 'to-stderr'
    - file:
        path: "{{{{ here }}}}"
        state: directory
        mode: "0755"
    - copy:
        src: {big}
        dest: "{{{{ here }}}}/big.bin"
        mode: "0640"
    - stat:
        path: "{{{{ here }}}}/big.bin"
        checksum_algorithm: sha256
      register: st
    - assert:
        that:
          - st.stat.checksum == '{big_sha256}'
          - st.stat.size == {big_size}
          - st.stat.mode == '0640'
    - template:
        src: {template}
        dest: "{{{{ here }}}}/motd"
    - fetch:
        src: "{{{{ here }}}}/big.bin"
        dest: {fetched}/
    - command: id -un
      become: true
      become_user: nobody
      vars:
        ansible_pipelining: true
      register: who
    - assert:
        that: who.stdout == 'nobody'
"""


def ansible_env(workdir):
    home = os.path.join(workdir, "ansible-home")
    os.makedirs(home, exist_ok=True)
    return dict(BASE_ENV, HOME=home, ANSIBLE_HOME=home, ANSIBLE_LOCAL_TEMP=os.path.join(home, "tmp"),
                ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
                ANSIBLE_HOST_KEY_CHECKING="0", ANSIBLE_DEPRECATION_WARNINGS="0")


def inventory(workdir, hosts):
    # The first host also passes options of its own to hvterm exec.
    lines = ["[vms]"] + [f"{name} ansible_host={target}" + (" ansible_hvterm_args='[\"--env\", \"FLEET_MARK=set\"]'"
                                                           if i == 0 else "")
                         for i, (name, target) in enumerate(hosts)]
    lines += ["[vms:vars]", "ansible_connection=hvterm.hvterm.hvterm", "ansible_python_interpreter=/usr/bin/python3",
              f"ansible_hvterm_path={HVTERM}", f"ansible_remote_tmp={workdir}/remote-tmp"]
    path = os.path.join(workdir, "inventory.ini")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def run_play(workdir, inventory_path, play, *extra):
    path = os.path.join(workdir, "play.yml")
    with open(path, "w") as f:
        f.write(play)
    return subprocess.run(["ansible-playbook", "-i", inventory_path, path, *extra], capture_output=True,
                          env=ansible_env(workdir), timeout=PLAYBOOK_TIMEOUT, cwd=workdir)


def recap(output):
    """{host: {"ok": n, "failed": n, "unreachable": n, ...}} from the PLAY RECAP."""
    out = {}
    for host, counts in re.findall(r"^(\S+)\s+:\s+(ok=.*)$", output, re.M):
        out[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counts)}
    return out


@pytest.mark.skipif(os.geteuid() != 0, reason="the become task needs an agent running as root")
@pytest.mark.parametrize("pipelining", ["true", "false"])  # modules on stdin, or copied over first
def test_a_play_over_three_agents_runs_every_kind_of_task_exactly(workdir, pipelining):
    agents = []
    for i in range(3):
        os.makedirs(os.path.join(workdir, f"a{i}"))
        agents.append(Agent(os.path.join(workdir, f"a{i}")))
    try:
        big = os.path.join(workdir, "big.bin")
        data = os.urandom(BIG)
        with open(big, "wb") as f:
            f.write(data)
        template = os.path.join(workdir, "motd.j2")
        with open(template, "w") as f:
            f.write("host {{ inventory_hostname }} via {{ ansible_host }}\n")
        fetched = os.path.join(workdir, "fetched")
        out = os.path.join(workdir, "out")
        hosts = [(f"vm{i}", a.target) for i, a in enumerate(agents)]
        play = PLAY.format(out=out, big=big, big_sha256=hashlib.sha256(data).hexdigest(), big_size=BIG,
                           template=template, fetched=fetched)
        r = run_play(workdir, inventory(workdir, hosts), play, "-f", "3", "-e", "ansible_pipelining=" + pipelining)
        output = r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")
        assert r.returncode == 0, output
        counts = recap(output)
        for name, target in hosts:
            assert counts[name]["failed"] == 0 and counts[name]["unreachable"] == 0, output
            assert counts[name]["ok"] == 13, output  # every task
            with open(os.path.join(fetched, name, out.lstrip("/"), name, "big.bin"), "rb") as f:
                assert hashlib.sha256(f.read()).digest() == hashlib.sha256(data).digest(), name
            with open(os.path.join(out, name, "motd")) as f:
                assert f.read() == f"host {name} via {target}\n"
            assert not [n for n in os.listdir(os.path.join(out, name)) if n.endswith(".hvterm-part")]
        # Every task went through the agents: each ran sessions (and none is left behind).
        for a in agents:
            assert "started: /bin/sh -c" in a.read_log()
            assert b"no sessions" in subprocess.run([HVTERM, "ls", a.target], capture_output=True, env=BASE_ENV,
                                                   timeout=60).stdout
    finally:
        for a in agents:
            a.stop()


def test_a_host_whose_agent_is_gone_is_unreachable_with_hvterm_s_reason(workdir):
    missing = os.path.join(workdir, "nothing-here.sock")
    play = "- hosts: vms\n  gather_facts: false\n  tasks:\n    - ping:\n"
    r = run_play(workdir, inventory(workdir, [("gone", "unix:" + missing)]), play)
    output = r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")
    assert r.returncode != 0
    assert recap(output)["gone"]["unreachable"] == 1, output
    assert f"hvterm: no agent is listening on {missing}" in output, output


def test_the_collection_builds_installs_and_documents_itself(workdir):
    # As the README says: ansible-galaxy builds the collection, installs it, and ansible-doc shows
    # the plugin's options (its DOCUMENTATION is valid).
    env = ansible_env(workdir)
    r = subprocess.run(["ansible-galaxy", "collection", "build",
                        os.path.join(COLLECTIONS, "ansible_collections", "hvterm", "hvterm")],
                       capture_output=True, env=env, cwd=workdir, timeout=120)
    assert r.returncode == 0, r.stderr
    tarballs = [n for n in os.listdir(workdir) if n.startswith("hvterm-hvterm-") and n.endswith(".tar.gz")]
    assert len(tarballs) == 1, os.listdir(workdir)
    installed = os.path.join(workdir, "installed")
    r = subprocess.run(["ansible-galaxy", "collection", "install", "-p", installed, tarballs[0]],
                       capture_output=True, env=env, cwd=workdir, timeout=120)
    assert r.returncode == 0, r.stderr
    r = subprocess.run(["ansible-doc", "-t", "connection", "hvterm.hvterm.hvterm"], capture_output=True,
                       env=dict(env, ANSIBLE_COLLECTIONS_PATH=installed, PAGER="cat"), cwd=workdir, timeout=120)
    assert r.returncode == 0, r.stderr
    doc = r.stdout.decode()
    for option in ("remote_addr", "hvterm_path", "hvterm_args", "pipelining"):
        assert option in doc, (option, doc)


@pytest.mark.skipif(os.geteuid() != 0, reason="running as another user needs an agent running as root")
def test_ansible_user_runs_the_tasks_as_that_user_and_a_remote_255_is_no_connection_failure(workdir):
    os.makedirs(os.path.join(workdir, "a"))
    agent = Agent(os.path.join(workdir, "a"))
    try:
        inv = inventory(workdir, [("vm", agent.target)])
        with open(inv, "a") as f:
            f.write("ansible_user=nobody\n")
        play = ("- hosts: vms\n  gather_facts: false\n  tasks:\n"
                "    - command: id -un\n      register: who\n"
                "    - assert:\n        that: who.stdout == 'nobody'\n"
                # raw: the command's own exit status is what hvterm returns (modules report theirs in JSON)
                "    - raw: echo boom >&2; exit 255\n      register: own\n"
                "      failed_when: own.rc != 255\n")
        r = run_play(workdir, inv, play)
        output = r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")
        assert r.returncode == 0, output
        assert recap(output)["vm"] == {**recap(output)["vm"], "ok": 3, "failed": 0, "unreachable": 0}, output
    finally:
        agent.stop()
