"""HTTP/2 load with h2load against the guard's h2c (prior knowledge) listener."""

import json
import os
import re
import subprocess
import time
from collections import Counter

from .results import Result

_REQUESTS = re.compile(
    r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout"
)
_STATUS = re.compile(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx")
_RATE = re.compile(r"finished in ([\d.]+)(m?s), ([\d.]+) req/s")

REQUESTS = 4000
CLIENTS = 4
STREAMS_PER_CLIENT = 20


def run_h2load(context):
    """Send REQUESTS requests over CLIENTS connections with STREAMS_PER_CLIENT concurrent streams each."""
    guard = context.guard_h2
    group = "HTTP/2 h2load"
    argv = [
        "h2load",
        "-n", str(REQUESTS),
        "-c", str(CLIENTS),
        "-m", str(STREAMS_PER_CLIENT),
        "-t", "1",
        # Ends each connection after 60 s even if the guard stops responding.
        "-T", "60",
        guard.url("/h2load"),
    ]
    peak_before = guard.sampler.peak_rss_kib()
    log_offset = os.path.getsize(guard.process.log_path)
    try:
        completed = subprocess.run(argv, capture_output=True, text=True, timeout=90)
        output = completed.stdout + completed.stderr
    except subprocess.TimeoutExpired as expired:
        output = (expired.stdout or b"").decode("utf-8", "replace") if isinstance(expired.stdout, bytes) else (expired.stdout or "")
        output += "\nh2load did not finish within 90 s and was killed\n"

    with open(context.artifact("h2load.log"), "w", encoding="utf-8") as log:
        log.write(" ".join(argv) + "\n" + output)

    requests = _REQUESTS.search(output)
    statuses = _STATUS.search(output)
    if requests is None or statuses is None:
        return [Result.of(group, "h2load run", False, f"unparsable output: {output[-300:]!r}", "summary printed")]

    total, _, done, succeeded, failed, errored, timed_out = (int(value) for value in requests.groups())
    ok_2xx = int(statuses.group(1))
    status_text = f"{statuses.group(3)} 4xx, {statuses.group(4)} 5xx"
    rate = _RATE.search(output)
    rate_text = f", {float(rate.group(3)):.0f} req/s" if rate else ""

    results = [
        Result.of(group, "requests succeeded", succeeded == total and failed == 0 and errored == 0 and timed_out == 0,
                  f"{succeeded}/{total} succeeded, {failed} failed, {errored} errored, {timed_out} timeout{rate_text}"
                  + _failure_detail(guard, log_offset, ok_2xx < total),
                  f"{total}/{total}"),
        Result.of(group, "2xx responses", ok_2xx == total, f"{ok_2xx}/{total} 2xx, {status_text} (done {done})",
                  f"{total}/{total}"),
    ]

    alive = guard.process.is_running() and guard.live_status() == 200
    results.append(Result.of(group, "guard stays up", alive, f"process running={guard.process.is_running()}", "running, 200"))
    peak = guard.sampler.peak_rss_kib()
    peak_mib = (peak or 0) / 1024
    results.append(Result.of(group, "peak VmRSS", peak is not None and peak_mib <= context.memory_limit_mib,
                             f"{peak_mib:.0f} MiB (before h2load {((peak_before or 0) / 1024):.0f} MiB)",
                             f"<= {context.memory_limit_mib} MiB"))
    return results


def _failure_detail(guard, log_offset, any_failed):
    """Return a detail suffix that counts the guard's completion lines (event 3001) with a status of 400
    or more by status, outcome and forwarder error, so that a rare failure names its cause in the CI output.

    Reads only the lines written after log_offset. Returns an empty string when any_failed is false.
    """
    if not any_failed:
        return ""

    # The guard writes completion lines from a background queue, so the last ones can trail h2load's exit.
    time.sleep(1)

    outcomes = Counter()
    with open(guard.process.log_path, "rb") as log:
        log.seek(log_offset)
        for raw in log:
            if b'"ProxyRequestCompleted"' not in raw:
                continue
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if line.get("StatusCode", 0) >= 400:
                outcomes[(line.get("StatusCode"), line.get("Outcome"), line.get("ForwarderError"))] += 1

    if not outcomes:
        return "; the guard logged no completion line with a status of 400 or more"
    listed = ", ".join(f"{count} x {status} {outcome} {error}" for (status, outcome, error), count in outcomes.most_common(5))
    return f"; guard completion lines: {listed}"
