"""hvterm forward -L: local TCP ports carried to destinations in the guest, each accepted
connection a resumable session of its own — a real HTTP server behind it, parallel connections,
cuts in the middle of a download, half-close, and one line for every failure."""
import hashlib
import http.server
import json
import os
import random
import re
import signal
import socket
import subprocess
import threading
import urllib.request

import pytest

import guest_servers
import pexpect

from conftest import BASE_ENV, HVTERM, PROMPT, TIMEOUT, Agent, hvterm, spawn_shell, wait_for
from relay import Relay

MIB = 1 << 20


class Forward:
    """`hvterm forward TARGET -L ...` running; `ports` are the local ports it said it listens on."""

    def __init__(self, target, *specs, extra=()):
        args = [HVTERM, "forward", target]
        for spec in specs:  # "-R..." for a remote forward, otherwise local
            args += ["-R", spec[2:]] if spec.startswith("-R") else ["-L", spec]
        self.proc = subprocess.Popen([*args, *extra], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=BASE_ENV)
        self.ports = []
        self.said = []
        expected = max(len(specs), 1)  # none given: the config file's
        while len(self.ports) < expected:
            line = self.proc.stderr.readline().decode()
            assert line, "hvterm forward exited before listening: " + "".join(self.said)
            self.said.append(line)
            found = re.match(r"hvterm: forwarding (\S+):(\d+) (in the guest )?to ", line)
            assert found, line
            self.ports.append(int(found.group(2)))
        self.port = self.ports[0]

    def stop(self, signum=signal.SIGINT):
        self.proc.send_signal(signum)
        out, err = self.proc.communicate(timeout=TIMEOUT)
        self.said.append(err.decode())
        assert out == b""
        return self.proc.returncode

    def messages(self):
        return "".join(self.said)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def web(workdir):
    """A real HTTP server (Python's http.server, threaded) on 127.0.0.1 serving `workdir/site`."""
    site = os.path.join(workdir, "site")
    os.mkdir(site)
    handler = lambda *a, **kw: QuietHandler(*a, directory=site, **kw)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.site = site
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def relay(agent, workdir):
    r = Relay(workdir, agent.sock)
    yield r
    r.close()


def fetch(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=TIMEOUT) as response:
        return response.status, response.read()


def no_sessions(agent):
    return b"no sessions" in hvterm("ls", agent.target).stdout


def test_200_http_requests_over_20_parallel_connections(agent, web):
    pages = {f"/page{i}.txt": random.Random(i).randbytes(1000 + 997 * i) for i in range(10)}
    for path, body in pages.items():
        with open(web.site + path, "wb") as f:
            f.write(body)
    hvterm("exec", agent.target, "--", "true", check=0)
    baseline = agent.fd_count()
    forward = Forward(agent.target, f"0:{web.server_address[1]}")
    results, errors = [], []

    def client(n):
        try:
            for i in range(10):  # urllib opens a new connection for each request
                path = f"/page{(n + i) % 10}.txt"
                status, body = fetch(forward.port, path)
                results.append(status == 200 and body == pages[path])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=TIMEOUT)
    assert errors == []
    assert results == [True] * 200
    wait_for(lambda: no_sessions(agent), "every connection's session to be collected")
    wait_for(lambda: agent.fd_count() == baseline, f"the agent's fd count back to {baseline}")
    assert forward.stop() == 130
    assert "ERROR" not in agent.read_log()


def test_a_100_mib_download_across_cuts_is_complete_and_equal(agent, relay, web):
    body = random.Random(7).randbytes(100 * MIB)
    with open(os.path.join(web.site, "big.bin"), "wb") as f:
        f.write(body)
    relay.cut_after(20 * MIB, 60 * MIB)
    forward = Forward(relay.target, f"0:127.0.0.1:{web.server_address[1]}")
    status, got = fetch(forward.port, "/big.bin")
    assert status == 200
    assert len(got) == len(body)
    assert hashlib.sha256(got).hexdigest() == hashlib.sha256(body).hexdigest()
    assert relay.cuts == 2
    assert forward.stop() == 130


def test_half_close_each_way_and_exact_bytes(agent):
    server = guest_servers.Server(guest_servers.digest_after_eof)
    forward = Forward(agent.target, f"0:{server.port}")
    data = random.Random(3).randbytes(8 * MIB)
    with socket.create_connection(("127.0.0.1", forward.port), timeout=TIMEOUT) as c:
        c.sendall(data)
        c.shutdown(socket.SHUT_WR)  # the server answers only once it has read our EOF
        answer = guest_servers.read_all(c)
    assert answer == hashlib.sha256(data).hexdigest().encode()
    server.close()
    assert forward.stop() == 130


def test_several_forwards_ipv6_and_a_unix_socket(agent, workdir):
    echo4 = guest_servers.Server(guest_servers.echo)
    path = os.path.join(workdir, "app.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(4)

    def serve_unix():
        conn, _ = listener.accept()
        conn.sendall(b"unix:" + conn.recv(100))
        conn.close()

    threading.Thread(target=serve_unix, daemon=True).start()
    forward = Forward(agent.target, f"0:{echo4.port}", f"[::1]:0:unix:{path}")
    with socket.create_connection(("127.0.0.1", forward.ports[0]), timeout=TIMEOUT) as c:
        c.sendall(b"four")
        c.shutdown(socket.SHUT_WR)
        assert guest_servers.read_all(c) == b"four"
    with socket.create_connection(("::1", forward.ports[1]), timeout=TIMEOUT) as c:
        c.sendall(b"six")
        assert guest_servers.read_all(c) == b"unix:six"
    assert forward.stop() == 130
    echo4.close()
    listener.close()


def test_a_refused_destination_closes_that_connection_and_forwarding_goes_on(agent, web):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    refused_port = closed.getsockname()[1]  # bound, not listening: connections are refused
    forward = Forward(agent.target, f"0:{refused_port}", f"0:{web.server_address[1]}")
    with socket.create_connection(("127.0.0.1", forward.ports[0]), timeout=TIMEOUT) as c:
        assert c.recv(100) == b""  # the guest refused: the local connection ends
    with open(os.path.join(web.site, "ok"), "wb") as f:
        f.write(b"fine")
    assert fetch(forward.ports[1], "/ok") == (200, b"fine")
    assert forward.stop() == 130
    lines = [l for l in forward.messages().splitlines() if "refused" in l]
    assert len(lines) == 1, forward.messages()
    assert re.match(rf"hvterm: 127\.0\.0\.1:{forward.ports[0]} connection 1 from 127\.0\.0\.1:\d+: "
                    rf"cannot connect to localhost:{refused_port} in the guest: connection refused", lines[0]), lines
    closed.close()


def test_the_agents_policy_refuses_each_connection_with_its_option(workdir):
    a = Agent(workdir, ["--forward", "none"])
    try:
        forward = Forward(a.target, "0:22")
        with socket.create_connection(("127.0.0.1", forward.port), timeout=TIMEOUT) as c:
            assert c.recv(100) == b""
        assert forward.stop() == 130
        assert "(hvtermd --forward none)" in forward.messages()
    finally:
        a.stop()


def test_ctrl_c_closes_open_connections_in_the_guest_and_exits_130(agent):
    server = guest_servers.Server(guest_servers.hold)
    forward = Forward(agent.target, f"0:{server.port}")
    c = socket.create_connection(("127.0.0.1", forward.port), timeout=TIMEOUT)
    c.sendall(b"partial")
    wait_for(lambda: server.accepted == 1, "the guest connection")
    wait_for(lambda: b"connection to" in hvterm("ls", agent.target).stdout, "the session")
    assert forward.stop(signal.SIGTERM) == 143
    assert server.wait_ended(TIMEOUT) == b"partial"
    assert c.recv(100) == b""
    c.close()
    assert "closing 1 open connection(s)" in forward.messages()
    wait_for(lambda: no_sessions(agent), "the session to be collected")
    server.close()


def test_a_port_in_use_is_one_line_and_255(agent):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    proc = hvterm("forward", agent.target, "-L", f"{port}:22")
    assert proc.returncode == 255
    assert proc.stderr.decode() == (f"hvterm: cannot listen on 127.0.0.1:{port} (-L {port}:22): "
                                    "address already in use\n")
    taken.close()


@pytest.mark.parametrize("args, expected", [
    (["-L", "8080"], "-L: '8080' is not [BIND:]PORT:DESTINATION"),
    (["-L", "99999:22"], "is not a port to listen on"),
    (["-L", "web:8080:22"], "'web' is not an address to listen on"),
    (["-L", "8080:0"], "'0' is not a port"),
    ([], "forward needs at least one -L or -R"),
    (["-R", "0:22"], "-R: '0:22': give the port to listen on in the guest"),
])
def test_bad_forwards_are_usage_errors(agent, args, expected):
    proc = hvterm("forward", agent.target, *args)
    assert proc.returncode == 2
    assert expected in proc.stderr.decode().splitlines()[0], proc.stderr


def test_an_unreachable_agent_is_one_line_before_listening(workdir):
    proc = hvterm("forward", "unix:" + os.path.join(workdir, "nothing.sock"), "-L", "0:22")
    assert proc.returncode == 255
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hvterm: "), proc.stderr
    assert "nothing.sock" in lines[0]


# ---- -R: the guest reaches this machine ------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def exchange(port, data, host="127.0.0.1"):
    """Sends `data` to port, half-closes, returns everything that came back."""
    with socket.create_connection((host, port), timeout=TIMEOUT) as c:
        sender = threading.Thread(target=lambda: (c.sendall(data), c.shutdown(socket.SHUT_WR)))
        sender.start()
        answer = guest_servers.read_all(c)
        sender.join()
    return answer


def listeners(agent):
    return [e for e in json.loads(hvterm("ls", agent.target, "--json", check=0).stdout or b"[]")
            if e["mode"] == "listener"]


def test_remote_guest_clients_reach_a_server_here_exactly(agent):
    here = guest_servers.Server(guest_servers.echo)
    guest_port = free_port()
    forward = Forward(agent.target, f"-R{guest_port}:127.0.0.1:{here.port}")
    assert forward.port == guest_port
    assert f"forwarding 127.0.0.1:{guest_port} in the guest to 127.0.0.1:{here.port} here" in forward.messages()
    [listener] = listeners(agent)
    assert listener["command"] == f"listening on 127.0.0.1:{guest_port}"
    payloads = [random.Random(10 + i).randbytes(2 * MIB + i) for i in range(8)]
    answers = [None] * len(payloads)

    def client(i):
        answers[i] = exchange(guest_port, payloads[i])

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(payloads))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=TIMEOUT)
    assert answers == payloads
    assert here.accepted == len(payloads)
    wait_for(lambda: len(json.loads(hvterm("ls", agent.target, "--json", check=0).stdout)) == 1,
             "only the listener left")
    assert forward.stop() == 130
    wait_for(lambda: no_sessions(agent), "the listener to go")
    with pytest.raises(ConnectionRefusedError):  # the agent stopped listening
        socket.create_connection(("127.0.0.1", guest_port), timeout=TIMEOUT)
    here.close()


def test_remote_connection_across_cuts_is_exact(agent, relay):
    here = guest_servers.Server(guest_servers.echo)
    guest_port = free_port()
    relay.cut_after(3 * MIB, 9 * MIB, 20 * MIB)
    forward = Forward(relay.target, f"-R{guest_port}:{here.port}")
    data = random.Random(11).randbytes(16 * MIB)
    answer = exchange(guest_port, data)
    assert hashlib.sha256(answer).hexdigest() == hashlib.sha256(data).hexdigest()
    assert relay.cuts >= 2
    assert here.accepted == 1
    assert forward.stop() == 130
    here.close()


def test_remote_destination_refused_here_closes_the_guests_connection(agent):
    guest_port = free_port()
    closed_here = free_port()
    forward = Forward(agent.target, f"-R{guest_port}:{closed_here}")
    with socket.create_connection(("127.0.0.1", guest_port), timeout=TIMEOUT) as c:
        assert c.recv(100) == b""  # nobody here: the guest's program hears it at once
    wait_for(lambda: len(json.loads(hvterm("ls", agent.target, "--json", check=0).stdout)) == 1,
             "the refused connection's session to go")
    assert forward.stop() == 130
    lines = [l for l in forward.messages().splitlines() if "refused" in l]
    assert lines == [f"hvterm: 127.0.0.1:{guest_port} in the guest, connection 1: cannot connect to "
                     f"localhost:{closed_here} here: connection refused; closing the guest's connection"], \
        forward.messages()


def test_remote_port_taken_in_the_guest_is_one_line_and_255(agent):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    proc = hvterm("forward", agent.target, "-R", f"{port}:22")
    assert proc.returncode == 255
    assert proc.stderr.decode() == (f"hvterm: -R {port}:22: cannot listen on 127.0.0.1:{port} in the guest: "
                                    "address already in use\n")
    wait_for(lambda: no_sessions(agent), "no session left")
    taken.close()


@pytest.mark.parametrize("policy, spec, expected", [
    (["--forward", "none"], "{port}:22", "this agent listens on no ports for clients (hvtermd --forward none)"),
    (["--forward", "local"], "*:{port}:22",
     "this agent listens only on the guest's loopback (hvtermd --forward local), not on 0.0.0.0:{port}"),
])
def test_remote_refused_by_the_agents_policy(workdir, policy, spec, expected):
    a = Agent(workdir, policy)
    port = free_port()
    try:
        proc = hvterm("forward", a.target, "-R", spec.format(port=port))
        assert proc.returncode == 255
        lines = proc.stderr.decode().strip().splitlines()
        assert len(lines) == 1 and expected.format(port=port) in lines[0], proc.stderr
    finally:
        a.stop()


def test_remote_and_local_together_and_sigterm_closes_open_connections(agent):
    arrived = []

    def hold_noting(conn):  # guest_servers.hold, telling what has arrived so far
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
            arrived.append(chunk)
        return data

    held_here = guest_servers.Server(hold_noting)
    echo_guest = guest_servers.Server(guest_servers.echo)
    guest_port = free_port()
    forward = Forward(agent.target, f"0:{echo_guest.port}", f"-R{guest_port}:{held_here.port}")
    assert exchange(forward.ports[0], b"local works") == b"local works"
    c = socket.create_connection(("127.0.0.1", guest_port), timeout=TIMEOUT)
    c.sendall(b"held")
    # What was delivered before the signal stays delivered; bytes still on their way when it comes
    # end with the connection, as a killed program's unread input does.
    wait_for(lambda: b"".join(arrived) == b"held", "the bytes to arrive here")
    assert forward.stop(signal.SIGTERM) == 143
    assert held_here.wait_ended(TIMEOUT) == b"held"
    assert c.recv(100) == b""
    c.close()
    wait_for(lambda: no_sessions(agent), "every session to go")
    held_here.close()
    echo_guest.close()


# ---- -L and -R on exec (and shell): for the life of the session -------------------------------------

def test_exec_with_a_local_forward_for_the_life_of_the_command(agent):
    echo_guest = guest_servers.Server(guest_servers.echo)
    proc = subprocess.Popen([HVTERM, "exec", agent.target, "-L", f"0:{echo_guest.port}", "--", "head", "-c", "5"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=BASE_ENV)
    line = proc.stderr.readline().decode()  # a port the system picked is said, once
    found = re.match(r"hvterm: forwarding 127\.0\.0\.1:(\d+) to localhost:\d+ in the guest\n", line)
    assert found, line
    port = int(found.group(1))
    assert exchange(port, b"through the forward") == b"through the forward"
    out, err = proc.communicate(b"12345", timeout=TIMEOUT)
    assert (proc.returncode, out, err) == (0, b"12345", b"")  # the program's own status and output
    with pytest.raises(ConnectionRefusedError):  # gone with the session
        socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    wait_for(lambda: no_sessions(agent), "every session to go")
    echo_guest.close()


def test_exec_with_a_remote_forward_that_is_up_before_the_program_starts(agent):
    here = guest_servers.Server(guest_servers.echo)
    guest_port = free_port()
    client = ("import socket; c = socket.create_connection(('127.0.0.1', %d)); c.sendall(b'from the guest'); "
              "c.shutdown(socket.SHUT_WR); print(c.recv(100).decode())" % guest_port)
    proc = hvterm("exec", agent.target, "-R", f"{guest_port}:{here.port}", "--", "python3", "-c", client)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, b"from the guest\n", b"")
    wait_for(lambda: no_sessions(agent), "every session to go")
    here.close()


def test_forwards_from_the_config_file(agent, workdir):
    echo_guest = guest_servers.Server(guest_servers.echo)
    config = os.path.join(workdir, "config")
    with open(config, "w") as f:
        f.write(f'[vm]\ntarget = "{agent.target}"\nlocal-forward = ["0:{echo_guest.port}"]\n')
    shown = hvterm("config", "-F", config, "vm", check=0).stdout.decode()
    assert re.search(rf"local-forward\s+0:{echo_guest.port}\s+{re.escape(config)}:3", shown), shown
    forward = Forward("vm", extra=["-F", config])
    assert exchange(forward.port, b"configured") == b"configured"
    assert forward.stop() == 130
    # The command line's -L replaces the configured list.
    proc = hvterm("exec", "-F", config, "vm", "-L", "127.0.0.1:0:1", "--", "true")
    assert proc.returncode == 0
    assert f":{echo_guest.port} in the guest" not in proc.stderr.decode() and "localhost:1 in" in proc.stderr.decode()
    echo_guest.close()


def test_shell_with_local_and_remote_forwards_through_a_real_terminal(agent):
    echo_guest = guest_servers.Server(guest_servers.echo)
    here = guest_servers.Server(guest_servers.echo)
    guest_port = free_port()
    child = spawn_shell(agent.target, "-L", f"0:{echo_guest.port}", "-R", f"{guest_port}:{here.port}")
    child.expect(r"hvterm: forwarding 127\.0\.0\.1:(\d+) to localhost:\d+ in the guest\r\n")
    port = int(child.match.group(1))
    child.expect_exact(PROMPT)
    assert exchange(port, b"-L from a shell") == b"-L from a shell"
    child.sendline(f"python3 -c \"import socket; c = socket.create_connection(('127.0.0.1', {guest_port})); "
                   f"c.sendall(b'-R ok'); c.shutdown(socket.SHUT_WR); print(c.recv(9).decode() + '#')\"")
    child.expect_exact("-R ok#")
    child.expect_exact(PROMPT)
    child.sendline("exit 3")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 3
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    wait_for(lambda: no_sessions(agent), "every session to go")
    echo_guest.close()
    here.close()


def test_a_connection_no_client_claims_is_closed_after_a_minute_and_kill_stops_the_listener(agent):
    here = guest_servers.Server(guest_servers.echo)
    guest_port = free_port()
    forward = Forward(agent.target, f"-R{guest_port}:{here.port}")
    forward.proc.kill()  # no Ctrl-C: the listener stays in the agent, with nobody to claim what it accepts
    forward.proc.wait()
    c = socket.create_connection(("127.0.0.1", guest_port), timeout=90)
    wait_for(lambda: any(e["command"].startswith("connection from 127.0.0.1:")
                         for e in json.loads(hvterm("ls", agent.target, "--json", check=0).stdout)),
             "the accepted connection's session")
    unnamed = hvterm("attach", agent.target)  # the most recent detached session is never a forward's
    assert unnamed.returncode == 255 and b"no detached session to attach to" in unnamed.stderr, unnamed.stderr
    c.settimeout(90)
    assert c.recv(100) == b""  # closed by the agent once nobody claimed it (60 s)
    c.close()
    [listener] = listeners(agent)
    hvterm("kill", agent.target, listener["id"][:8], check=0)
    with pytest.raises(ConnectionRefusedError):  # the agent stopped listening before it answered the kill
        socket.create_connection(("127.0.0.1", guest_port), timeout=TIMEOUT)
    assert "no client claimed connection from 127.0.0.1:" in agent.read_log()
    assert here.accepted == 0
    here.close()
