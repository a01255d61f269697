# Ansible connection plugin: tasks run through `hvterm exec TARGET -- /bin/sh -c CMD`, with stdin,
# stdout, stderr and the exit status carried exactly; files go in and out through the same exec.
from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: hvterm
short_description: Run tasks in a VM over hypervisor sockets (vsock, Hyper-V sockets) with hvterm
description:
  - Runs commands and moves files through C(hvterm exec), which reaches the agent C(hvtermd) in the
    VM over AF_VSOCK, AF_HYPERV, hybrid vsock or a Unix socket. The VM needs no network and no sshd.
  - Connection failures are hvterm's own one-line reasons (exit status 255, a line starting with
    C(hvterm:)) and make the host unreachable.
author: hvterm developers
options:
  pipelining:
    description:
      - Send each module to the VM's Python on stdin instead of copying it over first, one exec per
        task instead of several. On by default here, unlike over ssh, where sudo's C(requiretty)
        forbids it; an exec has no terminal either way, so nothing that works without it breaks with it.
    default: true
    type: boolean
    env:
      - name: ANSIBLE_PIPELINING
    ini:
      - section: defaults
        key: pipelining
      - section: connection
        key: pipelining
    vars:
      - name: ansible_pipelining
      - name: ansible_hvterm_pipelining
  remote_addr:
    description: The hvterm TARGET of the VM (vsock:CID, a VM name, hv:VMID, hybrid:PATH:PORT, unix:PATH).
    default: inventory_hostname
    type: str
    vars:
      - name: inventory_hostname
      - name: ansible_host
      - name: ansible_hvterm_target
  remote_user:
    description:
      - Run as this user in the VM (C(hvterm exec --user); the agent must run as root). Unset, tasks
        run as the agent's user.
    type: str
    vars:
      - name: ansible_user
      - name: ansible_hvterm_user
  hvterm_path:
    description: The hvterm program.
    default: hvterm
    type: str
    vars:
      - name: ansible_hvterm_path
    env:
      - name: ANSIBLE_HVTERM_PATH
  hvterm_args:
    description: Options for every hvterm exec, such as C(--token-file /etc/hvterm/vm.token) or C(-p 2222).
    default: []
    type: list
    elements: str
    vars:
      - name: ansible_hvterm_args
"""

import os
import shlex
import shutil
import subprocess

from ansible.errors import AnsibleConnectionFailure, AnsibleError, AnsibleFileNotFound
from ansible.module_utils._text import to_bytes, to_native, to_text
from ansible.plugins.connection import ConnectionBase
from ansible.utils.display import Display

display = Display()

HVTERM_FAILED = 255  # hvterm's own failure (connect, protocol, session lost); it says why in one line


class Connection(ConnectionBase):
    """Tasks through hvterm exec."""

    transport = "hvterm.hvterm.hvterm"
    has_pipelining = True

    def _connect(self):
        if not self._connected:
            display.vvv("HVTERM TARGET %s" % self._target(), host=self._target())
            self._connected = True
        return self

    def _target(self):
        return self.get_option("remote_addr")

    def _argv(self, command):
        """hvterm exec [OPTIONS] TARGET -- COMMAND..., with the configured program and options."""
        user = self.get_option("remote_user")
        return [self.get_option("hvterm_path"), "exec", *self.get_option("hvterm_args"),
                *(["--user", user] if user else []), self._target(), "--", *command]

    def _run(self, command, stdin_bytes=None, stdin_file=None, stdout_file=None):
        argv = self._argv(command)
        display.vvv("HVTERM EXEC %s" % " ".join(shlex.quote(a) for a in argv), host=self._target())
        try:
            proc = subprocess.Popen(argv, stdin=stdin_file if stdin_file is not None else subprocess.PIPE,
                                    stdout=stdout_file if stdout_file is not None else subprocess.PIPE,
                                    stderr=subprocess.PIPE)
        except OSError as e:
            raise AnsibleConnectionFailure("cannot run %s: %s" % (argv[0], to_native(e)))
        stdout, stderr = proc.communicate(None if stdin_file is not None else (stdin_bytes or b""))
        lines = [line for line in stderr.splitlines() if line.strip()]
        if proc.returncode == HVTERM_FAILED and lines and lines[-1].startswith(b"hvterm: "):
            # hvterm's own failure: its reason is the last line, after whatever the remote program
            # wrote before the connection failed. A remote program's own 255 has no such line.
            raise AnsibleConnectionFailure(to_text(lines[-1], errors="surrogate_or_replace"))
        return proc.returncode, stdout or b"", stderr

    def exec_command(self, cmd, in_data=None, sudoable=True):
        super(Connection, self).exec_command(cmd, in_data=in_data, sudoable=sudoable)
        if sudoable and self.become and self.become.expect_prompt():
            # A password prompt needs a terminal, which exec with exact stdio does not give; sudo -S
            # reads the password from stdin instead, ahead of what the task sends.
            password = self.become.get_option("become_pass", playcontext=self._play_context)
            if self.become.name != "sudo" or "-S" not in to_text(cmd):
                raise AnsibleError("hvterm: become with a password works with become_method sudo only "
                                   "(or let the agent run as root, or use NOPASSWD)")
            in_data = to_bytes(password, errors="surrogate_or_strict") + b"\n" + (in_data or b"")
        display.vvv("EXEC %s" % to_text(cmd), host=self._target())
        return self._run(["/bin/sh", "-c", to_text(cmd)], stdin_bytes=in_data)

    def put_file(self, in_path, out_path):
        super(Connection, self).put_file(in_path, out_path)
        display.vvv("PUT %s TO %s" % (in_path, out_path), host=self._target())
        try:
            source = open(to_bytes(in_path, errors="surrogate_or_strict"), "rb")
        except OSError as e:
            raise AnsibleFileNotFound("file or module does not exist: %s (%s)" % (in_path, to_native(e)))
        with source:
            # Written beside the destination and renamed into place: no half file under its name.
            script = 'cat > "$1.hvterm-part" && mv -f "$1.hvterm-part" "$1"'
            rc, _, stderr = self._run(["/bin/sh", "-c", script, "sh", out_path], stdin_file=source)
        if rc != 0:
            raise AnsibleError("failed to transfer %s to %s: %s" % (in_path, out_path, to_native(stderr).strip()))

    def fetch_file(self, in_path, out_path):
        super(Connection, self).fetch_file(in_path, out_path)
        display.vvv("FETCH %s TO %s" % (in_path, out_path), host=self._target())
        partial = out_path + ".hvterm-part"
        try:
            with open(to_bytes(partial, errors="surrogate_or_strict"), "wb") as out:
                rc, _, stderr = self._run(["cat", "--", in_path], stdout_file=out)
            if rc != 0:
                raise AnsibleError("failed to fetch %s: %s" % (in_path, to_native(stderr).strip()))
            shutil.move(partial, out_path)
        finally:
            if os.path.exists(partial):  # a fetch cut short leaves nothing under either name
                os.unlink(partial)

    def close(self):
        self._connected = False
