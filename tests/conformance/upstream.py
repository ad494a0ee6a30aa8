#!/usr/bin/env python3
"""Loopback upstream for the conformance suite: serves the guard and counts what reaches it.

The data port responds to every method on every path with a JSON description of
the request (method, path, body length and SHA-256), except:
  GET /big?bytes=N    streams N bytes of filler, for slow-read attacks.
  GET /status/CODE    responds with that status code and an empty body.

The control port (never routed through the guard) serves:
  GET  /stats   JSON counters: connections, and requests keyed "METHOD /path", split
                into "started" (request line read), "completed" (body read in full)
                and "aborted" (body or response cut off by the peer).
  POST /reset   sets every counter back to zero.

A request counts as started as soon as its request line is read, even when this
server then fails to parse its headers, so the suite can prove that a request the
guard rejected never reached the upstream at all.

Standard library only, because the suite must run on a bare machine.
"""

import argparse
import hashlib
import json
import socket
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

CHUNK_SIZE = 64 * 1024
MAX_BIG_BYTES = 256 * 1024 * 1024


class Counters:
    """Thread-safe counters shared by the data and control servers."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        with self._lock:
            self.connections_accepted = 0
            self.connections_open = 0
            self.started = Counter()
            self.completed = Counter()
            self.aborted = Counter()

    def connection_opened(self):
        with self._lock:
            self.connections_accepted += 1
            self.connections_open += 1

    def connection_closed(self):
        with self._lock:
            self.connections_open -= 1

    def request_started(self, path):
        with self._lock:
            self.started[path] += 1

    def request_completed(self, path):
        with self._lock:
            self.completed[path] += 1

    def request_aborted(self, path):
        with self._lock:
            self.aborted[path] += 1

    def snapshot(self):
        with self._lock:
            return {
                "connections_accepted": self.connections_accepted,
                "connections_open": self.connections_open,
                "started": dict(self.started),
                "completed": dict(self.completed),
                "aborted": dict(self.aborted),
            }


COUNTERS = Counters()


class BodyReadError(Exception):
    """The client (the guard) closed or broke the request body before its end."""


class DataHandler(BaseHTTPRequestHandler):
    """Request handler for the data port, which the guard proxies to."""

    protocol_version = "HTTP/1.1"
    server_version = "conformance-upstream"
    # Headers and body go out in separate writes, and Nagle's algorithm with delayed ACKs
    # would hold the body back by 40 ms on every response.
    disable_nagle_algorithm = True

    def setup(self):
        super().setup()
        COUNTERS.connection_opened()

    def finish(self):
        try:
            super().finish()
        finally:
            COUNTERS.connection_closed()

    def log_message(self, format, *args):  # noqa: A002 - signature fixed by the base class
        # Per-request logs would cost more CPU than the requests themselves under wrk.
        pass

    def parse_request(self):
        parsed = super().parse_request()

        # self.command and self.path are set once the request line parsed, before the
        # headers are read, so a request counts even when its headers fail to parse.
        path = getattr(self, "path", None)
        if path is not None:
            COUNTERS.request_started(self._counter_key(path))
        return parsed

    def _counter_key(self, path):
        return f"{self.command} {urlsplit(path).path}"

    def _read_body(self):
        transfer_encoding = self.headers.get("Transfer-Encoding", "").lower()
        if "chunked" in transfer_encoding:
            return self._read_chunked_body()

        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if len(body) != length:
            raise BodyReadError(f"body ended after {len(body)} of {length} bytes")
        return body

    def _read_chunked_body(self):
        parts = []
        while True:
            size_line = self.rfile.readline(1024)
            if not size_line:
                raise BodyReadError("connection closed inside a chunked body")
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                break
            chunk = self.rfile.read(size)
            if len(chunk) != size:
                raise BodyReadError("connection closed inside a chunk")
            parts.append(chunk)
            self.rfile.readline(16)

        # Trailer section: header lines until an empty line.
        while True:
            line = self.rfile.readline(8192)
            if not line:
                raise BodyReadError("connection closed inside the chunked trailer")
            if line in (b"\r\n", b"\n"):
                break
        return b"".join(parts)

    def _handle(self):
        url = urlsplit(self.path)
        try:
            body = self._read_body()
        except (BodyReadError, ConnectionError, socket.timeout, ValueError):
            COUNTERS.request_aborted(self._counter_key(self.path))
            self.close_connection = True
            return

        COUNTERS.request_completed(self._counter_key(self.path))

        try:
            if url.path == "/big":
                self._send_big(url)
            elif url.path.startswith("/status/"):
                self._send_status(url)
            else:
                self._send_description(url, body)
        except (ConnectionError, socket.timeout):
            # The guard aborted the response, which slow-read attacks provoke on purpose.
            COUNTERS.request_aborted(self._counter_key(self.path))
            self.close_connection = True

    def _send_description(self, url, body):
        description = {
            "method": self.command,
            "path": url.path,
            "query": url.query,
            "body_length": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
            "header_count": len(self.headers),
        }
        payload = (json.dumps(description) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _send_big(self, url):
        query = parse_qs(url.query)
        total = min(int(query.get("bytes", ["1048576"])[0]), MAX_BIG_BYTES)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(total))
        self.end_headers()
        if self.command == "HEAD":
            return

        chunk = b"x" * CHUNK_SIZE
        remaining = total
        while remaining > 0:
            count = min(remaining, CHUNK_SIZE)
            self.wfile.write(chunk[:count])
            remaining -= count

    def _send_status(self, url):
        code = int(url.path.rsplit("/", 1)[1])
        self.send_response(code)
        if code not in (204, 304) and not 100 <= code < 200:
            self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = _handle
    do_HEAD = _handle
    do_POST = _handle
    do_PUT = _handle
    do_PATCH = _handle
    do_DELETE = _handle
    do_OPTIONS = _handle


class ControlHandler(BaseHTTPRequestHandler):
    """Request handler for the control port, which only the suite calls."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - signature fixed by the base class
        pass

    def _send_json(self, value):
        payload = (json.dumps(value) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self):
        if self.path == "/stats":
            self._send_json(COUNTERS.snapshot())
        else:
            self.send_error(404)

    def do_POST(self):
        if self.path == "/reset":
            COUNTERS.reset()
            self._send_json({"reset": True})
        else:
            self.send_error(404)


class Server(ThreadingHTTPServer):
    """Threaded server with a deep accept backlog, so a burst from the guard's pool is not refused."""

    daemon_threads = True
    request_queue_size = 1024


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, required=True, help="data port that the guard proxies to")
    parser.add_argument("--control-port", type=int, required=True, help="port of /stats and /reset")
    return parser.parse_args(argv)


def main(argv):
    arguments = parse_arguments(argv)
    if not arguments.host.startswith("127.") and arguments.host != "::1":
        raise SystemExit(f"invalid --host {arguments.host}: the upstream binds to loopback only")

    data_server = Server((arguments.host, arguments.port), DataHandler)
    control_server = Server((arguments.host, arguments.control_port), ControlHandler)
    threading.Thread(target=control_server.serve_forever, daemon=True).start()
    print(f"upstream listening on {arguments.host}:{arguments.port}, control on port {arguments.control_port}", flush=True)
    try:
        data_server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
