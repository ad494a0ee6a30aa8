"""One attack against the HTTP/1.1 guard with wrk as the legitimate client, and its checks."""

import math
import subprocess
import time

from .attacks import NO_COMPLETE_REQUEST, NO_REQUEST, PROBE_INTERVAL_SECONDS
from .context import MARGIN_SECONDS, counter_delta
from .legit import LegitClient
from .prometheus import counter_deltas
from .results import Result
from .sampling import count_closing
from .slowhttp import SlowHttpReport

LEGIT_CONNECTIONS = 8


def run_attack(context, attack):
    """Run one attack and return its result rows."""
    return AttackRun(context, attack).execute()


def _active_connections(snapshot, port):
    """kestrel_active_connections for the proxy listener, or None when the metric is missing."""
    if not snapshot.has("kestrel_active_connections"):
        return None
    by_port = snapshot.by_label("kestrel_active_connections", "server_port")
    if str(port) in by_port:
        return by_port[str(port)]
    return snapshot.total("kestrel_active_connections")


def _format_counts(counts):
    if not counts:
        return "none counted"
    return ", ".join(f"{key}={value:g}" for key, value in sorted(counts.items()))


class AttackRun:
    """The measurements of one attack (monotonic seconds) and the checks made on them."""

    def __init__(self, context, attack):
        self.context = context
        self.attack = attack
        self.guard = context.guard
        self.sampler = context.guard.sampler
        self.group = attack.name
        self.allowed = attack.limit_seconds + MARGIN_SECONDS
        self.limit_text = f"<= {self.allowed:g} s = {attack.limit_text} + {MARGIN_SECONDS:g} s"
        self.results = []

    def _add(self, check, passed, measured, limit):
        self.results.append(Result.of(self.group, check, passed, measured, limit))

    def execute(self):
        self._record_baselines()
        self._run_clients()
        self._wait_past_deadline()

        self._check_guard_health()
        self._check_legit_traffic()
        self._check_statistics()
        self._check_connection_lifetimes()
        self._check_back_to_baseline()
        self._check_active_connections_metric()
        self._check_upstream()
        self._report_guard_counters()
        return self.results

    def _record_baselines(self):
        """Wait for leftovers of earlier checks to close, then record what the guard holds now."""
        deadline = time.monotonic() + self.context.settings.keep_alive_timeout + MARGIN_SECONDS
        while True:
            latest = self.sampler.latest()
            self.baseline = latest.established if latest else 0
            if self.baseline == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.25)

        self.metrics_before = self.guard.metrics()
        self.active_before = _active_connections(self.metrics_before, self.guard.port)
        self.upstream_before = self.context.upstream_stats()

    def _run_clients(self):
        """Start wrk, then slowhttptest 1 s later, and wait for both to end by themselves."""
        attack = self.attack
        legit_seconds = math.ceil(1 + attack.ramp_seconds + self.allowed + 1)
        legit = LegitClient(self.context.wrk_script, self.guard.url("/legit"), legit_seconds,
                            connections=LEGIT_CONNECTIONS).start()
        self.sampler.track("wrk", legit.popen.pid)
        time.sleep(1.0)

        self.csv_prefix = self.context.artifact(f"slowhttptest-{attack.name}")
        self.attack_start = time.monotonic()
        attacker = subprocess.Popen(attack.argv(self.guard.port, self.csv_prefix), stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True)
        self.sampler.track("slowhttptest", attacker.pid)
        try:
            self.attack_output, _ = attacker.communicate(timeout=attack.test_length_seconds + 15)
            self.attack_exit = attacker.returncode
        except subprocess.TimeoutExpired:
            attacker.kill()
            self.attack_output, _ = attacker.communicate()
            self.attack_exit = "killed after timeout"
        with open(self.context.artifact(f"slowhttptest-{attack.name}.log"), "w", encoding="utf-8") as log:
            log.write(self.attack_output)

        self.legit_summary = legit.finish(timeout=legit_seconds + 15)
        self.legit_output = legit.output
        self.clients_end = time.monotonic()
        self.sampler.untrack("slowhttptest")
        self.sampler.untrack("wrk")

    def _wait_past_deadline(self):
        """Sleep until the last attack connection's deadline has passed by two samples."""
        # slowhttptest also opens a probe connection every PROBE_INTERVAL_SECONDS, so the attack's
        # last connection is the connections-th one to open, not the last one seen.
        self.lives = self.sampler.lives_owned_by("slowhttptest", since=self.attack_start - 0.5)
        openings = sorted(life.first_seen for life in self.lives)
        if openings:
            self.last_open = openings[min(self.attack.connections, len(openings)) - 1]
        else:
            self.last_open = self.attack_start + self.attack.ramp_seconds
        deadline = self.last_open + self.allowed
        time.sleep(max(0.0, deadline + 2 * self.sampler.interval - time.monotonic()))
        self._write_lives()

    def _write_lives(self):
        """Write one row per sampled attack connection, in seconds since the attack started."""
        origin = self.attack_start
        with open(self.context.artifact(f"{self.attack.name}-connections.csv"), "w", encoding="ascii") as output:
            output.write("client_port,opened,closed,lifetime\n")
            for life in sorted(self.lives, key=lambda item: item.first_seen):
                closed = "" if life.closed_at is None else f"{life.closed_at - origin:.2f}"
                lifetime = "" if life.closed_at is None else f"{life.closed_at - life.first_seen:.2f}"
                output.write(f"{life.client_port},{life.first_seen - origin:.2f},{closed},{lifetime}\n")

    def _check_guard_health(self):
        live_status = self.guard.live_status()
        alive = self.guard.process.is_running()
        self._add("guard stays up", alive and live_status == 200,
                  f"process running={alive}, /healthz/live {live_status}", "running, 200")

        limit_mib = self.context.memory_limit_mib
        peak_kib = self.sampler.peak_rss_kib(self.attack_start - 1.0, self.clients_end)
        peak_mib = (peak_kib or 0) / 1024
        self._add("peak VmRSS", peak_kib is not None and peak_mib <= limit_mib, f"{peak_mib:.0f} MiB", f"<= {limit_mib} MiB")

    def _check_legit_traffic(self):
        summary = self.legit_summary
        if summary is None:
            self._add("legit wrk success", False, f"no wrk summary: {self.legit_output[-300:]!r}", ">= 99 %")
        else:
            self._add("legit wrk success", summary.success_ratio >= 0.99, summary.describe(), ">= 99 %")

    def _check_statistics(self):
        """Check slowhttptest's CSV: every connection closed in time, and every probe request got a response."""
        attack = self.attack
        try:
            report = SlowHttpReport.read(self.csv_prefix + ".csv", self.attack_output)
        except (FileNotFoundError, ValueError) as error:
            self.report = None
            self._add("slowhttptest CSV", False, f"unreadable: {error}; exit {self.attack_exit}", "CSV written")
            return
        self.report = report

        all_connected = report.all_connected_second(attack.connections)
        all_closed = report.all_closed_second(attack.connections)
        opened_text = (f"all {attack.connections} connected by {all_connected} s" if all_connected is not None
                       else "closed as they opened")
        check = "CSV: guard closed all connections"
        if all_closed is None:
            self._add(check, False, f"not all closed; {report.summary()}", self.limit_text)
        elif attack.client_sees_close_late:
            # The ss rows time the guard's side; the CSV only shows that every close arrived.
            self._add(check, True, f"{opened_text}, all closed by {all_closed} s as seen by a slow-reading client",
                      "all closed; timed by ss")
        else:
            # Without a row where all were connected, the last one opened no earlier than the ramp.
            reference = all_connected if all_connected is not None else math.floor(attack.ramp_seconds)
            closing_seconds = all_closed - reference
            self._add(check, closing_seconds <= self.allowed,
                      f"{opened_text}, all closed by {all_closed} s ({closing_seconds} s); "
                      f"max connected at once {report.max_connected()}", self.limit_text)

        unavailable = [row.second for row in report.rows if row.service_available == 0]
        measured = f"no probe response at seconds {unavailable}" if unavailable else f"a response in all {len(report.rows)} rows"
        self._add("CSV: probe request served", not unavailable, measured, f"response within {PROBE_INTERVAL_SECONDS} s")

    def _check_connection_lifetimes(self):
        """Check the guard side of every attack connection, as sampled by ss."""
        attack = self.attack
        check = "ss: attack connection lifetime"
        if self.lives:
            lifetimes = [(life.closed_at or time.monotonic()) - life.first_seen for life in self.lives]
            still_open = sum(1 for life in self.lives if life.closed_at is None)
            longest = max(lifetimes)
            measured = f"max {longest:.1f} s over {len(self.lives)} sampled connections, {still_open} still open"
            self._add(check, longest <= self.allowed and still_open == 0, measured, self.limit_text)
            if attack.cap_seconds is not None:
                cap_allowed = attack.cap_seconds + MARGIN_SECONDS
                self._add("ss: lifetime under the hard cap", longest <= cap_allowed and still_open == 0, measured,
                          f"<= {cap_allowed:g} s = {attack.cap_text} + {MARGIN_SECONDS:g} s")
        elif self.report is not None and self.report.all_closed_second(attack.connections) is not None:
            self._add(check, True, "every connection closed before the first 0.25 s sample", self.limit_text)
        else:
            self._add(check, False, "no attack connection sampled and slowhttptest did not see them close",
                      self.limit_text)

        self.results.append(Result.info(self.group, "ss: guard sockets still closing",
                                        f"{count_closing(self.guard.port)} in FIN-WAIT-1, CLOSING or LAST-ACK at the deadline"))

    def _check_back_to_baseline(self):
        """Find the first sample after the last attack connection opened with no more than the baseline open."""
        back_at = None
        for sample in self.sampler.samples_between(self.last_open, float("inf")):
            if sample.established - sample.established_by_owner.get("wrk", 0) <= self.baseline:
                back_at = sample.time
                break

        check = "ss: open connections back to baseline"
        if back_at is None:
            latest = self.sampler.latest()
            self._add(check, False, f"still {latest.established if latest else '?'} open, baseline {self.baseline}",
                      self.limit_text)
            return
        seconds = back_at - self.last_open
        self._add(check, seconds <= self.allowed,
                  f"{seconds:.1f} s after the last attack connection opened (baseline {self.baseline})", self.limit_text)

    def _check_active_connections_metric(self):
        active_after = None
        for _ in range(int(MARGIN_SECONDS / 0.25)):
            active_after = _active_connections(self.guard.metrics(), self.guard.port)
            if active_after is not None and self.active_before is not None and active_after <= self.active_before:
                break
            time.sleep(0.25)

        check = "metric kestrel_active_connections"
        if self.active_before is None or active_after is None:
            self._add(check, False, "metric missing from /metrics", "back to baseline")
            return
        self._add(check, active_after <= self.active_before,
                  f"{self.active_before:g} before, {active_after:g} after the clients ended",
                  f"back to baseline within {MARGIN_SECONDS:g} s of the clients ending")

    def _check_upstream(self):
        attack = self.attack
        upstream_after = self.context.upstream_stats()
        started = counter_delta(self.upstream_before, upstream_after, "started", attack.upstream_key)
        completed = counter_delta(self.upstream_before, upstream_after, "completed", attack.upstream_key)
        aborted = counter_delta(self.upstream_before, upstream_after, "aborted", attack.upstream_key)
        counts = f"'{attack.upstream_key}': {started} started, {completed} completed, {aborted} aborted"

        if attack.upstream_rule == NO_REQUEST:
            self._add("upstream never sees attack requests", started == 0, counts, "0 started")
        elif attack.upstream_rule == NO_COMPLETE_REQUEST:
            self._add("upstream never gets a complete attack request", completed == 0, counts, "0 completed")
        else:
            self.results.append(Result.info(self.group, "upstream requests", counts))

    def _report_guard_counters(self):
        metrics_after = self.guard.metrics()
        closed = counter_deltas(self.metrics_before, metrics_after, "connleakguard_inbound_connections_closed_total", "reason")
        rejected = counter_deltas(self.metrics_before, metrics_after, "connleakguard_inbound_requests_rejected_total", "reason")
        self.results.append(Result.info(self.group, "guard close reasons", _format_counts(closed)))
        self.results.append(Result.info(self.group, "guard rejected requests", _format_counts(rejected)))
