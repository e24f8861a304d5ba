"""Reports that leave the system: ingest summaries and errors CSVs (spreadsheet-formula safe)."""

from __future__ import annotations

import csv
import heapq
import io
import re
from collections.abc import Iterable, Iterator
from typing import IO

from loyalty.kernel.csvio.model import RowIssue
from loyalty.kernel.ids import FORMULA_PREFIXES

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
ERRORS_HEADER = ["line", "column", "value", "reason"]


def safe_cell(value: object) -> str:
    """A CSV cell that no spreadsheet will evaluate: text starting with a formula trigger gets a
    leading apostrophe; plain numbers (including negative amounts) stay numbers."""
    s = "" if value is None else str(value)
    if s and s.startswith(FORMULA_PREFIXES) and not _NUMBER.match(s):
        return "'" + s
    return s


class ErrorsWriter:
    """Writes row issues as CSV to a file object (a temp file: the list can be long)."""

    def __init__(self, out: IO[str]) -> None:
        self._w = csv.writer(out, lineterminator="\n")
        self._w.writerow(ERRORS_HEADER)
        self.count = 0

    def write(self, issues: Iterable[RowIssue]) -> None:
        for i in issues:
            self._w.writerow([i.line, safe_cell(i.column), safe_cell(i.value[:200]), safe_cell(i.reason)])
            self.count += 1


def issues_csv(issues: Iterable[RowIssue]) -> bytes:
    buf = io.StringIO()
    ErrorsWriter(buf).write(issues)
    return buf.getvalue().encode()


def _rows(data: bytes) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(data.decode()))
    next(reader, None)
    for row in reader:
        yield int(row[0]), row


def merge_errors(parts: Iterable[bytes], out: IO[str]) -> int:
    """Merge sorted error parts into one CSV sorted by line; returns the row count."""
    w = csv.writer(out, lineterminator="\n")
    w.writerow(ERRORS_HEADER)
    n = 0
    for _, row in heapq.merge(*(_rows(p) for p in parts), key=lambda t: t[0]):
        w.writerow(row)
        n += 1
    return n
