"""Outbound connection slots: every proxied response must give its upstream slot back."""

import http.client
import time

from .results import Result

SLOT_ROUNDS = 3


def run_outbound_checks(context):
    """Send SLOT_ROUNDS x Outbound:MaxConnectionsPerHost requests one after another on one
    keep-alive connection, and stop at the first that fails.

    Only one request is in flight at a time, so a guard that releases its slot after each
    response never queues, while one that leaks slots responds with 503 once
    MaxConnectionsPerHost requests have passed.
    """
    settings = context.settings
    group = "outbound slots"
    total = SLOT_ROUNDS * settings.max_connections_per_host
    before = context.upstream_stats()

    connection = http.client.HTTPConnection("127.0.0.1", context.guard.port, timeout=10)
    succeeded = 0
    failure = None
    started = time.monotonic()
    try:
        for index in range(total):
            request_started = time.monotonic()
            connection.request("GET", f"/outbound/{index}")
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                failure = f"request {index + 1} got {response.status} after {time.monotonic() - request_started:.1f} s"
                break
            succeeded += 1
    except (OSError, http.client.HTTPException) as error:
        failure = f"request {succeeded + 1} failed: {type(error).__name__}: {error}"
    finally:
        connection.close()
    elapsed = time.monotonic() - started

    after = context.upstream_stats()
    opened = after["connections_accepted"] - before["connections_accepted"]
    measured = f"{succeeded}/{total} got 200 in {elapsed:.1f} s" + (f"; {failure}" if failure else "")
    return [
        Result.of(group, "sequential requests past the pool size", succeeded == total, measured,
                  f"{total}/{total} = {SLOT_ROUNDS} x MaxConnectionsPerHost {settings.max_connections_per_host}"),
        Result.info(group, "upstream connections opened", f"{opened} for {succeeded} requests"),
    ]
