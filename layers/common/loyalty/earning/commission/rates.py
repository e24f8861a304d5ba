"""The rate of a sales line in the columnar path: keyed by (partner, month or day, category),
resolved once per distinct key by a pure function, and dictionary-encoded in a table that the
blocks of a calculator share."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from loyalty.earning.commission.model import PartnerContext, RateEntry
from loyalty.program.rules import RuleBook

CACHE_LIMIT = 100_000
_ZERO = Decimal(0)
_BLANK = RateEntry("", _ZERO, "", "")


@dataclass(frozen=True, slots=True)
class RateProblem:
    """Why a line has no rate (its row's issue)."""

    column: str
    reason: str
    rank: int  # which problem `compute` would report first, when a row has several
    value: str = ""  # what the row's issue quotes (problems of one row only)


def resolve_rate(
    rules: RuleBook,
    tier_of: Callable[[str, str], str],
    partner_id: str,
    token: str,
    category: str,
    ctx: PartnerContext | None,
) -> RateEntry | RateProblem:
    """The rate of (partner, month or day, category): the version in effect on the token's
    day (the 1st for a month) for the partner's scope, the partner's tier of that month (the
    entry tier when none is recorded), plus the category bonus."""
    day = token if len(token) == 10 else f"{token}-01"
    try:
        version = rules.in_effect(
            dt.date.fromisoformat(day), ctx.cohort if ctx else None, ctx.segment if ctx else None
        )
    except LookupError as exc:
        return RateProblem("sold_at", str(exc), 1)
    tier = tier_of(partner_id, token[:7]) or version.entry_tier
    try:
        rate = version.commission_rate(tier, category)
    except KeyError:
        return RateProblem("partner_id", f"tier {tier!r} is not defined in rules {version.version}", 4)
    return RateEntry(tier, rate, version.version, "month")


class RateTable:
    """Distinct rate entries and problems, each under one index: `entries[i]` (blank for a
    problem), `rates[i]` (0 for a problem) and `problems[i]`."""

    def __init__(self) -> None:
        self.entries: list[RateEntry] = []
        self.rates: list[Decimal] = []
        self.problems: dict[int, RateProblem] = {}
        self._index: dict[RateEntry | RateProblem, int] = {}

    def intern(self, value: RateEntry | RateProblem) -> int:
        idx = self._index.get(value)
        if idx is None:
            idx = self._index[value] = len(self.entries)
            if isinstance(value, RateProblem):
                self.problems[idx] = value
                value = _BLANK
            self.entries.append(value)
            self.rates.append(value.rate)
        return idx


class PeriodTokens:
    """The token of a `sold_at`: its month when one rule version is in effect for the whole
    month (for every scope), else its day. Worked out once per distinct `sold_at`."""

    def __init__(self, rules: RuleBook) -> None:
        self._rules = rules
        self._tokens: dict[str, str] = {}
        self._steady: dict[str, bool] = {}

    def of(self, sold_at: Sequence[str]) -> list[str]:
        try:
            return list(map(self._tokens.__getitem__, sold_at))
        except KeyError:
            self._add(sold_at)
            return list(map(self._tokens.__getitem__, sold_at))

    def _add(self, sold_at: Sequence[str]) -> None:
        if len(self._tokens) > CACHE_LIMIT:
            self._tokens.clear()
        for s in set(sold_at).difference(self._tokens):
            month = s[:7]
            steady = self._steady.get(month)
            if steady is None:
                steady = self._steady[month] = self._is_steady(month)
            self._tokens[s] = month if steady else s[:10]

    def _is_steady(self, month: str) -> bool:
        first = dt.date.fromisoformat(f"{month}-01")
        last = (first + dt.timedelta(days=31)).replace(day=1)
        if any(first < v.effective_from < last for v in self._rules.versions):
            return False
        try:
            self._rules.in_effect(first)
        except LookupError:
            return False
        return True
