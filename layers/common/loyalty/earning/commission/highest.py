"""The rate of a return whose sale cannot be found (PRODUCT §5): "with no original found, at the
highest rate the partner held in the lookback window" - so a return never earns the partner
anything by being dated in a month of a lower tier.

The window is the `returns.lookback_months` months (rules setting, default 12) ending with the
return's own month; each month's rate is the tier of that month (the entry tier when none is
recorded) under the rule version in effect on its first day (the return's own day for its own
month), with the return's category bonus. The highest wins; on a tie, the latest month.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Protocol

from loyalty.earning.commission.model import PartnerContext, RateEntry
from loyalty.kernel.periods import months_back
from loyalty.program.rules import RuleBook

HIGHEST = "highest-rate"


class ReturnLine(Protocol):
    @property
    def partner_id(self) -> str: ...
    @property
    def sold_at(self) -> str: ...
    @property
    def category(self) -> str: ...


class HighestRate:
    """The highest-rate rule over a tier lookup (`tier_of(partner, month)`, "" for none)."""

    def __init__(
        self, rules: RuleBook, tier_of: Callable[[str, str], str], ctx: PartnerContext | None = None
    ) -> None:
        self.rules = rules
        self.tier_of = tier_of
        self.ctx = ctx

    def entry(self, line: ReturnLine) -> RateEntry | None:
        """The highest rate entry of the window, None when no rules cover any of its months."""
        day = line.sold_at[:10]
        month = day[:7]
        best: RateEntry | None = None
        ctx = self.ctx
        for m in sorted(months_back(month, self._window(day))):
            on = dt.date.fromisoformat(day if m == month else f"{m}-01")
            try:
                version = self.rules.in_effect(on, ctx.cohort if ctx else None, ctx.segment if ctx else None)
                tier = self.tier_of(line.partner_id, m) or version.entry_tier
                rate = version.commission_rate(tier, line.category)
            except (LookupError, KeyError):
                continue
            if best is None or rate >= best.rate:
                best = RateEntry(tier, rate, version.version, HIGHEST)
        return best

    def _window(self, day: str) -> int:
        ctx = self.ctx
        try:
            version = self.rules.in_effect(
                dt.date.fromisoformat(day), ctx.cohort if ctx else None, ctx.segment if ctx else None
            )
        except LookupError:
            return 1
        return version.returns.lookback_months
