"""The vocabulary of partner CSV files: whole-file errors, row issues, the column contract and
the columnar blocks rows come out in.

Whole-file problems raise :class:`FileError`. Rows come out in columnar blocks
(:class:`RawBlock`): well-formed rows as columns in the order of the :class:`ColumnSpec`, and
problem rows as :class:`RowIssue` so that every row ends in exactly one place.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

SAMPLE_BYTES = 64 * 1024
DEFAULT_MAX_LINE_BYTES = 8 * 1024
MARK = "\x1a"  # left in a row where a line was cut or bytes were not text


class FileError(Exception):
    """A problem with the whole file; `code` is stable, `message` says what and why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class RowIssue:
    line: int
    column: str
    value: str
    reason: str


@dataclass(frozen=True)
class ColumnSpec:
    """Canonical columns, which are required, and accepted header aliases."""

    columns: Sequence[str]
    required: frozenset[str]
    aliases: dict[str, str] = field(default_factory=dict)  # normalized alias -> canonical

    def canonical(self, header: str) -> str | None:
        norm = normalize_header(header)
        if norm in self.columns:
            return norm
        return self.aliases.get(norm)


@dataclass(slots=True)
class RawBlock:
    """Up to `size` rows: `cols[k]` is the k-th spec column of the good rows (strings, as read)."""

    lines: list[int]
    cols: list[Sequence[str]]
    issues: list[RowIssue]

    def __len__(self) -> int:
        return len(self.lines)


_HDR_RE = re.compile(r"[\s\-./]+")


def normalize_header(name: str) -> str:
    return _HDR_RE.sub("_", name.strip().strip('"').strip().lower()).strip("_")
