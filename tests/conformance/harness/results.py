"""Pass/fail rows of a conformance run and the table that run.sh prints."""

from dataclasses import dataclass

PASS = "PASS"
FAIL = "FAIL"
INFO = "INFO"


@dataclass(frozen=True)
class Result:
    """One row: the group (an attack or a protocol), the check, its outcome and the numbers behind it."""

    group: str
    check: str
    outcome: str
    measured: str
    limit: str = ""

    @classmethod
    def of(cls, group, check, passed, measured, limit=""):
        return cls(group, check, PASS if passed else FAIL, measured, limit)

    @classmethod
    def info(cls, group, check, measured):
        return cls(group, check, INFO, measured, "")


class ResultTable:
    """Collects rows as checks finish and prints them aligned."""

    def __init__(self):
        self.rows = []

    def add(self, result):
        self.rows.append(result)
        print(f"  {result.outcome}  {result.group}: {result.check}: {result.measured}", flush=True)

    def extend(self, results):
        for result in results:
            self.add(result)

    @property
    def passed(self):
        return sum(1 for row in self.rows if row.outcome == PASS)

    @property
    def failed(self):
        return sum(1 for row in self.rows if row.outcome == FAIL)

    def render(self):
        headers = ("GROUP", "CHECK", "RESULT", "MEASURED", "LIMIT")
        cells = [headers] + [(row.group, row.check, row.outcome, row.measured, row.limit) for row in self.rows]
        widths = [max(len(cell[index]) for cell in cells) for index in range(len(headers) - 1)]
        lines = []
        for cell in cells:
            padded = [cell[index].ljust(widths[index]) for index in range(len(widths))]
            lines.append("  ".join(padded + [cell[-1]]).rstrip())
        return "\n".join(lines)

    def render_markdown(self):
        lines = ["| Group | Check | Result | Measured | Limit |", "| --- | --- | --- | --- | --- |"]
        for row in self.rows:
            cells = [row.group, row.check, row.outcome, row.measured, row.limit]
            lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
        return "\n".join(lines)
