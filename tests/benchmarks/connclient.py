"""Open many inbound connections to a proxy on 127.0.0.1 and hold them, for the memory benchmarks.

Modes:
  idle       Open COUNT keep-alive connections, send one GET on each, read the response, then hold the
             connections idle. Prints "ready opened=N ok=N failed=N" once every connection has its response.
  slowloris  Keep COUNT connections with unfinished request headers open: send the request line and one
             header, then one more header byte every INTERVAL seconds. A connection that the server closes
             is replaced by a new one, so COUNT slow connections stay open even when the server closes each
             one at its request-headers timeout. Prints "ready open=N" once COUNT are open, then one
             "status open=N opened=N closed_by_server=N" line per second.

Both modes stop by themselves after --max-seconds, when standard input reaches end of file (the benchmark
closes it), or, in slowloris mode, after --max-connects connection attempts. The target is always
127.0.0.1, on a port from 25000 to 25999.
"""

import argparse
import asyncio
import collections
import contextlib
import os
import random
import sys
import time

HOST = "127.0.0.1"
SLOW_HEADER = b"X-Slow: a\r\n"


async def read_response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response with a Content-Length body and return its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


async def wait_for_stop(deadline: float) -> None:
    """Return when standard input reaches end of file or the deadline passes."""
    loop = asyncio.get_running_loop()
    stdin_closed = loop.create_future()

    def on_stdin() -> None:
        if not os.read(sys.stdin.fileno(), 4096) and not stdin_closed.done():
            stdin_closed.set_result(None)

    try:
        loop.add_reader(sys.stdin.fileno(), on_stdin)
    except PermissionError:
        # epoll cannot watch a regular file such as /dev/null as standard input, so run until the deadline.
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))
        return
    try:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stdin_closed, max(0.0, deadline - time.monotonic()))
    finally:
        loop.remove_reader(sys.stdin.fileno())


async def run_idle(port: int, count: int, parallel: int, deadline: float) -> None:
    connections: list[asyncio.StreamWriter] = []
    ok = 0
    failed = 0
    errors: collections.Counter[str] = collections.Counter()
    gate = asyncio.Semaphore(parallel)
    request = f"GET / HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode()

    async def open_one() -> None:
        nonlocal ok, failed
        async with gate:
            try:
                reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), 10)
                writer.write(request)
                status = await asyncio.wait_for(read_response(reader), 10)
                connections.append(writer)
                if status == 200:
                    ok += 1
                else:
                    failed += 1
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError) as error:
                failed += 1
                errors[type(error).__name__] += 1

    await asyncio.gather(*(open_one() for _ in range(count)))
    error_counts = ",".join(f"{name}:{count}" for name, count in errors.most_common()) or "none"
    print(f"ready opened={len(connections)} ok={ok} failed={failed} errors={error_counts}", flush=True)

    await wait_for_stop(deadline)
    for writer in connections:
        writer.transport.abort()


class SlowConnection(asyncio.Protocol):
    """One slowloris connection: sends the request line and one header, then header bytes when told to."""

    def __init__(self, attack: "SlowlorisAttack") -> None:
        self.attack = attack
        self.transport: asyncio.Transport | None = None
        self.position = 0
        self.next_send = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.attack.request_start)
        # Random phase, so the one-byte writes of all connections spread over the interval.
        self.next_send = time.monotonic() + random.uniform(0, self.attack.interval)
        self.attack.open_connections.add(self)

    def send_next_byte(self) -> None:
        assert self.transport is not None
        self.transport.write(SLOW_HEADER[self.position:self.position + 1])
        self.position = (self.position + 1) % len(SLOW_HEADER)
        self.next_send += self.attack.interval

    def data_received(self, data: bytes) -> None:
        # The server sent a response (408, 431) in place of waiting for the headers: the connection is done.
        assert self.transport is not None
        self.transport.abort()

    def connection_lost(self, exc: Exception | None) -> None:
        self.attack.open_connections.discard(self)
        if not self.attack.stopping:
            self.attack.closed_by_server += 1


class SlowlorisAttack:
    """Keeps COUNT slow connections open, replacing each one that the server closes."""

    def __init__(self, port: int, count: int, parallel: int, interval: float, max_connects: int) -> None:
        self.port = port
        self.count = count
        self.interval = interval
        self.max_connects = max_connects
        self.request_start = f"GET / HTTP/1.1\r\nHost: {HOST}:{port}\r\n".encode()
        self.open_connections: set[SlowConnection] = set()
        self.connecting = 0
        self.opened = 0
        self.attempts = 0
        self.closed_by_server = 0
        self.stopping = False
        self.gate = asyncio.Semaphore(parallel)

    async def open_one(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with self.gate, asyncio.timeout(10):
                await loop.create_connection(lambda: SlowConnection(self), HOST, self.port)
            self.opened += 1
        except (OSError, asyncio.TimeoutError):
            pass
        finally:
            self.connecting -= 1

    async def keep_count(self) -> None:
        """Start new connections whenever fewer than COUNT are open or being opened."""
        tasks: set[asyncio.Task] = set()
        while not self.stopping and self.attempts < self.max_connects:
            missing = self.count - len(self.open_connections) - self.connecting
            for _ in range(max(0, min(missing, self.max_connects - self.attempts))):
                self.connecting += 1
                self.attempts += 1
                task = asyncio.create_task(self.open_one())
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            await asyncio.sleep(0.02)
        await asyncio.gather(*tasks, return_exceptions=True)

    async def send_bytes(self) -> None:
        """Send the next header byte on every connection whose interval has passed."""
        while not self.stopping:
            now = time.monotonic()
            for connection in list(self.open_connections):
                if connection.next_send <= now:
                    connection.send_next_byte()
            await asyncio.sleep(0.1)

    async def report(self) -> None:
        ready = False
        while not self.stopping:
            open_now = len(self.open_connections)
            if not ready and open_now >= self.count:
                ready = True
                print(f"ready open={open_now}", flush=True)
            print(f"status open={open_now} opened={self.opened} closed_by_server={self.closed_by_server}", flush=True)
            await asyncio.sleep(1)

    def close_all(self) -> None:
        self.stopping = True
        for connection in list(self.open_connections):
            if connection.transport is not None:
                connection.transport.abort()


async def run_slowloris(port: int, count: int, parallel: int, interval: float, max_connects: int,
                        deadline: float) -> None:
    attack = SlowlorisAttack(port, count, parallel, interval, max_connects)
    workers = [asyncio.create_task(attack.keep_count()), asyncio.create_task(attack.send_bytes()),
               asyncio.create_task(attack.report())]
    await wait_for_stop(deadline)
    attack.close_all()
    await asyncio.gather(*workers, return_exceptions=True)
    print(f"done opened={attack.opened} closed_by_server={attack.closed_by_server} attempts={attack.attempts}",
          flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["idle", "slowloris"])
    parser.add_argument("--port", type=int, required=True, help="proxy port on 127.0.0.1")
    parser.add_argument("--count", type=int, required=True, help="connections to hold open")
    parser.add_argument("--parallel", type=int, default=64, help="maximum connection attempts in flight")
    parser.add_argument("--interval", type=float, default=3.0, help="slowloris: seconds between header bytes")
    parser.add_argument("--max-connects", type=int, default=100_000, help="slowloris: maximum connection attempts")
    parser.add_argument("--max-seconds", type=float, default=120.0, help="stop after this many seconds")
    args = parser.parse_args()

    if not 25000 <= args.port <= 25999:
        parser.error(f"--port {args.port} is outside the benchmark range 25000-25999")
    deadline = time.monotonic() + args.max_seconds
    if args.mode == "idle":
        asyncio.run(run_idle(args.port, args.count, args.parallel, deadline))
    else:
        asyncio.run(run_slowloris(args.port, args.count, args.parallel, args.interval, args.max_connects, deadline))


if __name__ == "__main__":
    main()
