"""Accounting periods (YYYY-MM months): parsing, neighbours, cut-offs, open periods."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable

PERIOD_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def check_period(period: str) -> str:
    if not PERIOD_RE.match(period or ""):
        raise ValueError(f"period must be YYYY-MM, got {period!r}")
    return period


def next_period(period: str) -> str:
    y, m = int(period[:4]), int(period[5:7])
    return f"{y + (m == 12):04d}-{m % 12 + 1:02d}"


def previous_period(period: str) -> str:
    return months_back(period, 2)[0]


def period_before(day: dt.date) -> str:
    """The period a close started on `day` closes: the previous calendar month."""
    return previous_period(f"{day.year:04d}-{day.month:02d}")


def cutoff(period: str) -> dt.date:
    """Last day of the period (the cut-off is its last instant)."""
    y, m = int(period[:4]), int(period[5:7])
    return dt.date(y, m, calendar.monthrange(y, m)[1])


def open_period(month: str, frozen: Iterable[str]) -> str:
    """The period an accrual dated in `month` lands in: its own, or the first open one after it."""
    closed = set(frozen)
    while month in closed:
        month = next_period(month)
    return month


def months_back(month: str, n: int) -> list[str]:
    """`n` months ending with `month`, oldest first: months_back("2026-02", 3) -> 2025-12..2026-02."""
    y, m = int(month[:4]), int(month[5:7])
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        m -= 1
        if m == 0:
            y, m = y - 1, 12
    return out[::-1]
