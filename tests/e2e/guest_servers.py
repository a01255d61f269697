"""Small TCP servers standing in for a guest's services, for the tests of `hvterm nc` and forwards.
Each serves every connection on its own thread and says what it saw, so a test can check the guest's
side of a connection, not only the client's."""
import hashlib
import socket
import struct
import threading


class Server:
    """Listens on 127.0.0.1 (or `host`) on a free port; `handle(conn)` serves one connection."""

    def __init__(self, handle, host="127.0.0.1"):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.listener = socket.socket(family, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        self.handle = handle
        self.lock = threading.Lock()
        self.accepted = 0
        self.ended = threading.Semaphore(0)  # released once per connection the server finished with
        self.seen = []                        # what handlers report, in the order they finish
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.accepted += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        try:
            result = self.handle(conn)
        except OSError as e:
            result = e
        finally:
            conn.close()
        with self.lock:
            self.seen.append(result)
        self.ended.release()

    def wait_ended(self, timeout):
        assert self.ended.acquire(timeout=timeout), "the guest-side server never finished a connection"
        with self.lock:
            return self.seen[-1]

    def close(self):
        self.listener.close()


def read_all(conn):
    chunks = []
    while True:
        data = conn.recv(1 << 20)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


def echo(conn):
    """Echoes everything; half-closes after the client's EOF. Returns how many bytes it echoed."""
    total = 0
    while True:
        data = conn.recv(1 << 20)
        if not data:
            break
        conn.sendall(data)
        total += len(data)
    conn.shutdown(socket.SHUT_WR)
    return total


def digest_after_eof(conn):
    """Answers only once it has read the client's EOF: the SHA-256 of everything it read."""
    data = read_all(conn)
    conn.sendall(hashlib.sha256(data).hexdigest().encode())
    return len(data)


def greet_then_read(conn):
    """Sends a greeting and its own EOF at once, then reads the client's bytes to their EOF."""
    conn.sendall(b"hello from the guest\n")
    conn.shutdown(socket.SHUT_WR)
    return read_all(conn)


def reset_after(size):
    """Sends `size` bytes, then resets the connection (SO_LINGER 0)."""
    def handle(conn):
        conn.sendall(b"x" * size)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return size
    return handle


def hold(conn):
    """Keeps the connection until the client's side closes it; returns what it read."""
    return read_all(conn)
