"""The close makes its month's commission final (PRODUCT §5): before a partner is reviewed, every
accrual line that lands in the closed period is rated again with the committed tiers
(`loyalty.earning.commission.final`); a line whose rate changes is rewritten as final and its
month total moves by the difference, once (a conditional transaction per line). The review then
reads month totals that hold the final commission, so what matures, what the ledger books and what
the statement shows are at the final rate.

This is the one write of the Review step; it does not depend on finance's decision (the tiers it
applies were approved at earlier closes), so a rejected run and its re-run find the same lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from loyalty.close.ports import PartnerSales
from loyalty.close.review import CloseLine
from loyalty.earning.commission.final import ORIGINAL, final_lines, landing_period
from loyalty.earning.commission.highest import HighestRate
from loyalty.earning.commission.model import PartnerContext, RateEntry
from loyalty.earning.ports import FinalRateStore
from loyalty.earning.records import MonthTotals, SaleRecord
from loyalty.kernel.periods import months_back
from loyalty.program.ports import PartnerLookup, RuleSource, TierLookup
from loyalty.program.rules import RuleBook

MOVES = frozenset({"up", "down"})


class FinalRatesStore(PartnerSales, FinalRateStore, PartnerLookup, TierLookup, RuleSource, Protocol):
    """What making a month final reads and writes (a part of `CloseStore`)."""


@dataclass(frozen=True)
class Finalized:
    """What making a partner's month final did: lines re-rated, and lines skipped because they
    changed while being re-rated (a correction replaced them: the writer rated the new version
    with the committed tier already)."""

    lines: int = 0
    skipped: int = 0


def may_be_provisional(period: str, history: Sequence[CloseLine]) -> bool:
    """Can a line landing in `period` be rated at a tier that is no longer its month's? Tiers are
    set by closes: the close of P-1 sets P's tier (a sale of P uploaded before that close was
    approved was rated at the tier before), and the close of P-2 sets P-1's (a return in P of a
    sale of P-1, written before P-1's own close re-rated that sale, took its provisional rate).
    A close that held the tier changed nothing that was already written."""
    recent = set(months_back(period, 3)[:2])
    return any(h.period in recent and h.tier_change in MOVES for h in history)


class RateFinalizer:
    """Re-rates a partner's lines of a closed period (the rules are read once per instance)."""

    def __init__(self, store: FinalRatesStore) -> None:
        self.store = store
        self.rules = RuleBook(store.rule_versions())
        self._scoped = any(v.scope.cohort or v.scope.segments for v in self.rules.versions)

    def finalize(
        self,
        partner_id: str,
        period: str,
        months: Sequence[MonthTotals],
        history: Sequence[CloseLine],
        scope: PartnerContext | None = None,
    ) -> Finalized:
        """Make the partner's lines landing in `period` final; `months` are its month totals and
        `history` its committed closes, newest first. Only a partner that has lines in the period
        and whose tier moved at one of the two closes before it can hold a provisional line (see
        `may_be_provisional`); any other costs no read. `scope` is the partner's cohort and
        segment when the caller knows them (the close's batch does): the registry is not read."""
        this = next((m for m in months if m.month == period), None)
        if this is None or this.lines == 0 or not self.rules or not may_be_provisional(period, history):
            return Finalized()
        lines = [s for s in self.store.partner_sales(partner_id, period) if landing_period(s) == period]
        tiers: dict[str, str] = {}

        def tier_of(pid: str, month: str) -> str:
            if month not in tiers:
                tiers[month] = self.store.tier_for(pid, month) or ""
            return tiers[month]

        ctx = (scope if scope is not None else self._context(partner_id)) if self._scoped else None
        changed = final_lines(
            lines,
            self.rules,
            tier_of,
            ctx,
            self._originals(partner_id, lines),
            HighestRate(self.rules, tier_of, ctx).entry,
        )
        done = self.store.finalize_sales([(r.old, r.new, r.holding_day) for r in changed]) if changed else 0
        return Finalized(done, len(changed) - done)

    def _context(self, partner_id: str) -> PartnerContext | None:
        if not self._scoped:
            return None
        p = self.store.get_partner(partner_id)
        return PartnerContext(p.cohort or None, p.segment) if p else None

    def _originals(self, partner_id: str, lines: Sequence[SaleRecord]) -> dict[str, RateEntry]:
        """The stored rates of the sales that returns among `lines` reverse (outside `lines`)."""
        own = {s.sale_id for s in lines}
        wanted = {
            s.matched or s.original_sale_id
            for s in lines
            if s.quantity < 0 and s.rate_basis == ORIGINAL and (s.matched or s.original_sale_id)
        } - own
        stored = self.store.get_sales([(partner_id, o) for o in sorted(wanted)])
        return {k[1]: RateEntry(v.tier, v.rate, v.rule_version, ORIGINAL) for k, v in stored.items()}
