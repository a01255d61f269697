"""A raw protocol peer for the end-to-end tests: frames built byte by byte (src/protocol/PROTOCOL.md),
so a test can say exactly what a hostile or broken client sends and see exactly what comes back."""
import os
import socket
import struct
import threading

from conftest import TIMEOUT

HELLO, OPEN, ATTACH, SESSION, DATA, EOF, WINSIZE, SIGNAL, ACK, EXIT = range(1, 11)
PING, PONG, ERROR, DETACH, LIST, LIST_ENTRY, LIST_END, KILL, OK, COLLECT = range(11, 21)

CAP_RESUME, CAP_TOKEN, CAP_OPEN_ID, CAP_COLLECT_OK = 1, 2, 4, 8
CAP_NAMES, CAP_KILL_RECIPIENT = 0x40, 0x80


def frame(ftype, payload=b"", flags=0, reserved=0):
    return struct.pack("<BBHI", ftype, flags, reserved, len(payload)) + payload


def string(s):
    return struct.pack("<H", len(s)) + s


def strings(items):
    return struct.pack("<H", len(items)) + b"".join(string(x) for x in items)


def hello(token=b"", version=1, capabilities=0):
    return frame(HELLO, b"HVTM" + struct.pack("<HI", version, capabilities) + string(b"test") + string(token))


def open_frame(argv, session_id=b"", env=(), term=b"", cwd=b"", user=b"", mode=0, name=None):
    payload = (bytes([mode]) + struct.pack("<HHHH", 24, 80, 0, 0) + string(term) + string(cwd) + string(user) +
               strings(list(argv)) + strings(list(env)) + session_id + (b"" if name is None else string(name)))
    return frame(OPEN, payload)


def attach_frame(session_id, resume=False, received=(0, 0, 0)):
    return frame(ATTACH, session_id + bytes([1 if resume else 0]) + struct.pack("<QQQ", *received) +
                 struct.pack("<HHHH", 24, 80, 0, 0))


def data_frame(stream, offset, data):
    return frame(DATA, struct.pack("<BQ", stream, offset) + data)


def stream_offset_frame(ftype, stream, offset):
    return frame(ftype, struct.pack("<BQ", stream, offset))


def frames_in(data):
    out = []
    while len(data) >= 8:
        ftype, _, _, length = struct.unpack("<BBHI", data[:8])
        if len(data) < 8 + length:
            break
        out.append((ftype, data[8:8 + length]))
        data = data[8 + length:]
    return out


def read_frame(conn):
    """(type, payload) of the next frame on a blocking socket, or (None, None) once it has closed."""
    header = b""
    while len(header) < 8:
        more = conn.recv(8 - len(header))
        if not more:
            return None, None
        header += more
    ftype, _, _, length = struct.unpack("<BBHI", header)
    payload = b""
    while len(payload) < length:
        more = conn.recv(length - len(payload))
        if not more:
            return None, None
        payload += more
    return ftype, payload


class UnixServer:
    """A Unix socket `name` in `directory` whose connections go to on_connection(conn), accepted on
    a thread of its own, until close()."""

    def __init__(self, directory, name):
        self.path = os.path.join(directory, name)
        self.target = "unix:" + self.path
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(self.path)
        self.server.listen(8)
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.on_connection(conn)

    def on_connection(self, conn):
        raise NotImplementedError

    def close(self):
        self.server.close()


class FakeAgent(UnixServer):
    """A stand-in agent on a Unix socket in `directory`: each connection goes to converse(conn), one
    after another, and is closed after it."""

    def __init__(self, directory, name="fake.sock"):
        super().__init__(directory, name)

    def on_connection(self, conn):
        with conn:
            self.converse(conn)

    def converse(self, conn):
        raise NotImplementedError


def error_of(data):
    errors = [p for t, p in frames_in(data) if t == ERROR]
    assert errors, data
    code, n = struct.unpack("<HH", errors[-1][:4])
    return code, errors[-1][4:4 + n].decode()


def hello_reply(payload):
    """(version, capabilities) of the agent's HELLO."""
    assert payload[:4] == b"HVTM", payload
    return struct.unpack("<HI", payload[4:10])


def exchange(agent, data, read=True, half_close=True):
    """Send `data` on a new connection; return everything the agent sends until it closes."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    s.connect(agent.sock)
    s.sendall(data)
    if half_close:
        s.shutdown(socket.SHUT_WR)  # a peer that says no more: the agent must not wait for the rest
    out = b""
    if read:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    s.close()
    return out


class RawClient:
    """One connection that reads frames as they come."""

    def __init__(self, agent, buffer_size=None):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if buffer_size is not None:  # small buffers: "a peer that does not read" shows sooner
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buffer_size)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, buffer_size)
        self.sock.settimeout(TIMEOUT)
        self.sock.connect(agent.sock)
        self.pending = b""

    def send(self, data):
        self.sock.sendall(data)

    def next_frame(self):
        """The next frame, or None at the end of the stream."""
        while True:
            got = frames_in(self.pending)
            if got:
                ftype, payload = got[0]
                self.pending = self.pending[8 + len(payload):]
                return ftype, payload
            chunk = self.sock.recv(65536)
            if not chunk:
                return None
            self.pending += chunk

    def expect(self, ftype):
        got = self.next_frame()
        assert got is not None and got[0] == ftype, got
        return got[1]

    def until_closed(self):
        """Every frame up to the agent's end of the connection."""
        out = []
        while True:
            try:
                got = self.next_frame()
            except ConnectionResetError:
                return out
            if got is None:
                return out
            out.append(got)

    def close(self):
        self.sock.close()


def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for " + str(pid))


def session_id():
    return os.urandom(16)
