"""A Unix-socket relay between client and agent that the test can cut at any moment, standing in
for a connection reset, a VM save/restore or a migration."""
import os
import random
import socket
import threading
import time


class Relay:
    def __init__(self, directory, upstream_path, name="relay.sock"):
        self.path = os.path.join(directory, name)
        self.target = "unix:" + self.path
        self.upstream = upstream_path
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(256)  # many clients may (re)connect at once
        self.lock = threading.Lock()
        self.pairs = []
        self.connections = 0  # how many client connections were relayed (1 + reconnects)
        self.cuts = 0
        self.closed = False
        self.forwarded = 0     # bytes relayed, both directions
        self.cut_points = []   # cut when `forwarded` passes each of these, in order
        self.request_cut = None  # (chunk number, forward it?): see cut_at_request
        self.refusing = False    # while set, connections are accepted and closed at once
        self.refuse_after_cut = False
        self.refused = 0
        self.random_cuts = 0   # connections broken by cut_randomly
        self.rate = None       # bytes/s per connection and direction; None: as fast as they go
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.refusing:  # the agent is unreachable for now (e.g. the VM is being restored)
                client.close()
                with self.lock:
                    self.refused += 1
                continue
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(self.upstream)
            except OSError:
                client.close()
                continue
            pair = (client, upstream)
            with self.lock:
                self.pairs.append(pair)
                self.connections += 1
            state = {"from_client": 0, "silence_agent": False, "pair": pair}
            for a, b, up in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pump, args=(a, b, up, state), daemon=True).start()

    def cut_after(self, *byte_counts):
        """Cut mid-stream once this many bytes (in total, both directions) have been relayed."""
        with self.lock:
            self.cut_points = sorted(self.forwarded + n for n in byte_counts)

    def cut_at_request(self, chunk, forward, then_refuse=False):
        """On the next connection, cut at the client's `chunk`-th write (2: the request after HELLO).
        forward=True passes it to the agent and cuts when the agent answers, before the client sees a
        byte of the answer; forward=False cuts without passing it on. then_refuse=True refuses the
        connections after the cut until `refusing` is cleared."""
        with self.lock:
            self.request_cut = (chunk, forward)
            self.refuse_after_cut = then_refuse

    def _pump(self, src, dst, from_client, state):
        started, moved = time.monotonic(), 0
        try:
            while True:
                data = src.recv(65536 if self.rate else 262144)
                if not data:
                    break
                with self.lock:
                    silenced = not from_client and state["silence_agent"]
                    due_request = False
                    if from_client:
                        state["from_client"] += 1
                        if self.request_cut and self.request_cut[0] == state["from_client"]:
                            due_request, forward = True, self.request_cut[1]
                            self.request_cut = None
                            state["silence_agent"] = forward
                if silenced or (due_request and not forward):
                    if self.refuse_after_cut:
                        self.refusing = True
                    self.cut()
                    break
                dst.sendall(data)
                with self.lock:
                    self.forwarded += len(data)
                    due = bool(self.cut_points) and self.forwarded >= self.cut_points[0]
                    if due:
                        self.cut_points.pop(0)
                if due:
                    self.cut()
                if self.rate:  # a slow link: the peers' flow control has to hold the rest back
                    moved += len(data)
                    ahead = moved / self.rate - (time.monotonic() - started)
                    if ahead > 0:
                        time.sleep(ahead)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        with self.lock:  # an ended connection is no longer a candidate for cut_randomly
            if state["pair"] in self.pairs:
                self.pairs.remove(state["pair"])

    def cut_randomly(self, seconds, mean_gap, seed):
        """For `seconds`, break one relayed connection chosen at random after each gap (exponentially
        distributed, `mean_gap` seconds on average): mid-handshake, mid-stream or at the exit status,
        whatever it is doing then. Returns the thread; join() it to wait for the end of the window."""
        rng = random.Random(seed)
        deadline = time.monotonic() + seconds

        def run():
            while True:
                gap = rng.expovariate(1 / mean_gap)
                if time.monotonic() + gap >= deadline:
                    return
                time.sleep(gap)
                with self.lock:
                    if not self.pairs:
                        continue
                    pair = self.pairs.pop(rng.randrange(len(self.pairs)))
                    self.random_cuts += 1
                _break(pair)

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    def cut(self):
        """Break every relayed connection abruptly, mid-stream, in both directions."""
        with self.lock:
            pairs, self.pairs = self.pairs, []
            self.cuts += 1
        for pair in pairs:
            _break(pair)

    def close(self):
        self.listener.close()
        self.cut()


def _break(pair):
    for s in pair:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()
