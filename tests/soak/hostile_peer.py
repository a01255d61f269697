"""A hostile peer for the soak tier. It runs as a program of its own so that its work does not
share an interpreter (and its lock) with the normal clients the test times meanwhile. For
--seconds it keeps up, all at once:

- --idle connections that never make a request (every other one stops after its HELLO);
- --slow connections that send a HELLO and an OPEN one byte per second;
- --flooders clients that open a session running `sleep` (which never reads its stdin) and push
  stdin DATA far beyond the window the agent grants, up to --flood-mib, one session after another;
- one connection after another of random frames: garbage from the first byte, random frames after
  a HELLO, or random session frames inside a session running `cat`.

Then it closes everything, discards the sessions it opened, and prints its counts as one JSON line
on stdout."""
import argparse
import collections
import json
import os
import random
import select
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import rawwire as wire  # noqa: E402

MAX_DATA = 65536 - 9   # a DATA payload starts with stream (1) and offset (8)
EXITED = 2             # a LIST_ENTRY's state
ANSWER_TIMEOUT = 10    # seconds for the agent to answer a well-formed request
STALL_TIMEOUT = 10     # a flood write blocked this long: the agent stopped reading
RANDOM_WAIT = 1.0      # how long a random-frames connection waits for the agent to close it


class Peer:
    def __init__(self, args):
        self.args = args
        self.deadline = time.monotonic() + args.seconds
        self.lock = threading.Lock()
        self.counts = collections.Counter()
        self.floods = []

    def over(self):
        return time.monotonic() >= self.deadline

    def count(self, key, n=1):
        with self.lock:
            self.counts[key] += n

    def connect(self, timeout=ANSWER_TIMEOUT):
        """A connection to the agent; a full accept queue (EAGAIN) is waited out: an attacker retries."""
        deadline = time.monotonic() + timeout
        while True:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(timeout)
            try:
                s.connect(self.args.socket)
                return s
            except BlockingIOError:
                s.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def request(self, frames, until):
        """One connection: HELLO and `frames`; the answer frames up to one whose type is in `until`."""
        with self.connect() as s:
            s.sendall(wire.hello() + frames)
            return read_until(s, until)

    def discard(self, session_id):
        """Kill a session of ours and forget it (killing an exited session discards it)."""
        deadline = time.monotonic() + ANSWER_TIMEOUT
        kill = wire.frame(wire.KILL, session_id + bytes([9]))
        self.request(kill, {wire.OK, wire.ERROR})
        while time.monotonic() < deadline:
            listed = self.request(wire.frame(wire.LIST), {wire.LIST_END, wire.ERROR})
            states = {p[:16]: p[16] for t, p in listed if t == wire.LIST_ENTRY}  # id, state
            if session_id not in states:
                return
            if states[session_id] == EXITED:
                self.request(kill, {wire.OK, wire.ERROR})
            time.sleep(0.05)
        self.count("sessions not discarded")

    def open_session(self, rng, argv):
        """A connection with a session of ours running `argv`: (socket, session id)."""
        session_id = rng.randbytes(16)
        s = self.connect()
        s.sendall(wire.hello() + wire.open_frame(argv, session_id))
        answer = read_until(s, {wire.SESSION, wire.ERROR, wire.EXIT})
        if not answer or answer[-1][0] != wire.SESSION:
            s.close()
            raise ConnectionError(f"OPEN {argv} answered {answer}")
        return s, session_id

    def idle(self):
        held = []
        for i in range(self.args.idle):
            try:
                s = self.connect()
                if i % 2:
                    s.sendall(wire.hello())
                held.append(s)
            except OSError:
                self.count("idle connections refused")
        self.count("idle connections held", len(held))
        while not self.over():
            time.sleep(0.2)
        for s in held:
            answer, closed = drain(s)
            if closed:
                self.count("idle connections the agent closed")
            frames = wire.frames_in(answer)
            for t, p in frames:
                if t == wire.ERROR:  # e.g. a handshake timeout (1) or a connection limit (5)
                    self.count(f"idle connections given ERROR {struct.unpack('<H', p[:2])[0]}")
            s.close()

    def slow(self):
        message = wire.hello() + wire.open_frame([b"true"])
        held = []
        for _ in range(self.args.slow):
            held.append(self.connect())
        sent = 0
        while not self.over() and sent < len(message):
            for s in held:
                try:
                    s.send(message[sent:sent + 1])
                except OSError:
                    pass  # the agent gave up on it: counted below
            sent += 1
            time.sleep(1)
        self.count("slow connections", len(held))
        self.count("slow connections the agent closed", sum(closed_by_agent(s) for s in held))
        for s in held:
            s.close()

    def flood(self, seed):
        rng = random.Random(seed)
        chunk = rng.randbytes(MAX_DATA)
        limit = self.args.flood_mib << 20
        while not self.over():
            s, session_id = self.open_session(rng, [b"sleep", b"3600"])
            pushed, ended, answer = 0, "pushed everything", b""
            s.settimeout(STALL_TIMEOUT)
            while pushed < limit:
                try:
                    s.sendall(wire.data_frame(0, pushed, chunk))
                except socket.timeout:
                    ended = "agent stopped reading"
                    break
                except OSError:
                    ended = "agent closed"
                    break
                pushed += len(chunk)
                got, eof = drain(s)
                answer += got
                if eof:
                    ended = "agent closed"
                    break
            if ended != "agent stopped reading":
                s.settimeout(2)
                answer += read_all(s) or b""
            s.close()
            frames = wire.frames_in(answer)
            errors = [p[4:4 + struct.unpack("<H", p[2:4])[0]].decode(errors="replace")
                      for t, p in frames if t == wire.ERROR]
            with self.lock:
                self.floods.append({"pushed": pushed, "ended": ended, "error": errors[0] if errors else None})
            self.discard(session_id)
            time.sleep(self.args.flood_pause)

    def random_frames(self, seed):
        rng = random.Random(seed)
        while not self.over():
            session_id = None
            try:
                kind = rng.random()
                if kind < 0.2:
                    s, data = self.connect(), rng.randbytes(rng.randint(1, 400))
                elif kind < 0.6:
                    s, data = self.connect(), wire.hello() + random_frames(rng)
                else:
                    s, session_id = self.open_session(rng, [b"cat"])
                    data = random_frames(rng, in_session=True)
                with s:
                    s.sendall(data)
                    s.settimeout(RANDOM_WAIT)
                    answer = read_all(s)
                    if answer is None:
                        self.count("random: still open after 1 s")
                    else:
                        frames = wire.frames_in(answer)
                        self.count("random: ERROR and closed" if any(t == wire.ERROR for t, _ in frames)
                                   else "random: closed without ERROR")
            except OSError:
                self.count("random: reset")
            if session_id:
                self.discard(session_id)
            time.sleep(self.args.random_pause)


def random_frames(rng, in_session=False):
    """A few frames, mostly well-formed headers with payloads that may or may not parse."""
    session_types = [wire.DATA, wire.EOF, wire.ACK, wire.WINSIZE, wire.SIGNAL, wire.PING, wire.DETACH,
                     wire.COLLECT]
    out = b""
    for _ in range(rng.randint(1, 6)):
        ftype = rng.choice(session_types) if in_session and rng.random() < 0.8 else rng.randrange(0x18)
        if rng.random() < 0.5:  # shaped like DATA, EOF and ACK: stream and a near or far offset
            payload = struct.pack("<BQ", rng.randrange(4), rng.choice(
                [0, rng.randrange(1 << 20), rng.randrange(1 << 64)])) + rng.randbytes(rng.randrange(200))
        else:
            payload = rng.randbytes(rng.randrange(300))
        flags = 0 if rng.random() < 0.9 else rng.randrange(256)
        out += wire.frame(ftype, payload, flags)
    if rng.random() < 0.1:  # a header that promises more than ever comes
        out += struct.pack("<BBHI", wire.DATA, 0, 0, rng.randrange(1, 1 << 32))
    return out


def read_until(s, types):
    data = b""
    while True:
        frames = wire.frames_in(data)
        if any(t in types for t, _ in frames):
            return frames
        chunk = s.recv(65536)
        if not chunk:
            return frames
        data += chunk


def read_all(s):
    """Everything until the agent closes; None if it keeps the connection open past the timeout."""
    data = b""
    try:
        while chunk := s.recv(65536):
            data += chunk
    except socket.timeout:
        return None
    except OSError:
        pass  # reset after the answer
    return data


def drain(s):
    """What the agent has sent so far, without waiting: (bytes, closed?)."""
    data = b""
    while select.select([s], [], [], 0)[0]:
        try:
            chunk = s.recv(65536)
        except OSError:
            return data, True
        if not chunk:
            return data, True
        data += chunk
    return data, False


def closed_by_agent(s):
    return bool(drain(s)[1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", required=True)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--idle", type=int, default=500)
    parser.add_argument("--slow", type=int, default=20)
    parser.add_argument("--flooders", type=int, default=4)
    parser.add_argument("--flood-mib", type=int, default=32)
    parser.add_argument("--flood-pause", type=float, default=2)
    parser.add_argument("--random-pause", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    peer = Peer(args)
    jobs = [peer.idle, peer.slow] + [lambda seed=args.seed + i: peer.flood(seed) for i in range(args.flooders)]
    jobs.append(lambda: peer.random_frames(args.seed + 100))
    failures = []

    def run(job):
        try:
            job()
        except Exception as e:  # a part that could not do its job makes the whole run fail
            failures.append(repr(e))
    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"counts": dict(peer.counts), "floods": peer.floods, "failures": failures}))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
