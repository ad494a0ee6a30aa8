"""The legitimate client: wrk with legit.lua, run alongside each attack."""

import os
import re
import subprocess
from dataclasses import dataclass

_SUMMARY = re.compile(r"WRK_SUMMARY (.*)")


@dataclass(frozen=True)
class WrkSummary:
    """Counts from wrk's done() callback: responses is every response, status_errors the non-2xx/3xx ones."""

    responses: int
    connect_errors: int
    read_errors: int
    write_errors: int
    status_errors: int
    timeouts: int
    p99_ms: float
    max_ms: float

    @property
    def attempts(self):
        """Responses plus requests that failed without one; timed-out requests count as failed."""
        return self.responses + self.connect_errors + self.read_errors + self.write_errors + self.timeouts

    @property
    def successes(self):
        return self.responses - self.status_errors

    @property
    def success_ratio(self):
        return self.successes / self.attempts if self.attempts else 0.0

    def describe(self):
        return (
            f"{self.successes}/{self.attempts} ok ({self.success_ratio:.2%}); non-2xx {self.status_errors}, "
            f"socket errors connect {self.connect_errors} read {self.read_errors} write {self.write_errors} "
            f"timeout {self.timeouts}; p99 {self.p99_ms:.0f} ms"
        )


class LegitClient:
    """One wrk run against url for a fixed number of seconds, started in the background."""

    def __init__(self, wrk_script, url, seconds, connections=8, pause_ms=10, timeout_seconds=5):
        self.argv = [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{int(seconds)}s",
            f"--timeout={timeout_seconds}s",
            "-s",
            wrk_script,
            url,
        ]
        self.env = dict(os.environ, LEGIT_PAUSE_MS=str(pause_ms))
        self.popen = None
        self.output = ""

    def start(self):
        self.popen = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=self.env)
        return self

    def finish(self, timeout):
        """Wait for wrk to end by itself; return its WrkSummary, or None with the output kept in self.output."""
        try:
            self.output, _ = self.popen.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.output, _ = self.popen.communicate()
            self.output += f"\nwrk did not end within {timeout} s and was killed"
            return None

        match = _SUMMARY.search(self.output)
        if match is None:
            return None
        fields = dict(item.split("=", 1) for item in match.group(1).split())
        return WrkSummary(
            responses=int(fields["requests"]),
            connect_errors=int(fields["connect"]),
            read_errors=int(fields["read"]),
            write_errors=int(fields["write"]),
            status_errors=int(fields["status"]),
            timeouts=int(fields["timeout"]),
            p99_ms=int(fields["p99_us"]) / 1000.0,
            max_ms=int(fields["max_us"]) / 1000.0,
        )
