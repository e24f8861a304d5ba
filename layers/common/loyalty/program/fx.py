"""FX rates (`date,currency,units_per_eur`): parse an uploaded rates file and look rates up.

A sale converts with the rate of its `sold_at` date or, failing that, the latest earlier date.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import IO

from loyalty.kernel.csvio.model import ColumnSpec, RowIssue
from loyalty.kernel.csvio.stream import CsvStream
from loyalty.kernel.currencies import ISO_4217
from loyalty.kernel.money import parse_decimal

FX_SPEC = ColumnSpec(
    columns=("date", "currency", "units_per_eur"),
    required=frozenset({"date", "currency", "units_per_eur"}),
    aliases={"rate": "units_per_eur", "ccy": "currency", "day": "date"},
)


def parse_rates(raw: IO[bytes]) -> Iterator[tuple[dt.date, str, Decimal] | RowIssue]:
    stream = CsvStream(raw, FX_SPEC)
    for line, values in stream.rows_iter():
        if isinstance(values, RowIssue):
            yield values
            continue
        day_s, cur_s, rate_s = values
        try:
            day = dt.date.fromisoformat(day_s.strip())
        except ValueError:
            yield RowIssue(line, "date", day_s, "not an ISO date (YYYY-MM-DD)")
            continue
        cur = cur_s.strip().upper()
        if cur not in ISO_4217 or cur == "EUR":
            yield RowIssue(line, "currency", cur_s, "not an ISO 4217 code other than EUR")
            continue
        try:
            rate = parse_decimal(rate_s)
        except ValueError as exc:
            yield RowIssue(line, "units_per_eur", rate_s, str(exc))
            continue
        if rate <= 0:
            yield RowIssue(line, "units_per_eur", rate_s, "rate must be positive")
            continue
        yield day, cur, rate


class FxTable:
    """In-memory rates per currency, sorted by date."""

    def __init__(self, rates: Iterable[tuple[dt.date, str, Decimal]] = ()) -> None:
        self._days: dict[str, list[dt.date]] = {}
        self._rates: dict[str, list[Decimal]] = {}
        by_cur: dict[str, dict[dt.date, Decimal]] = {}
        for day, cur, rate in rates:
            by_cur.setdefault(cur, {})[day] = rate
        for cur, m in by_cur.items():
            days = sorted(m)
            self._days[cur] = days
            self._rates[cur] = [m[d] for d in days]

    def rate(self, currency: str, day: dt.date) -> tuple[Decimal, dt.date] | None:
        days = self._days.get(currency)
        if not days:
            return None
        i = bisect.bisect_right(days, day)
        if not i:
            return None
        return self._rates[currency][i - 1], days[i - 1]
