"""HTTP/1.1 and HTTP/2 request semantics through the guard, checked with curl, nghttp and the upstream's counters."""

import hashlib
import json
import os
from dataclasses import dataclass

from .clients import CurlClient, NghttpClient
from .context import counter_delta, keys_with_prefix
from .results import Result

# What the upstream may see of a rejected request.
NOT_FORWARDED = "not forwarded"
NEVER_COMPLETED = "never completed upstream"


@dataclass(frozen=True)
class Rejection:
    """A request that the guard must reject with its own status, without the upstream getting it."""

    check: str
    case: str
    status: int
    headers: tuple = ()
    data_path: str | None = None
    streamed: bool = False
    expect_continue: bool = False
    path_suffix: str = ""
    upstream_rule: str = NOT_FORWARDED
    # HTTP/2 only: a stream reset with this error code also counts as the rejection. Kestrel refuses an
    # over-long :path by resetting the stream (PROTOCOL_ERROR) before any application code runs.
    reset_code: str | None = None

    @property
    def method(self):
        return "POST" if self.data_path else "GET"

    def curl_args(self):
        args = []
        for header in self.headers:
            args += ["-H", header]
        if self.expect_continue:
            args += ["-H", "Expect: 100-continue"]
        if self.data_path and self.streamed:
            args += ["-X", "POST", "-T", "-"]
        elif self.data_path:
            args += ["--data-binary", f"@{self.data_path}"]
        return args


def _payload(work_dir, name, size):
    """Write size random bytes to work_dir/name; return (path, SHA-256 hex)."""
    path = os.path.join(work_dir, name)
    data = os.urandom(size)
    with open(path, "wb") as payload:
        payload.write(data)
    return path, hashlib.sha256(data).hexdigest()


def _echo(body):
    try:
        return json.loads(body)
    except ValueError:
        return {}


class SemanticsChecks:
    """The request-semantics table for one protocol (HTTP/1.1, or HTTP/2 over h2c)."""

    def __init__(self, context, guard, http2):
        self.context = context
        self.settings = context.settings
        self.http2 = http2
        self.protocol = "h2" if http2 else "h1"
        self.group = "HTTP/2 semantics" if http2 else "HTTP/1.1 semantics"
        self.work_dir = context.artifacts_dir
        self.curl = CurlClient(guard.port, http2, self.work_dir)
        self.nghttp = NghttpClient(guard.port)
        self.results = []

    def _path(self, case):
        return f"/sem/{self.protocol}/{case}"

    def _record(self, check, passed, measured, limit=""):
        self.results.append(Result.of(self.group, check, passed, measured, limit))

    def _echo_check(self, check, path, args=(), stdin_path=None, method="GET", sha=None, length=None):
        """Expect 200 and an upstream echo of the method, body length and body SHA-256; return the reply."""
        reply = self.curl.request(path, args, stdin_path=stdin_path)
        echo = _echo(reply.body)
        problems = []
        if reply.status != 200:
            problems.append(reply.describe_failure())
        if echo.get("method") != method:
            problems.append(f"upstream saw method {echo.get('method')}")
        if length is not None and echo.get("body_length") != length:
            problems.append(f"upstream body {echo.get('body_length')} B, sent {length} B")
        if sha is not None and echo.get("body_sha256") != sha:
            problems.append("upstream body SHA-256 differs")
        intact = f" with {length} B intact" if length else ""
        self._record(check, not problems, "; ".join(problems) or f"200, upstream got {method}{intact}", "200, body intact")
        return reply

    def _send_rejection(self, rejection, path):
        if not self.http2:
            return self.curl.request(path, rejection.curl_args(), stdin_path=rejection.data_path if rejection.streamed else None)
        return self.nghttp.request(
            path,
            headers=rejection.headers,
            data_path=rejection.data_path,
            streamed=rejection.streamed,
            expect_continue=rejection.expect_continue,
        )

    def _rejection_check(self, rejection):
        """Expect the rejection status, no 100 Continue, and no trace (or no complete request) upstream."""
        path = self._path(rejection.case) + rejection.path_suffix
        key_prefix = f"{rejection.method} {path[:80]}"
        before = self.context.upstream_stats()
        reply = self._send_rejection(rejection, path)
        after = self.context.upstream_stats()

        reached = sum(keys_with_prefix(before, after, "started", key_prefix).values())
        completed = sum(keys_with_prefix(before, after, "completed", key_prefix).values())
        problems = []
        reset_accepted = self.http2 and rejection.reset_code is not None and reply.status == 0 and reply.reset == rejection.reset_code
        if reply.status != rejection.status and not reset_accepted:
            problems.append(reply.describe_failure())
        if rejection.expect_continue and 100 in reply.interim:
            problems.append("100 Continue sent before the rejection")
        if rejection.upstream_rule == NOT_FORWARDED and reached:
            problems.append(f"upstream saw {reached} request(s)")
        if completed:
            problems.append(f"upstream got {completed} complete request(s)")

        upstream_text = "upstream saw nothing" if not reached else f"upstream saw the headers of {reached}, none complete"
        answer = f"stream reset {reply.reset}" if reset_accepted else str(reply.status)
        measured = "; ".join(problems) or f"{answer}, {upstream_text}"
        limit = f"{rejection.status}, {rejection.upstream_rule}"
        if self.http2 and rejection.reset_code is not None:
            limit = f"{rejection.status} or reset {rejection.reset_code}, {rejection.upstream_rule}"
        if rejection.expect_continue:
            limit += ", no 100"
        self._record(rejection.check, not problems, measured, limit)

    def run(self):
        settings = self.settings
        run_dir = self.work_dir

        # Methods.
        self._echo_check("GET", self._path("get"))
        before = self.context.upstream_stats()
        reply = self.curl.request(self._path("head"), ["--head"])
        after = self.context.upstream_stats()
        heads = counter_delta(before, after, "completed", f"HEAD {self._path('head')}")
        self._record("HEAD", reply.status == 200 and heads == 1, f"{reply.status}, upstream got {heads} HEAD", "200, forwarded once")

        small_path, small_sha = _payload(run_dir, "small.bin", 64 * 1024)
        for method in ("POST", "PUT", "PATCH", "DELETE", "OPTIONS"):
            self._echo_check(f"{method} with 64 KiB body", self._path(method.lower()),
                             ["-X", method, "--data-binary", f"@{small_path}"],
                             method=method, sha=small_sha, length=64 * 1024)

        # Bodies without a length: chunked in HTTP/1.1, DATA frames without content-length in HTTP/2.
        streamed_path, streamed_sha = _payload(run_dir, "streamed.bin", 256 * 1024)
        self._echo_check("POST 256 KiB without a length (chunked in HTTP/1.1)", self._path("chunked"),
                         ["-X", "POST", "-T", "-", "-H", "Content-Type: application/octet-stream"],
                         stdin_path=streamed_path, method="POST", sha=streamed_sha, length=256 * 1024)

        near_limit = settings.max_request_body_size - 1024
        large_path, large_sha = _payload(run_dir, "large.bin", near_limit)
        self._echo_check(f"POST {near_limit} B (MaxRequestBodySize - 1 KiB)", self._path("large"),
                         ["--data-binary", f"@{large_path}"], method="POST", sha=large_sha, length=near_limit)

        over_path, _ = _payload(run_dir, "over.bin", settings.max_request_body_size + 1)
        streamed_over_path, _ = _payload(run_dir, "streamed-over.bin", settings.max_request_body_size + 64 * 1024)
        self._rejection_check(Rejection(f"POST {settings.max_request_body_size + 1} B with Content-Length",
                                        "too-large", 413, data_path=over_path))
        self._rejection_check(Rejection("POST over MaxRequestBodySize without a length", "too-large-streamed", 413,
                                        data_path=streamed_over_path, streamed=True, upstream_rule=NEVER_COMPLETED))

        # Header and request-line limits, each with a case just inside the limit.
        inside_header = "a" * (settings.max_request_header_size - 1024)
        self._echo_check(f"{len(inside_header) // 1024} KiB header accepted", self._path("header-inside"),
                         ["-H", f"X-Inside: {inside_header}"])
        self._rejection_check(Rejection("16 KiB header", "header-16k", 431, headers=(f"X-Big: {'a' * 16 * 1024}",)))

        inside_count = settings.max_request_header_count - 10
        self._echo_check(f"{inside_count} extra headers accepted", self._path("headers-inside"),
                         [arg for index in range(inside_count) for arg in ("-H", f"X-H{index}: v")])
        self._rejection_check(Rejection("150 headers", "headers-150", 431,
                                        headers=tuple(f"X-H{index}: v" for index in range(150))))

        inside_line = self._path("line-inside/") + "a" * (settings.max_request_line_size - 1024)
        self._echo_check(f"{len(inside_line) // 1024} KiB request target accepted", inside_line)
        self._rejection_check(Rejection("10 KiB request line" if not self.http2 else "10 KiB :path",
                                        "long-line/", 414, path_suffix="a" * 10 * 1024, reset_code="PROTOCOL_ERROR"))

        # Expect: 100-continue.
        reply = self._echo_check("Expect: 100-continue, 256 KiB body", self._path("expect"),
                                 ["-H", "Expect: 100-continue", "--data-binary", f"@{streamed_path}"],
                                 method="POST", sha=streamed_sha, length=256 * 1024)
        interim = 100 in reply.interim
        self._record("Expect: 100-continue interim response", interim,
                     "100 Continue received" if interim else "no 100 Continue before the final response", "100 then 200")
        self._rejection_check(Rejection("Expect: 100-continue over MaxRequestBodySize", "expect-too-large", 413,
                                        data_path=over_path, expect_continue=True))

        # Responses.
        reply = self.curl.request("/status/204")
        self._record("204 response", reply.status == 204 and reply.body == b"",
                     f"{reply.status}, {len(reply.body)} B body", "204, empty")
        download = 4 * 1024 * 1024
        reply = self.curl.request(f"/big?bytes={download}")
        self._record("4 MiB response", reply.status == 200 and len(reply.body) == download,
                     f"{reply.status}, {len(reply.body)} B", f"200, {download} B")

        return self.results
