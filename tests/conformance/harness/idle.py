"""Idle connections: the guard must close keep-alive connections after KeepAliveTimeout, and
connections that never send a byte after KeepAliveTimeout or RequestHeadersTimeout."""

import selectors
import socket
import time

from .context import MARGIN_SECONDS
from .results import Result

CONNECTIONS = 50


def _read_response(sock, deadline):
    """Read one HTTP/1.1 response with a Content-Length body; return the status code."""
    data = b""
    while b"\r\n\r\n" not in data:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the response headers ended")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    while len(rest) < length:
        sock.settimeout(max(0.1, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed inside the response body")
        rest += chunk
    return status


def _wait_for_closes(sockets, since, timeout):
    """Wait until the peer closes each socket; return {socket: seconds from since[socket] to close}."""
    selector = selectors.DefaultSelector()
    for sock in sockets:
        sock.setblocking(False)
        selector.register(sock, selectors.EVENT_READ)

    closed_after = {}
    deadline = time.monotonic() + timeout
    while len(closed_after) < len(sockets) and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=0.1):
            sock = key.fileobj
            try:
                chunk = sock.recv(65536)
            except (ConnectionResetError, BlockingIOError) as error:
                if isinstance(error, BlockingIOError):
                    continue
                chunk = b""
            if not chunk:
                closed_after[sock] = time.monotonic() - since[sock]
                selector.unregister(sock)
    selector.close()
    return closed_after


def _close_all(sockets):
    for sock in sockets:
        sock.close()


def run_idle_checks(context):
    settings = context.settings
    guard = context.guard
    group = "idle connections"
    results = []

    # Keep-alive: one request each, then silence.
    allowed = settings.keep_alive_timeout + MARGIN_SECONDS
    sockets = [socket.create_connection(("127.0.0.1", guard.port), timeout=5) for _ in range(CONNECTIONS)]
    statuses = []
    idle_since = {}
    request = f"GET /idle HTTP/1.1\r\nHost: 127.0.0.1:{guard.port}\r\n\r\n".encode()
    deadline = time.monotonic() + 15
    for sock in sockets:
        sock.sendall(request)
    for sock in sockets:
        try:
            statuses.append(_read_response(sock, deadline))
        except (OSError, ValueError, IndexError):
            statuses.append(0)
        # The guard's keep-alive timer started when it sent the response, which is no later than now.
        idle_since[sock] = time.monotonic()
    closed = _wait_for_closes(sockets, idle_since, allowed + 5)
    _close_all(sockets)

    ok_responses = statuses.count(200)
    results.append(Result.of(group, "requests before idling", ok_responses == CONNECTIONS,
                             f"{ok_responses}/{CONNECTIONS} got 200", f"{CONNECTIONS}/{CONNECTIONS}"))
    longest = max(closed.values(), default=None)
    results.append(Result.of(
        group, "keep-alive idle close",
        len(closed) == CONNECTIONS and longest is not None and longest <= allowed,
        f"{len(closed)}/{CONNECTIONS} closed by the guard, last after {longest:.1f} s" if longest is not None
        else f"0/{CONNECTIONS} closed",
        f"<= {allowed:g} s (KeepAliveTimeout {settings.keep_alive_timeout:g} s + {MARGIN_SECONDS:g} s)"))

    # Silent: connect and never send a byte.
    silent_limit = max(settings.keep_alive_timeout, settings.request_headers_timeout)
    allowed = silent_limit + MARGIN_SECONDS
    sockets = []
    opened = {}
    for _ in range(CONNECTIONS):
        sock = socket.create_connection(("127.0.0.1", guard.port), timeout=5)
        opened[sock] = time.monotonic()
        sockets.append(sock)
    closed = _wait_for_closes(sockets, opened, allowed + 5)
    _close_all(sockets)
    longest = max(closed.values(), default=None)
    results.append(Result.of(
        group, "silent connection close",
        len(closed) == CONNECTIONS and longest is not None and longest <= allowed,
        f"{len(closed)}/{CONNECTIONS} closed by the guard, last after {longest:.1f} s" if longest is not None
        else f"0/{CONNECTIONS} closed",
        f"<= {allowed:g} s (max of KeepAliveTimeout and RequestHeadersTimeout + {MARGIN_SECONDS:g} s)"))
    return results
