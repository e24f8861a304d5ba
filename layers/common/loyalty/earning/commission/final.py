"""A month's commission made final at its own close (PRODUCT §5: "the new tier applies to sales
of the next month"; "a month's commission is final at that month's close, at the tier decided for
that month; lines written earlier are provisional and re-rated if needed").

A line is rated when it is written, with the tier then recorded for its month. A sale of the new
month uploaded while the previous close still awaits approval is rated before that close commits
the month's tier: such a line is provisional. At the month's close the tier of every month is the
committed one, and `final_lines` rates each line again, as the writer would now:

- a sale: the rule version in effect on its day (for the partner's pilot scope), the tier of its
  month (the entry tier when none is recorded), plus the category bonus;
- a return of a known sale: that sale's rate, after the sale itself was re-rated;
- a return with no sale found: the highest rate the partner held in the lookback window.

Only lines whose figures change are returned; their commission difference moves the month totals
on the day the line holds on (its landing day, or its sale's for a return).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from loyalty.earning.commission.model import PartnerContext, RateEntry
from loyalty.earning.commission.rates import resolve_rate
from loyalty.earning.records import SaleRecord
from loyalty.kernel.money import CTX, to_cents
from loyalty.program.rules import RuleBook

FINAL = "final"
ORIGINAL = "original-sale"
HIGHEST = "highest-rate"


@dataclass(frozen=True)
class Rerated:
    """A provisional line and its final form."""

    old: SaleRecord
    new: SaleRecord

    @property
    def delta(self) -> Decimal:
        return self.new.commission - self.old.commission

    @property
    def holding_day(self) -> str:
        """The ISO day the line's commission sits on in the month totals."""
        o = self.old
        return o.anchor or (f"{o.period}-01" if o.period else o.sold_at[:10])


def commission(net: Decimal, fx_rate: Decimal | None, rate: Decimal) -> Decimal:
    """The commission of a net amount in the sale's currency, as the writer computes it: converted
    exactly, multiplied, rounded once (half-even) to cents."""
    prog = net if fx_rate is None else CTX.divide(net, fx_rate)
    return to_cents(CTX.multiply(prog, rate))


def landing_period(s: SaleRecord) -> str:
    return s.period or s.month


def final_lines(
    lines: Iterable[SaleRecord],
    rules: RuleBook,
    tier_of: Callable[[str, str], str],
    ctx: PartnerContext | None,
    originals: Mapping[str, RateEntry],
    highest: Callable[[SaleRecord], RateEntry | None] | None = None,
) -> list[Rerated]:
    """The lines (of one partner) whose final rate differs from the provisional one, re-rated.

    `tier_of(partner, month)` is the committed tier ("" for none); `originals` the rates of sales
    that returns reverse and that are not among `lines` (sale id -> rate entry); `highest` the
    highest-rate rule for returns without a sale."""
    ordered = sorted(lines, key=lambda s: (s.quantity < 0, s.sold_at, s.sale_id))  # sales first
    final: dict[str, RateEntry] = {}
    out: list[Rerated] = []
    for s in ordered:
        entry = _entry(s, rules, tier_of, ctx, {**originals, **final}, highest)
        if entry is None:
            continue
        if s.quantity > 0:
            final[s.sale_id] = RateEntry(entry.tier, entry.rate, entry.rule_version, ORIGINAL)
        comm = commission(s.net, s.fx_rate, entry.rate)
        if (s.tier, s.rate, s.rule_version, s.commission) == (
            entry.tier,
            entry.rate,
            entry.rule_version,
            comm,
        ):
            continue
        new = dataclasses.replace(
            s,
            tier=entry.tier,
            rate=entry.rate,
            rule_version=entry.rule_version,
            commission=comm,
            status=FINAL,
        )
        out.append(Rerated(s, new))
    return out


def _entry(
    s: SaleRecord,
    rules: RuleBook,
    tier_of: Callable[[str, str], str],
    ctx: PartnerContext | None,
    originals: Mapping[str, RateEntry],
    highest: Callable[[SaleRecord], RateEntry | None] | None,
) -> RateEntry | None:
    """The final rate entry of one line (None: leave it as it is)."""
    if s.quantity < 0 and s.rate_basis == ORIGINAL:
        return originals.get(s.matched or s.original_sale_id)
    if s.quantity < 0 and s.rate_basis == HIGHEST:
        return highest(s) if highest is not None else None
    got = resolve_rate(rules, tier_of, s.partner_id, s.sold_at[:10], s.category, ctx)
    return got if isinstance(got, RateEntry) else None
