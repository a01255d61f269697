"""VM names on a Linux host, looked up in libvirt (its in-process test driver, given a node file):
a domain's vsock device gives the CID to connect to. The suite's HVTERM_NO_VSOCK guard stops every
connection before a socket is made, and its message names the address the name resolved to."""
import json
import os

import pytest

from conftest import BASE_ENV, hvterm

NODE = """<node>
  <domain type='test'>
    <name>build-01</name>
    <memory>131072</memory>
    <os><type arch='x86_64'>hvm</type></os>
    <devices><vsock model='virtio'><cid auto='no' address='7'/></vsock></devices>
  </domain>
  <domain type='test'>
    <name>no-vsock</name>
    <memory>131072</memory>
    <os><type arch='x86_64'>hvm</type></os>
  </domain>
  <domain type='test' xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
    <name>stopped</name>
    <memory>131072</memory>
    <os><type arch='x86_64'>hvm</type></os>
    <devices><vsock model='virtio'><cid auto='yes'/></vsock></devices>
    <test:runstate>5</test:runstate>
  </domain>
</node>
"""


@pytest.fixture
def libvirt_env(workdir):
    path = os.path.join(workdir, "node.xml")
    with open(path, "w") as f:
        f.write(NODE)
    return dict(BASE_ENV, LIBVIRT_DEFAULT_URI="test://" + path)


def test_vms_lists_domains_with_cid_and_state(libvirt_env):
    r = hvterm("vms", env=libvirt_env, check=0)
    rows = [line.split() for line in r.stdout.decode().splitlines()]
    assert rows == [["ID", "STATE", "NAME"], ["7", "running", "build-01"], ["-", "running", "no-vsock"],
                    ["-", "off", "stopped"]]
    listed = json.loads(hvterm("vms", "--json", env=libvirt_env, check=0).stdout)
    assert listed[0] == {"id": "7", "name": "build-01", "state": "running"}
    assert [v["name"] for v in listed] == ["build-01", "no-vsock", "stopped"]


@pytest.mark.parametrize("args,address", [
    (["build-01"], b"vsock:7:18518"),
    (["-p", "99", "build-01"], b"vsock:7:99"),
])
def test_a_name_connects_to_its_vsock_cid(libvirt_env, args, address):
    r = hvterm("exec", *args, "--", "true", env=libvirt_env)
    assert r.returncode == 255
    assert r.stderr == b"hvterm: cannot connect to " + address + \
        b": vsock is disabled in this environment (HVTERM_NO_VSOCK is set)\n"


@pytest.mark.parametrize("name,reason", [
    ("no-vsock", b"VM 'no-vsock' has no vsock device: add <vsock model='virtio'><cid auto='yes'/></vsock>"),
    ("stopped", b"VM 'stopped' is off: its vsock CID is assigned when it starts"),
    ("nosuch", b"no VM named 'nosuch' in libvirt (test://"),
])
def test_names_that_do_not_resolve_say_why(libvirt_env, name, reason):
    r = hvterm("exec", name, "--", "true", env=libvirt_env)
    assert r.returncode == 255
    assert reason in r.stderr and r.stderr.count(b"\n") == 1, r.stderr
