"""Background sampling of the guard's resident memory and of its established TCP connections."""

import os
import re
import subprocess
import threading
import time
from dataclasses import dataclass, field

_INODE = re.compile(r"\bino:(\d+)")


def read_rss_kib(pid):
    """Return VmRSS of pid in KiB from /proc/PID/status, or None once the process is gone."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def _split_port(address):
    return int(address.rsplit(":", 1)[1])


def socket_inodes(pid):
    """Return the inodes of the sockets that process pid has open (empty once it exited).

    Reading /proc/PID/fd of a few known client processes is far cheaper than 'ss -p', which
    walks every process on the machine and took 0.3 s a call on a loaded 2-core machine.
    """
    inodes = set()
    try:
        descriptors = os.listdir(f"/proc/{pid}/fd")
    except (FileNotFoundError, PermissionError):
        return inodes
    for descriptor in descriptors:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{descriptor}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def list_established(port):
    """Return (server_side, client_inodes) for established TCP connections on port.

    server_side is the set of client ports that the listener on port has open.
    client_inodes maps the local port of each client-side socket on this machine to its inode.
    """
    output = subprocess.run(
        ["ss", "-Htne", "state", "established", f"( sport = :{port} or dport = :{port} )"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    server_side = set()
    client_inodes = {}
    for line in output.splitlines():
        columns = line.split()
        if len(columns) < 4:
            continue
        local_port = _split_port(columns[2])
        peer_port = _split_port(columns[3])
        inode = _INODE.search(line)
        if local_port == port:
            server_side.add(peer_port)
        elif peer_port == port and inode:
            client_inodes[local_port] = int(inode.group(1))
    return server_side, client_inodes


def count_closing(port):
    """Count the listener's sockets that are closed by the guard but still hold unsent data or wait
    for the peer's FIN acknowledgement (FIN-WAIT-1, CLOSING, LAST-ACK)."""
    output = subprocess.run(
        ["ss", "-Htn", "state", "fin-wait-1", "state", "closing", "state", "last-ack", f"( sport = :{port} )"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return len(output.splitlines())


@dataclass
class ConnectionLife:
    """One client connection as the listener saw it, in monotonic seconds."""

    client_port: int
    first_seen: float
    last_seen: float
    closed_at: float | None = None
    owner: str | None = None


@dataclass
class Sample:
    time: float
    rss_kib: int | None
    established: int
    established_by_owner: dict = field(default_factory=dict)


class GuardSampler(threading.Thread):
    """Samples the guard's VmRSS and the listener's established connections every interval seconds.

    A connection counts as closed by the guard at the first sample where its server-side
    socket is no longer established, so each lifetime is accurate to about one interval.
    Connections get the name of their client process when that process was registered
    with track(); the others have owner None.
    """

    def __init__(self, guard_pid, guard_port, interval=0.25):
        super().__init__(name=f"sampler-{guard_port}", daemon=True)
        self.guard_pid = guard_pid
        self.guard_port = guard_port
        self.interval = interval
        self.samples = []
        self.connections = {}
        self.errors = []
        self._tracked = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def track(self, name, pid):
        """Name the connections of client process pid as name from the next sample on."""
        with self._lock:
            self._tracked[name] = pid

    def untrack(self, name):
        with self._lock:
            self._tracked.pop(name, None)

    def run(self):
        while not self._stopping.is_set():
            started = time.monotonic()
            try:
                self._take_sample(started)
            except (subprocess.CalledProcessError, OSError) as error:
                self.errors.append(str(error))
            elapsed = time.monotonic() - started
            self._stopping.wait(max(0.0, self.interval - elapsed))

    def _take_sample(self, started):
        rss = read_rss_kib(self.guard_pid)
        with self._lock:
            tracked = dict(self._tracked)
        owner_of_inode = {}
        for name, pid in tracked.items():
            for inode in socket_inodes(pid):
                owner_of_inode[inode] = name

        server_side, client_inodes = list_established(self.guard_port)
        # ss reads the socket table somewhere between these two instants.
        now = (started + time.monotonic()) / 2
        client_owner = {
            client_port: owner_of_inode[inode]
            for client_port, inode in client_inodes.items()
            if inode in owner_of_inode
        }

        with self._lock:
            open_lives = {}
            for client_port in server_side:
                life = self.connections.get(client_port)
                if life is None or life.closed_at is not None:
                    life = ConnectionLife(client_port, first_seen=now, last_seen=now)
                    self.connections[client_port] = life
                life.last_seen = now
                if life.owner is None:
                    life.owner = client_owner.get(client_port)
                open_lives[client_port] = life

            for client_port, life in self.connections.items():
                if life.closed_at is None and client_port not in open_lives:
                    life.closed_at = now

            by_owner = {}
            for life in open_lives.values():
                by_owner[life.owner] = by_owner.get(life.owner, 0) + 1
            self.samples.append(Sample(now, rss, len(server_side), by_owner))

    def stop(self):
        self._stopping.set()
        self.join(timeout=5)

    def peak_rss_kib(self, start=None, end=None):
        with self._lock:
            values = [
                sample.rss_kib
                for sample in self.samples
                if sample.rss_kib is not None
                and (start is None or sample.time >= start)
                and (end is None or sample.time <= end)
            ]
        return max(values) if values else None

    def latest(self):
        with self._lock:
            return self.samples[-1] if self.samples else None

    def samples_between(self, start, end):
        with self._lock:
            return [sample for sample in self.samples if start <= sample.time <= end]

    def lives_owned_by(self, owner, since):
        """Return the connections owned by process name owner that were first seen after since."""
        with self._lock:
            return [
                life
                for life in self.connections.values()
                if life.owner == owner and life.first_seen >= since
            ]

    def write_csv(self, path, origin):
        """Write every sample as seconds since origin, VmRSS in KiB and the established count."""
        with self._lock, open(path, "w", encoding="ascii") as output:
            output.write("seconds,rss_kib,established\n")
            for sample in self.samples:
                output.write(f"{sample.time - origin:.2f},{sample.rss_kib or ''},{sample.established}\n")
