"""A fault-injecting TCP proxy for the network tests: one listening port on 127.0.0.1 per directed
link (node i dialing node j), forwarding each accepted connection to the link's target.

The nodes only check the key a peer proves, not its address (docs/p2p.md), so a test points
node i's persistent-peer entry for j at the port of link i->j and every dial goes through a
link. Both ends of a pair dial each other; with one link per ordered pair every connection
between two nodes crosses a link, and cutting i->j and j->i separates them.

Faults, all thread-safe and effective at once:
- partition(A, B): the links between the groups (both ways) cut their open connections (both
  sockets reset) and refuse new ones (accepted, then reset at once); heal() lifts every
  partition.
- set_delay(seconds, links=None): each chunk is forwarded `seconds` after it arrived (order
  kept, throughput not throttled); 0 lifts it.

Counters per link (connections accepted, refused, cut; bytes each way) let a test assert that
the traffic really went through the proxy. Threads only: one per listening port, two per
direction of an open connection.
"""
import collections
import socket
import struct
import threading
import time

HOST = "127.0.0.1"


def _reset(sock):
    """Closes with an RST (SO_LINGER 0): the peer sees the connection fail at once. The
    shutdown wakes a thread blocked in recv on it (close alone would not)."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class _Pipe:
    """One direction of a proxied connection: a reader thread queues chunks with their due time
    and a writer thread sends them when due."""

    def __init__(self, link, src, dst, counter):
        self.link, self.src, self.dst, self.counter = link, src, dst, counter
        self.queue = collections.deque()
        self.cond = threading.Condition()
        self.closed = False
        self.record_left = 0    # bytes of the current TLS record still to come
        self.header = b""       # a partial 5-byte TLS record header

    def start(self):
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._write, daemon=True).start()

    def _read(self):
        try:
            while True:
                data = self.src.recv(65536)
                if not data:
                    break
                with self.cond:
                    self.queue.append((time.monotonic() + self.link.delay, data))
                    self.cond.notify()
        except OSError:
            pass
        with self.cond:
            self.closed = True
            self.cond.notify()

    def _count_records(self, data):
        """TLS application-data records in the stream (5-byte headers: type, version, length):
        about one per p2p frame, which the proxy cannot read."""
        count, i = 0, 0
        while i < len(data):
            if self.record_left:
                step = min(self.record_left, len(data) - i)
                self.record_left -= step
                i += step
                continue
            need = 5 - len(self.header)
            self.header += data[i:i + need]
            i += need
            if len(self.header) == 5:
                if self.header[0] == 23:
                    count += 1
                self.record_left = int.from_bytes(self.header[3:5], "big")
                self.header = b""
        return count

    def _write(self):
        try:
            while True:
                with self.cond:
                    while not self.queue and not self.closed:
                        self.cond.wait()
                    if not self.queue:
                        break  # the source closed and everything was sent
                    due, data = self.queue[0]
                    wait = due - time.monotonic()
                    if wait > 0:
                        self.cond.wait(wait)
                        continue
                    self.queue.popleft()
                self.dst.sendall(data)
                records = self._count_records(data)
                with self.link.lock:
                    self.link.counters[self.counter] += len(data)
                    if records:
                        self.link.counters[self.counter.replace("bytes", "records")] += records
                        second = int(time.time())
                        self.link.records_per_second[(self.counter, second)] += records
            self.dst.shutdown(socket.SHUT_WR)  # pass the half-close on
        except OSError:
            pass
        self.link._connection_done(self)


class Link:
    """Listens on 127.0.0.1 (an ephemeral port unless given) and forwards to (HOST, target_port)."""

    def __init__(self, name, target_port, listen_port=0):
        self.name = name
        self.target_port = target_port
        self.delay = 0.0
        self.blocked = False
        self.lock = threading.Lock()
        self.open = []  # [client socket, upstream socket, pipes done]
        self.counters = collections.Counter()
        self.records_per_second = collections.Counter()  # (direction, Unix second) -> records
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((HOST, listen_port))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.stopped = False
        threading.Thread(target=self._accept, daemon=True, name=f"link {name}").start()

    def _accept(self):
        while not self.stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                blocked = self.blocked
                self.counters["refused" if blocked else "accepted"] += 1
            if blocked:
                _reset(client)
                continue
            try:
                upstream = socket.create_connection((HOST, self.target_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                with self.lock:
                    self.counters["upstream_failed"] += 1
                _reset(client)
                continue
            for s in (client, upstream):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            entry = [client, upstream, 0]
            entry.append(_Pipe(self, client, upstream, "bytes_forward"))
            entry.append(_Pipe(self, upstream, client, "bytes_back"))
            with self.lock:
                if self.blocked:  # partitioned while we were connecting
                    self.counters["cut"] += 1
                    _reset(client)
                    _reset(upstream)
                    continue
                self.open.append(entry)
            entry[3].start()
            entry[4].start()

    def _connection_done(self, pipe):
        with self.lock:
            for entry in self.open:
                if pipe in entry[3:]:
                    entry[2] += 1
                    if entry[2] == 2:
                        self.open.remove(entry)
                        _reset(entry[0])
                        _reset(entry[1])
                    return

    def cut(self):
        """Resets every open connection of the link."""
        with self.lock:
            entries, self.open = self.open, []
            self.counters["cut"] += len(entries)
        for entry in entries:
            _reset(entry[0])
            _reset(entry[1])

    def block(self, blocked):
        with self.lock:
            self.blocked = blocked
        if blocked:
            self.cut()

    def open_connections(self):
        with self.lock:
            return len(self.open)

    def snapshot(self):
        with self.lock:
            return dict(self.counters)

    def busiest_seconds(self, n=3):
        """The n (records, direction, Unix second) with the most TLS records forwarded."""
        with self.lock:
            return sorted(((c, d, sec) for (d, sec), c in self.records_per_second.items()),
                          reverse=True)[:n]

    def close(self):
        self.stopped = True
        try:
            self.listener.close()
        except OSError:
            pass
        self.cut()


class NetProxy:
    """The links of a network, keyed by (source, destination) node index."""

    def __init__(self):
        self.links = {}
        self.lock = threading.Lock()

    def add_link(self, src, dst, target_port, listen_port=0):
        """Creates link src->dst forwarding to target_port; returns its listening port."""
        link = Link(f"{src}->{dst}", target_port, listen_port)
        with self.lock:
            self.links[(src, dst)] = link
        return link.port

    def port(self, src, dst):
        return self.links[(src, dst)].port

    def _between(self, group_a, group_b):
        a, b = set(group_a), set(group_b)
        return [link for (s, d), link in self.links.items()
                if (s in a and d in b) or (s in b and d in a)]

    def partition(self, group_a, group_b):
        """Cuts and refuses every connection between the two groups, both ways."""
        for link in self._between(group_a, group_b):
            link.block(True)

    def isolate(self, node):
        """partition({node}, everyone else)."""
        others = {d for (s, d) in self.links} | {s for (s, d) in self.links}
        self.partition({node}, others - {node})

    def heal(self):
        for link in self.links.values():
            link.block(False)

    def set_delay(self, seconds, links=None):
        """Delays every chunk on the given (src, dst) links (all when None) by `seconds`."""
        for key, link in self.links.items():
            if links is None or key in links:
                link.delay = float(seconds)

    def counters(self):
        """{(src, dst): {accepted, refused, cut, bytes_forward, bytes_back, ...}}."""
        return {key: link.snapshot() for key, link in self.links.items()}

    def open_connections(self, src, dst):
        return self.links[(src, dst)].open_connections()

    def close(self):
        for link in self.links.values():
            link.close()
