"""The wire protocol (src/protocol/PROTOCOL.md) spoken by hand, for tests that play a broken or
hostile peer: frame encoders for what a client sends and a decoder for what the agent answers."""
import struct

HELLO, OPEN, ATTACH, SESSION, DATA, EOF, WINSIZE, SIGNAL, ACK, EXIT = range(0x01, 0x0B)
PING, PONG, ERROR, DETACH, LIST, LIST_ENTRY, LIST_END, KILL, OK, COLLECT = range(0x0B, 0x15)
MAX_PAYLOAD = 65536
MAX_DATA = MAX_PAYLOAD - 9  # a DATA payload starts with stream (1) and offset (8)


def frame(ftype, payload=b"", flags=0, reserved=0):
    return struct.pack("<BBHI", ftype, flags, reserved, len(payload)) + payload


def hello(token=b""):
    return frame(HELLO, b"HVTM" + struct.pack("<HI", 1, 0) + struct.pack("<H", 4) + b"test" +
                 struct.pack("<H", len(token)) + token)


def open_frame(argv, session_id=b""):
    """OPEN in pipes mode with the agent's defaults, and the session id the client chose (if any)."""
    strs = lambda items: struct.pack("<H", len(items)) + b"".join(struct.pack("<H", len(x)) + x for x in items)
    payload = b"\0" + struct.pack("<HHHH", 24, 80, 0, 0) + b"\0\0" * 3 + strs(argv) + strs([]) + session_id
    return frame(OPEN, payload)


def data_frame(stream, offset, data):
    return frame(DATA, struct.pack("<BQ", stream, offset) + data)


def kill_frame(session_id, signal):
    return frame(KILL, session_id + bytes([signal]))


def split_frames(data):
    """The complete frames at the start of `data` as (type, payload), and the bytes after them."""
    out = []
    while len(data) >= 8:
        ftype, _, _, length = struct.unpack("<BBHI", data[:8])
        if len(data) < 8 + length:
            break
        out.append((ftype, data[8:8 + length]))
        data = data[8 + length:]
    return out, data


def frames_in(data):
    out = []
    while len(data) >= 8:
        ftype, _, _, length = struct.unpack("<BBHI", data[:8])
        out.append((ftype, data[8:8 + length]))
        data = data[8 + length:]
    return out


def error_of(data):
    errors = [p for t, p in frames_in(data) if t == ERROR]
    assert errors, data
    code, n = struct.unpack("<HH", errors[-1][:4])
    return code, errors[-1][4:4 + n].decode()


def list_entry_state(payload):
    """(session id, state) of a LIST_ENTRY: state 0 attached, 1 detached, 2 exited."""
    return payload[:16], payload[16]
