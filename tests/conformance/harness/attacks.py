"""The slowhttptest attacks of the suite and the guard limit that must stop each one."""

import math
from dataclasses import dataclass

from .context import MARGIN_SECONDS

# What the upstream may see of an attack request.
NO_REQUEST = "no-request"  # not even the request line
NO_COMPLETE_REQUEST = "no-complete-request"  # headers may be streamed, the body never completes
SERVED = "served"  # the request is legitimate, only the reading is slow

PROBE_INTERVAL_SECONDS = 3
KESTREL_RESPONSE_BUFFER_BYTES = 64 * 1024


@dataclass(frozen=True)
class Attack:
    """One slowhttptest run and the limit of the guard that must stop it."""

    name: str
    mode: str
    connections: int
    rate: int
    path: str
    options: tuple
    limit_seconds: float
    limit_text: str
    upstream_key: str
    upstream_rule: str
    hold_seconds: float = 0.0
    client_sees_close_late: bool = False
    cap_seconds: float | None = None
    cap_text: str = ""

    @property
    def ramp_seconds(self):
        return self.connections / self.rate

    @property
    def test_length_seconds(self):
        """slowhttptest -l: long enough that a guard without the limit visibly keeps connections open."""
        hold = max(self.limit_seconds + MARGIN_SECONDS + 10, self.hold_seconds)
        return int(math.ceil(self.ramp_seconds + hold))

    def argv(self, port, csv_prefix):
        return [
            "slowhttptest",
            self.mode,
            "-c", str(self.connections),
            "-r", str(self.rate),
            "-l", str(self.test_length_seconds),
            "-p", str(PROBE_INTERVAL_SECONDS),
            "-g", "-o", csv_prefix,
            "-u", f"http://127.0.0.1:{port}{self.path}",
            *self.options,
        ]


def _seconds(value):
    return f"{value:g} s"


def build_attacks(settings):
    """The attack list, with each limit taken from guard.json so the checks follow the configuration."""
    body_rate = settings.min_request_body_data_rate
    response_rate = settings.min_response_data_rate
    # Kestrel counts a response write against MinResponseDataRate once it enters its response
    # buffer (MaxResponseBufferSize, 64 KiB by default), so a stalled reader earns that buffer
    # divided by the rate on top of the grace period.
    slow_read_limit = settings.min_response_grace + KESTREL_RESPONSE_BUFFER_BYTES / response_rate
    return [
        Attack(
            name="slow-headers",
            mode="-H",
            connections=200,
            rate=100,
            path="/attack/slow-headers",
            # A 2-26 byte header line every second: endless headers, never the blank line.
            options=("-t", "POST", "-i", "1", "-x", "12"),
            limit_seconds=settings.request_headers_timeout,
            limit_text=f"RequestHeadersTimeout {_seconds(settings.request_headers_timeout)}",
            upstream_key="POST /attack/slow-headers",
            upstream_rule=NO_REQUEST,
        ),
        Attack(
            name="slow-body-rate",
            mode="-B",
            connections=200,
            rate=100,
            path="/attack/slow-body-rate",
            # About 12 bytes a second, far below MinRequestBodyDataRate.
            options=("-i", "1", "-x", "10", "-s", "100000"),
            limit_seconds=settings.min_request_body_grace,
            limit_text=(
                f"MinRequestBodyDataRate {body_rate} B/s after "
                f"{_seconds(settings.min_request_body_grace)} grace"
            ),
            upstream_key="POST /attack/slow-body-rate",
            upstream_rule=NO_COMPLETE_REQUEST,
        ),
        Attack(
            name="slow-body-total",
            mode="-B",
            connections=100,
            rate=100,
            path="/attack/slow-body-total",
            # About 1,000 bytes a second: above MinRequestBodyDataRate, so only
            # RequestBodyTimeout can stop a 1,000,000-byte body sent at this pace.
            options=("-i", "1", "-x", "1000", "-s", "1000000"),
            limit_seconds=settings.request_body_timeout,
            limit_text=f"RequestBodyTimeout {_seconds(settings.request_body_timeout)}",
            upstream_key="POST /attack/slow-body-total",
            upstream_rule=NO_COMPLETE_REQUEST,
        ),
        Attack(
            name="slow-read",
            mode="-X",
            connections=100,
            rate=100,
            path="/big?bytes=8388608",
            # A 1-512 byte receive window and 512 bytes read a second from an 8 MiB response:
            # 32 times below the suite's MinResponseDataRate, yet fast enough that the client
            # drains its receive buffer and notices the guard's close within seconds.
            options=("-k", "1", "-n", "1", "-z", "512", "-w", "1", "-y", "512"),
            limit_seconds=slow_read_limit,
            limit_text=(
                f"MinResponseDataRateGracePeriod {_seconds(settings.min_response_grace)} + "
                f"64 KiB at MinResponseDataRate {response_rate} B/s"
            ),
            upstream_key="GET /big",
            upstream_rule=SERVED,
            # Hold past ResponseTimeout so the table also shows the hard cap at work, plus time for
            # slowhttptest to drain its receive buffer and notice the close.
            hold_seconds=settings.response_timeout + 15,
            client_sees_close_late=True,
            cap_seconds=settings.response_timeout,
            cap_text=f"ResponseTimeout {_seconds(settings.response_timeout)}",
        ),
        Attack(
            name="range",
            mode="-R",
            connections=200,
            rate=100,
            path="/attack/range",
            # Range: bytes=0-,5-0,5-1,...,5-1999 is a header line of about 12 KiB.
            options=("-a", "5", "-b", "2000"),
            limit_seconds=0.0,
            limit_text=f"431 at once for MaxRequestHeaderSize {settings.max_request_header_size} B",
            upstream_key="HEAD /attack/range",
            upstream_rule=NO_REQUEST,
        ),
    ]
