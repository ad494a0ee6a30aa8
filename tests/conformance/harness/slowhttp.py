"""Parsing of slowhttptest's CSV statistics and exit status.

slowhttptest 1.8.2 (report_status in src/slowhttptest.cc) writes one CSV row per second.
Its columns are the seconds since start and the numbers of connections closed, pending
(connecting) and connected. The last, service available, is the connection count while
the probe request gets a response and 0 after a probe timed out.
It ends early with "No open connections left" once every connection is closed, often
before it writes a row for that second, so the exit line is the last evidence.
"""

import csv
import re
from dataclasses import dataclass

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ENDED = re.compile(r"Test ended on (\d+)th second")
_EXIT = re.compile(r"Exit status:\s*(.+)")

ALL_CLOSED = "No open connections left"


@dataclass(frozen=True)
class SlowHttpRow:
    second: int
    closed: int
    pending: int
    connected: int
    service_available: int


@dataclass
class SlowHttpReport:
    """The CSV rows and the exit line of one slowhttptest run."""

    rows: list
    exit_status: str | None
    ended_second: int | None

    @classmethod
    def read(cls, csv_path, stdout_text):
        rows = []
        with open(csv_path, encoding="ascii", newline="") as csv_file:
            reader = csv.reader(csv_file)
            next(reader, None)
            for record in reader:
                if len(record) >= 5:
                    rows.append(SlowHttpRow(*(int(value) for value in record[:5])))

        plain = _ANSI.sub("", stdout_text)
        ended = _ENDED.search(plain)
        exit_match = _EXIT.search(plain)
        return cls(
            rows=rows,
            exit_status=exit_match.group(1).strip() if exit_match else None,
            ended_second=int(ended.group(1)) if ended else None,
        )

    def all_connected_second(self, connections):
        """First second by which every connection was connected at least once (connected or closed)."""
        for row in self.rows:
            if row.connected + row.closed >= connections:
                return row.second
        return None

    def all_closed_second(self, connections):
        """First second by which every connection was closed, or None if some stayed open."""
        for row in self.rows:
            if row.closed >= connections:
                return row.second
        if self.exit_status == ALL_CLOSED:
            return self.ended_second
        return None

    def max_connected(self):
        return max((row.connected for row in self.rows), default=0)

    def last_row(self):
        return self.rows[-1] if self.rows else None

    def summary(self):
        last = self.last_row()
        last_text = f"last row closed={last.closed} connected={last.connected} pending={last.pending}" if last else "no rows"
        return f"exit '{self.exit_status}' at {self.ended_second} s, {last_text}"
