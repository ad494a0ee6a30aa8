"""Shared state of one conformance run: the processes under test and where results go."""

import json
import os
import time
from dataclasses import dataclass

from .processes import http_get, http_post
from .prometheus import MetricsSnapshot

# Connection lifetimes and returns to baseline may exceed the configured limit by this much.
# Kestrel checks timeouts and data rates on a 1 s heartbeat, the guard checks its own
# deadlines every 0.25 s, and the suite samples sockets every 0.25 s.
MARGIN_SECONDS = 2.0


@dataclass
class GuardInstance:
    """One running guard process with its proxy port, admin port and sampler."""

    name: str
    process: object
    port: int
    admin_port: int
    sampler: object

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def metrics(self):
        return MetricsSnapshot.scrape(self.admin_port)

    def live_status(self):
        status, _ = http_get(f"http://127.0.0.1:{self.admin_port}/healthz/live", timeout=5.0)
        return status


@dataclass
class SuiteContext:
    """Everything a check needs: settings, the two guard instances, the upstream and the output folder."""

    settings: object
    suite_dir: str
    artifacts_dir: str
    memory_limit_mib: int
    guard: GuardInstance
    guard_h2: GuardInstance
    upstream: object

    def upstream_stats(self):
        """Return the upstream's counters from its control port.

        NOTE: one run on a loaded machine got "connection reset" from this port for about 20 s
        without a known cause, so a failed attempt is printed and retried twice.
        """
        url = f"http://127.0.0.1:{self.settings.upstream_control_port}/stats"
        for attempt in range(3):
            status, body = http_get(url)
            if status == 200:
                return json.loads(body)
            print(f"upstream /stats attempt {attempt + 1} failed: {status} {body[:200]!r}", flush=True)
            time.sleep(0.5)
        raise RuntimeError(f"upstream /stats returned {status}: {body[:200]!r}")

    def reset_upstream(self):
        http_post(f"http://127.0.0.1:{self.settings.upstream_control_port}/reset")

    def artifact(self, name):
        return os.path.join(self.artifacts_dir, name)

    @property
    def wrk_script(self):
        return os.path.join(self.suite_dir, "legit.lua")


def counter_delta(before, after, section, key):
    """Increase of upstream counter section[key] between two /stats snapshots."""
    return after[section].get(key, 0) - before[section].get(key, 0)


def keys_with_prefix(before, after, section, prefix):
    """Upstream counter keys starting with prefix that increased between two /stats snapshots."""
    return {
        key: value - before[section].get(key, 0)
        for key, value in after[section].items()
        if key.startswith(prefix) and value > before[section].get(key, 0)
    }
