"""Month-to-date figures from the month totals (one Query a partner).

What of the commission is provisional, held, payable, paid or carried depends on the closes and
the ledger: `loyalty.close.position` answers that (the `loyalty balance` command shows both)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from loyalty.earning.ports import BalanceStore
from loyalty.kernel.money import ZERO
from loyalty.program.rules import RuleBook


@dataclass
class Balance:
    partner_id: str
    month: str
    tier: str
    net_sales_eur: Decimal
    commission: Decimal  # the month's commission, whatever its state
    lines: int
    returns: int

    def to_json(self) -> dict[str, Any]:
        return {
            "partner_id": self.partner_id,
            "month": self.month,
            "tier": self.tier,
            "net_sales_eur": str(self.net_sales_eur),
            "month_commission_eur": str(self.commission),
            "lines": self.lines,
            "returns": self.returns,
        }


class BalanceService:
    """Month-to-date figures from the month totals the writer maintains (one Query a partner)."""

    def __init__(self, store: BalanceStore) -> None:
        self.store = store

    def balance(self, partner_id: str, month: str) -> Balance:
        return self.balances(partner_id, [month])[month]

    def balances(self, partner_id: str, months: Sequence[str]) -> dict[str, Balance]:
        rules = RuleBook(self.store.rule_versions())
        totals = {t.month: t for t in self.store.month_totals(partner_id)}
        # pilots: the partner's version (its cohort's or segment's) gives its entry tier
        p = self.store.get_partner(partner_id) if rules.scoped else None
        cohort, segment = (p.cohort, p.segment) if p else (None, None)
        out = {}
        for month in months:
            first = dt.date.fromisoformat(month + "-01")
            try:
                version = rules.in_effect(first, cohort, segment) if rules else None
            except LookupError:  # a month before any rules (for this partner)
                version = None
            tier = self.store.tier_for(partner_id, month) or (version.entry_tier if version else "")
            t = totals.get(month)
            out[month] = Balance(
                partner_id,
                month,
                tier,
                t.net_eur if t else ZERO,
                t.commission if t else ZERO,
                t.lines if t else 0,
                t.returns if t else 0,
            )
        return out
