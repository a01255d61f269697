"""hvterm nc: stdin/stdout as a byte pipe to a port or socket inside the guest, carried by a resumable
session — exact across cuts, half-close passed on in each direction, every failure one line."""
import hashlib
import json
import os
import random
import signal
import socket
import subprocess
import threading

import pytest

import guest_servers
from conftest import BASE_ENV, HVTERM, TIMEOUT, Agent, hvterm, wait_for
from relay import Relay

MIB = 1 << 20


@pytest.fixture
def relay(agent, workdir):
    r = Relay(workdir, agent.sock)
    yield r
    r.close()


@pytest.fixture
def echo_server():
    s = guest_servers.Server(guest_servers.echo)
    yield s
    s.close()


def serve_once_on_unix_socket(path, serve):
    """A Unix socket at `path` whose first connection `serve(conn)` handles on a thread."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)

    def run():
        conn, _ = listener.accept()
        serve(conn)
        conn.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return listener, thread


def one_line_error(proc):
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("hvterm: "), proc.stderr
    return lines[0]


def test_round_trip_is_exact_and_the_guest_side_sees_the_end(agent, echo_server):
    data = random.Random(1).randbytes(16 * MIB)
    proc = hvterm("nc", agent.target, str(echo_server.port), input=data)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == data
    assert proc.stderr == b""
    assert echo_server.wait_ended(TIMEOUT) == len(data)


def test_cuts_in_flight_lose_and_repeat_nothing(agent, relay, echo_server):
    data = random.Random(2).randbytes(24 * MIB)
    relay.cut_after(4 * MIB, 15 * MIB, 30 * MIB)
    proc = hvterm("nc", relay.target, f"127.0.0.1:{echo_server.port}", input=data)
    assert proc.returncode == 0, proc.stderr
    assert hashlib.sha256(proc.stdout).hexdigest() == hashlib.sha256(data).hexdigest()
    assert len(proc.stdout) == len(data)
    assert relay.cuts == 3
    assert echo_server.accepted == 1  # one guest connection, carried across every cut
    assert echo_server.wait_ended(TIMEOUT) == len(data)


def test_a_server_that_answers_only_after_the_clients_eof(agent):
    server = guest_servers.Server(guest_servers.digest_after_eof)
    data = random.Random(3).randbytes(3 * MIB)
    proc = hvterm("nc", agent.target, f"localhost:{server.port}", input=data)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == hashlib.sha256(data).hexdigest().encode()
    server.close()


def test_the_guests_eof_arrives_while_the_client_still_sends(agent):
    """Each direction ends on its own: stdout ends when the guest side is done sending, and what the
    client sends after that still reaches the guest side."""
    server = guest_servers.Server(guest_servers.greet_then_read)
    proc = subprocess.Popen([HVTERM, "nc", agent.target, str(server.port)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=BASE_ENV)
    assert proc.stdout.read() == b"hello from the guest\n"  # read to EOF while our stdin is open
    assert proc.poll() is None
    proc.stdin.write(b"late words\n" * 1000)
    proc.stdin.close()
    assert proc.wait(timeout=TIMEOUT) == 0, proc.stderr.read()
    assert server.wait_ended(TIMEOUT) == b"late words\n" * 1000
    server.close()


def test_ipv6_and_unix_socket_destinations(agent, workdir):
    if not socket.has_ipv6:
        pytest.skip("no IPv6 here")
    try:
        server6 = guest_servers.Server(guest_servers.echo, host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback here")
    assert hvterm("nc", agent.target, f"[::1]:{server6.port}", input=b"six\n", check=0).stdout == b"six\n"
    # localhost is 127.0.0.1, then ::1: a service listening on ::1 alone is found too
    assert hvterm("nc", agent.target, f"localhost:{server6.port}", input=b"any\n", check=0).stdout == b"any\n"
    server6.close()

    path = os.path.join(workdir, "app.sock")
    listener, t = serve_once_on_unix_socket(path, lambda conn: conn.sendall(guest_servers.read_all(conn).upper()))
    assert hvterm("nc", agent.target, "unix:" + path, input=b"quiet\n", check=0).stdout == b"QUIET\n"
    t.join(TIMEOUT)
    listener.close()


@pytest.mark.parametrize("destination, expected", [
    ("{closed}", "cannot connect to localhost:{closed} in the guest: connection refused"),
    ("no-such-host.invalid:22", "cannot resolve no-such-host.invalid in the guest"),
    ("unix:/nonexistent/app.sock", "cannot connect to unix:/nonexistent/app.sock in the guest: no such file"),
    ("pipe:app", "named pipes are Windows"),
])
def test_a_connection_that_cannot_be_made_is_one_line_and_255(agent, destination, expected):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    closed = probe.getsockname()[1]  # bound, never listening: refused
    proc = hvterm("nc", agent.target, destination.format(closed=closed), input=b"")
    assert proc.returncode == 255
    assert expected.format(closed=closed) in one_line_error(proc)
    assert proc.stdout == b""
    probe.close()
    hvterm("exec", agent.target, "--", "true", check=0)  # the agent serves on


@pytest.mark.parametrize("destination, expected", [
    ("0", "'0' is not a port"),
    ("70000", "'70000' is not a port"),
    ("localhost:", "'' is not a port"),
    (":22", "names no host"),
    ("::1:22", "IPv6 address in brackets"),
    ("[::1", "not [ADDRESS]:PORT"),
    ("unix:", "names no path"),
])
def test_bad_destinations_are_usage_errors(agent, destination, expected):
    proc = hvterm("nc", agent.target, destination)
    assert proc.returncode == 2
    assert expected in one_line_error(proc)


def test_a_reset_from_the_guest_side_delivers_what_came_before_then_fails(agent):
    server = guest_servers.Server(guest_servers.reset_after(2 * MIB))
    proc = subprocess.Popen([HVTERM, "nc", agent.target, str(server.port)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=BASE_ENV)
    out, err = proc.communicate(timeout=TIMEOUT)  # stdin closes at once; the reset still comes first or not
    assert out == b"x" * len(out)
    if proc.returncode != 0:  # the reset overtook the EOF: say so, once
        assert proc.returncode == 255
        assert "in the guest broke: connection reset by peer" in err.decode(), err
        assert len(err.decode().strip().splitlines()) == 1, err
    server.close()


def test_a_reset_while_the_client_still_sends_is_reported(agent):
    server = guest_servers.Server(guest_servers.reset_after(1))
    proc = subprocess.Popen([HVTERM, "nc", agent.target, str(server.port)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=BASE_ENV)
    assert proc.stdout.read(1) == b"x"
    try:
        for _ in range(64):
            proc.stdin.write(b"y" * 65536)
            proc.stdin.flush()
    except BrokenPipeError:
        pass
    out, err = proc.communicate(timeout=TIMEOUT)
    assert proc.returncode == 255, err
    assert "in the guest broke" in err.decode(), err
    server.close()


def test_forward_policy_none_and_local_name_the_option(workdir, echo_server):
    for args, destination, expected in [
        (["--forward", "none"], str(echo_server.port), "(hvtermd --forward none)"),
        (["--forward", "local"], "192.0.2.1:22", "only to the guest itself (hvtermd --forward local), not to 192.0.2.1:22"),
        (["--forward-allow", f"127.0.0.1:{echo_server.port},unix:/run/x.sock"], "127.0.0.1:1",
         "127.0.0.1:1 is not among the destinations this agent allows (hvtermd --forward-allow)"),
    ]:
        a = Agent(os.path.join(workdir), args)
        try:
            proc = hvterm("nc", a.target, destination, input=b"")
            assert proc.returncode == 255
            assert expected in one_line_error(proc)
            if args[0] != "--forward" or args[1] != "none":  # the allowed ones still work
                ok = hvterm("nc", a.target, f"127.0.0.1:{echo_server.port}", input=b"ok\n")
                assert (ok.returncode, ok.stdout) == (0, b"ok\n"), ok.stderr
            hvterm("exec", a.target, "--", "true", check=0)  # programs are not forwarding
        finally:
            a.stop()


@pytest.mark.parametrize("args, expected", [
    (["--forward", "some"], "--forward must be none, local or any"),
    (["--forward-allow", "example.com"], "--forward-allow: 'example.com' is not HOST:PORT"),
    (["--forward-allow", "unix:/x:*"], "--forward-allow: 'unix:/x:*'"),
    (["--max-forwards", "0"], "--max-forwards must be at least 1"),
])
def test_bad_forward_options_are_one_line(workdir, args, expected):
    from conftest import HVTERMD
    proc = subprocess.run([HVTERMD, "--listen", "unix:" + os.path.join(workdir, "x.sock"), *args],
                          capture_output=True, env=BASE_ENV, timeout=TIMEOUT)
    assert proc.returncode == 2
    assert expected in proc.stderr.decode(), proc.stderr


def test_the_forward_limit_is_its_own_and_ls_shows_connections(workdir):
    server = guest_servers.Server(guest_servers.hold)
    a = Agent(workdir, ["--max-forwards", "1", "--max-sessions", "1"])
    try:
        holder = subprocess.Popen([HVTERM, "nc", a.target, str(server.port)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=BASE_ENV)
        wait_for(lambda: server.accepted == 1, "the first connection")
        second = hvterm("nc", a.target, str(server.port), input=b"")
        assert second.returncode == 255
        assert "forwarded connection limit reached (1; see hvtermd --max-forwards)" in one_line_error(second)
        assert hvterm("exec", a.target, "--", "echo", "still", check=0).stdout == b"still\n"

        listing = json.loads(hvterm("ls", a.target, "--json", check=0).stdout)[0]
        assert listing["mode"] == "connection"
        assert listing["command"] == f"connection to localhost:{server.port}"
        table = hvterm("ls", a.target, check=0).stdout.decode()
        assert f"connection to localhost:{server.port}" in table

        holder.stdin.write(b"bye")
        holder.stdin.close()
        assert holder.wait(timeout=TIMEOUT) == 0, holder.stderr.read()
        assert server.wait_ended(TIMEOUT) == b"bye"
        wait_for(lambda: b"no sessions" in hvterm("ls", a.target).stdout, "the connection session to go")
        assert hvterm("nc", a.target, str(server.port), input=b"again", check=0).returncode == 0
    finally:
        a.stop()
        server.close()


def test_ctrl_c_closes_the_guest_connection_and_exits_130(agent):
    server = guest_servers.Server(guest_servers.hold)
    proc = subprocess.Popen([HVTERM, "nc", agent.target, str(server.port)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=BASE_ENV)
    proc.stdin.write(b"partial")
    proc.stdin.flush()
    wait_for(lambda: server.accepted == 1, "the guest connection")
    wait_for(lambda: b"connection to" in hvterm("ls", agent.target).stdout, "the session")
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=TIMEOUT) == 130, proc.stderr.read()
    assert server.wait_ended(TIMEOUT) == b"partial"
    wait_for(lambda: b"no sessions" in hvterm("ls", agent.target).stdout, "the session to go")
    server.close()


def test_a_client_that_disappears_leaves_a_session_that_kill_ends_without_leaks(agent):
    server = guest_servers.Server(guest_servers.hold)
    hvterm("exec", agent.target, "--", "true", check=0)
    baseline = agent.fd_count()
    proc = subprocess.Popen([HVTERM, "nc", agent.target, str(server.port)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=BASE_ENV)
    wait_for(lambda: server.accepted == 1, "the guest connection")
    proc.kill()
    proc.wait()
    wait_for(lambda: b"detached" in hvterm("ls", agent.target).stdout, "the session to be detached")
    entry = json.loads(hvterm("ls", agent.target, "--json", check=0).stdout)[0]
    hvterm("kill", agent.target, entry["id"][:8], check=0)
    assert server.wait_ended(TIMEOUT) == b""  # the agent closed the guest connection at once
    # Like a killed program's, its end waits for a client to collect it; a second kill discards it.
    wait_for(lambda: b"exited(143)" in hvterm("ls", agent.target).stdout, "the session to show its end")
    hvterm("kill", agent.target, entry["id"][:8], check=0)
    wait_for(lambda: b"no sessions" in hvterm("ls", agent.target).stdout, "the session to go")
    wait_for(lambda: agent.fd_count() == baseline, f"fd count back to {baseline}")
    server.close()


def test_an_agent_without_connections_is_too_old(workdir):
    """A fake agent that speaks protocol 1 without the connection capability."""
    import rawwire
    def serve(conn):
        conn.recv(4096)
        old = rawwire.frame(rawwire.HELLO, b"HVTM" + (1).to_bytes(2, "little") + (0x0F).to_bytes(4, "little") +
                            rawwire.string(b"hvtermd 0.0.9") + rawwire.string(b""))
        conn.sendall(old)
        conn.recv(4096)  # nothing more comes: the client gives up without a request

    path = os.path.join(workdir, "old.sock")
    listener, _ = serve_once_on_unix_socket(path, serve)
    proc = hvterm("nc", "unix:" + path, "22", input=b"")
    assert proc.returncode == 255
    assert "this agent (hvtermd 0.0.9) is too old to open connections in the guest" in one_line_error(proc)
    listener.close()
