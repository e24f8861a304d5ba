"""Month-to-date balances from the month totals (one Query a partner)."""

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
    commission: dict[str, Decimal]
    lines: int
    returns: int

    def to_json(self) -> dict[str, Any]:
        return {
            "partner_id": self.partner_id,
            "month": self.month,
            "tier": self.tier,
            "net_sales_eur": str(self.net_sales_eur),
            "commission_eur": {k: str(v) for k, v in self.commission.items()},
            "lines": self.lines,
            "returns": self.returns,
        }


class BalanceService:
    """Month-to-date figures from the month totals the writer maintains (one Query a partner)."""

    def __init__(self, store: BalanceStore) -> None:
        self.store = store

    def balance(self, partner_id: str, month: str, today: dt.date) -> Balance:
        return self.balances(partner_id, [month], today)[month]

    def balances(self, partner_id: str, months: Sequence[str], today: dt.date) -> dict[str, Balance]:
        rules = RuleBook(self.store.rule_versions())
        totals = {t.month: t for t in self.store.month_totals(partner_id)}
        out = {}
        for month in months:
            first = dt.date.fromisoformat(month + "-01")
            version = rules.in_effect(first) if rules and first >= rules.versions[0].effective_from else None
            tier = self.store.tier_for(partner_id, month) or (version.entry_tier if version else "")
            holding = dt.timedelta(days=version.holding_days if version else 30)
            t = totals.get(month)
            by_status = {"provisional": ZERO, "payable": ZERO, "paid": ZERO}
            if t is not None:
                for day, amount in t.by_day.items():
                    key = "payable" if first.replace(day=day) + holding <= today else "provisional"
                    by_status[key] += amount
            out[month] = Balance(
                partner_id,
                month,
                tier,
                t.net_eur if t else ZERO,
                by_status,
                t.lines if t else 0,
                t.returns if t else 0,
            )
        return out
