"""HTTP clients for the semantics checks: curl for both protocols, nghttp for HTTP/2 rejections.

curl 7.88 (Debian 12) can report "Empty reply from server" or a stream error when an HTTP/2
server sends a complete early response followed by RST_STREAM(NO_ERROR), which RFC 9113
section 8.1 allows while the client is still sending its body. nghttp prints every frame, so
the HTTP/2 rejection checks read the status from it.
"""

import os
import re
import subprocess
from dataclasses import dataclass

_NGHTTP_STATUS = re.compile(r"recv \(stream_id=\d+\) :status: (\d+)")
_NGHTTP_RESET = re.compile(r"recv RST_STREAM frame.*?\n\s*\(error_code=(\w+)", re.DOTALL)
_CURL_INTERIM_100 = re.compile(r"^< HTTP/(1\.1|2) 100\b", re.MULTILINE)


@dataclass(frozen=True)
class Reply:
    """What a client saw: the final status (0 when none), interim 1xx statuses, a stream reset code."""

    status: int
    interim: tuple
    reset: str | None
    body: bytes
    diagnostics: str

    def describe_failure(self):
        if self.status:
            return f"status {self.status}"
        if self.reset:
            return f"no response, stream reset {self.reset}"
        return f"no response ({self.diagnostics.strip()[-160:]})"


class CurlClient:
    """Runs curl against one guard listener with a fixed HTTP version."""

    def __init__(self, port, http2, work_dir):
        self.port = port
        self.work_dir = work_dir
        self.version_args = ["--http2-prior-knowledge"] if http2 else ["--http1.1"]

    def request(self, path, args=(), stdin_path=None):
        body_path = os.path.join(self.work_dir, "curl-body.out")
        argv = [
            "curl", "-sS", "-v", *self.version_args,
            "--max-time", "10",
            "-o", body_path,
            "-w", "%{http_code}",
            *args,
            f"http://127.0.0.1:{self.port}{path}",
        ]
        with open(stdin_path or os.devnull, "rb") as stdin:
            completed = subprocess.run(argv, stdin=stdin, capture_output=True, timeout=60)

        status_text = completed.stdout.decode("ascii", "replace").strip()
        stderr = completed.stderr.decode("utf-8", "replace")
        body = b""
        if os.path.exists(body_path):
            with open(body_path, "rb") as body_file:
                body = body_file.read()
            os.remove(body_path)
        interim = (100,) if _CURL_INTERIM_100.search(stderr) else ()
        return Reply(int(status_text) if status_text.isdigit() else 0, interim, None, body, stderr)


class NghttpClient:
    """Runs nghttp (h2c with prior knowledge) and reads statuses and resets from its frame log."""

    def __init__(self, port):
        self.port = port

    def request(self, path, headers=(), data_path=None, streamed=False, expect_continue=False):
        argv = ["nghttp", "-nv", "-t", "10"]
        for header in headers:
            argv += ["-H", header]
        if data_path:
            argv += ["-d", data_path]
        if streamed:
            argv.append("--no-content-length")
        if expect_continue:
            argv.append("--expect-continue")
        argv.append(f"http://127.0.0.1:{self.port}{path}")

        completed = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        output = completed.stdout + completed.stderr
        statuses = [int(value) for value in _NGHTTP_STATUS.findall(output)]
        final = [status for status in statuses if status >= 200]
        reset = _NGHTTP_RESET.search(output)
        return Reply(
            status=final[-1] if final else 0,
            interim=tuple(status for status in statuses if status < 200),
            reset=reset.group(1) if reset else None,
            body=b"",
            diagnostics=output,
        )
