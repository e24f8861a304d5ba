"""The header line: found after any blank lines, split with its delimiter, mapped onto the
columns of a :class:`ColumnSpec` (aliases, duplicates, missing required columns)."""

from __future__ import annotations

import csv
from typing import TextIO

from loyalty.kernel.csvio.model import MARK, ColumnSpec, FileError
from loyalty.kernel.csvio.sniff import detect_delimiter


def read_header_line(text: TextIO) -> tuple[str, int]:
    """The first non-blank line and the number of physical lines read up to it (inclusive)."""
    header_line = ""
    lines = 0
    while not header_line.strip():
        header_line = text.readline()
        if not header_line:
            raise FileError("empty_file", "the file has no header line")
        lines += 1
    if MARK in header_line:
        raise FileError("bad_header", "the header line is unreadable (too long or not valid text)")
    return header_line, lines


def split_header(header_line: str) -> tuple[list[str], str]:
    """The header's names (stripped) and the file's delimiter."""
    delimiter = detect_delimiter(header_line)
    try:
        header = next(csv.reader([header_line], delimiter=delimiter))
    except (csv.Error, StopIteration) as exc:
        raise FileError("bad_header", f"the header line is not valid CSV: {exc}") from exc
    return [h.strip() for h in header], delimiter


def map_header(spec: ColumnSpec, header: list[str], delimiter: str) -> tuple[list[int], list[str]]:
    """For each spec column, its position in the header (-1 when absent); and the header's
    names that no spec column claims."""
    seen: dict[str, int] = {}
    ignored: list[str] = []
    for i, name in enumerate(header):
        canon = spec.canonical(name)
        if canon is None:
            if name:
                ignored.append(name)
            continue
        if canon in seen:
            raise FileError(
                "bad_header",
                f"columns {header[seen[canon]]!r} and {name!r} both mean {canon!r}; keep only one",
            )
        seen[canon] = i
    missing = [c for c in spec.columns if c in spec.required and c not in seen]
    if missing:
        shown = ", ".join(repr(h[:40]) for h in header[:12])
        raise FileError(
            "missing_columns",
            f"missing required column(s): {', '.join(missing)}; the header has: {shown}"
            f" (delimiter {delimiter!r})",
        )
    return [seen.get(c, -1) for c in spec.columns], ignored
