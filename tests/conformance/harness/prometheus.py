"""Scraping of the guard's admin /metrics endpoint (Prometheus text format 0.0.4)."""

import re

from .processes import http_get

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s+(\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


class MetricsSnapshot:
    """Samples of one scrape, keyed by metric name, each a list of (labels dict, value)."""

    def __init__(self, samples, error=None):
        self.samples = samples
        self.error = error

    @classmethod
    def scrape(cls, admin_port):
        status, body = http_get(f"http://127.0.0.1:{admin_port}/metrics", timeout=5.0)
        if status != 200:
            return cls({}, error=f"GET /metrics returned {status}: {body[:200]!r}")
        return cls(parse(body.decode("utf-8", "replace")))

    def has(self, name):
        return name in self.samples

    def total(self, name, **label_filter):
        """Sum the samples of name whose labels match every label_filter item; None if name is absent."""
        if name not in self.samples:
            return None
        return sum(
            value
            for labels, value in self.samples[name]
            if all(labels.get(key) == expected for key, expected in label_filter.items())
        )

    def by_label(self, name, label):
        """Sum the samples of name grouped by the value of one label."""
        totals = {}
        for labels, value in self.samples.get(name, []):
            key = labels.get(label, "")
            totals[key] = totals.get(key, 0.0) + value
        return totals


def parse(text):
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        if match is None:
            continue
        name, _, label_text, value_text = match.groups()
        try:
            value = float(value_text)
        except ValueError:
            continue
        labels = dict(_LABEL.findall(label_text or ""))
        samples.setdefault(name, []).append((labels, value))
    return samples


def counter_deltas(before, after, name, label):
    """Return {label value: increase} of counter name between two snapshots, omitting zero increases."""
    start = before.by_label(name, label)
    end = after.by_label(name, label)
    deltas = {}
    for key, value in end.items():
        delta = value - start.get(key, 0.0)
        if delta > 0:
            deltas[key] = delta
    return deltas
