"""Ports and limits of a conformance run, read from the suite's guard configuration file."""

import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_DURATION_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(KiB|MiB|GiB|KB|MB|GB|B)?\s*$", re.IGNORECASE)
_SIZE_FACTORS = {"kib": 1024, "mib": 1024**2, "gib": 1024**3, "kb": 1000, "mb": 1000**2, "gb": 1000**3, "b": 1}


def parse_duration(text):
    """Parse a guard duration ('5s', '500ms', '1h30m' or 'hh:mm:ss') into seconds."""
    text = str(text).strip()
    if ":" in text:
        hours, minutes, seconds = text.split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)

    parts = _DURATION_PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        raise ValueError(f"invalid duration {text!r}: write a number with a unit such as '5s' or '500ms'")
    return sum(float(number) * _DURATION_SECONDS[unit] for number, unit in parts)


def parse_size(value):
    """Parse a guard size (8192, '8KiB', '1MiB', '240B') into bytes."""
    if isinstance(value, int):
        return value

    match = _SIZE.match(str(value))
    if match is None:
        raise ValueError(f"invalid size {value!r}: write bytes or a value such as '8KiB'")
    number, unit = match.groups()
    return int(float(number) * _SIZE_FACTORS[(unit or "B").lower()])


def _port_of(url):
    port = urlsplit(url).port
    if port is None:
        raise ValueError(f"URL {url!r} has no explicit port; the suite needs one")
    return port


@dataclass(frozen=True)
class SuiteSettings:
    """Everything the checks need to know about the guard under test, in seconds, bytes and port numbers."""

    config_path: str
    guard_port: int
    admin_port: int
    upstream_port: int
    upstream_control_port: int
    guard_h2_port: int
    admin_h2_port: int

    request_headers_timeout: float
    request_body_timeout: float
    min_request_body_data_rate: int
    min_request_body_grace: float
    response_timeout: float
    min_response_data_rate: int
    min_response_grace: float
    keep_alive_timeout: float
    drain_delay: float
    drain_timeout: float

    max_request_line_size: int
    max_request_header_size: int
    max_request_headers_total_size: int
    max_request_header_count: int
    max_request_body_size: int
    max_connections_per_host: int

    @classmethod
    def load(cls, config_path):
        """Read guard.json. The h2c instance uses the proxy and admin ports plus 100, the upstream
        control port is the upstream port plus 1."""
        with open(config_path, encoding="utf-8") as config_file:
            config = json.load(config_file)

        guard = config["ConnLeakGuard"]
        inbound = guard["Inbound"]
        destinations = config["ReverseProxy"]["Clusters"]["app"]["Destinations"]
        upstream_url = next(iter(destinations.values()))["Address"]

        guard_port = _port_of(inbound["Urls"].split(";")[0])
        admin_port = _port_of(guard["Admin"]["Urls"].split(";")[0])
        upstream_port = _port_of(upstream_url)

        return cls(
            config_path=config_path,
            guard_port=guard_port,
            admin_port=admin_port,
            upstream_port=upstream_port,
            upstream_control_port=upstream_port + 1,
            guard_h2_port=guard_port + 100,
            admin_h2_port=admin_port + 100,
            request_headers_timeout=parse_duration(inbound["RequestHeadersTimeout"]),
            request_body_timeout=parse_duration(inbound["RequestBodyTimeout"]),
            min_request_body_data_rate=parse_size(inbound["MinRequestBodyDataRate"]),
            min_request_body_grace=parse_duration(inbound["MinRequestBodyDataRateGracePeriod"]),
            response_timeout=parse_duration(inbound["ResponseTimeout"]),
            min_response_data_rate=parse_size(inbound["MinResponseDataRate"]),
            min_response_grace=parse_duration(inbound["MinResponseDataRateGracePeriod"]),
            keep_alive_timeout=parse_duration(inbound["KeepAliveTimeout"]),
            drain_delay=parse_duration(guard["Shutdown"]["DrainDelay"]),
            drain_timeout=parse_duration(guard["Shutdown"]["DrainTimeout"]),
            max_request_line_size=parse_size(inbound["MaxRequestLineSize"]),
            max_request_header_size=parse_size(inbound["MaxRequestHeaderSize"]),
            max_request_headers_total_size=parse_size(inbound["MaxRequestHeadersTotalSize"]),
            max_request_header_count=int(inbound["MaxRequestHeaderCount"]),
            max_request_body_size=parse_size(inbound["MaxRequestBodySize"]),
            max_connections_per_host=int(guard["Outbound"]["MaxConnectionsPerHost"]),
        )

    def all_ports(self):
        return [
            self.guard_port,
            self.admin_port,
            self.upstream_port,
            self.upstream_control_port,
            self.guard_h2_port,
            self.admin_h2_port,
        ]
