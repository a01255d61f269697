"""A raw protocol peer for the end-to-end tests: frames built byte by byte (src/protocol/PROTOCOL.md),
so a test can say exactly what a hostile or broken client sends and see exactly what comes back."""
import struct

HELLO, OPEN, ATTACH, SESSION, DATA, EOF, WINSIZE, SIGNAL, ACK, EXIT = range(1, 11)
PING, PONG, ERROR, DETACH, LIST, LIST_ENTRY, LIST_END, KILL, OK, COLLECT = range(11, 21)


def frame(ftype, payload=b"", flags=0, reserved=0):
    return struct.pack("<BBHI", ftype, flags, reserved, len(payload)) + payload


def string(s):
    return struct.pack("<H", len(s)) + s


def strings(items):
    return struct.pack("<H", len(items)) + b"".join(string(x) for x in items)


def hello(token=b"", version=1, capabilities=0):
    return frame(HELLO, b"HVTM" + struct.pack("<HI", version, capabilities) + string(b"test") + string(token))


def open_frame(argv, session_id=b"", env=(), term=b"", cwd=b"", user=b"", mode=0):
    payload = (bytes([mode]) + struct.pack("<HHHH", 24, 80, 0, 0) + string(term) + string(cwd) + string(user) +
               strings(list(argv)) + strings(list(env)) + session_id)
    return frame(OPEN, payload)


def data_frame(stream, offset, data):
    return frame(DATA, struct.pack("<BQ", stream, offset) + data)


def frames_in(data):
    """The complete frames at the start of `data`, as (type, payload)."""
    out = []
    while len(data) >= 8:
        ftype, _, _, length = struct.unpack("<BBHI", data[:8])
        if len(data) < 8 + length:
            break
        out.append((ftype, data[8:8 + length]))
        data = data[8 + length:]
    return out


def error_of(data):
    errors = [p for t, p in frames_in(data) if t == ERROR]
    assert errors, data
    code, n = struct.unpack("<HH", errors[-1][:4])
    return code, errors[-1][4:4 + n].decode()
