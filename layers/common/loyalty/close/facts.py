"""The analytics facts of one statements batch (issue 13, docs/analytics.md): a partner-month row
for every partner of the batch (quiet ones too: activity and retention need the months without
sales) and the month's lines summed by segment, country, category and currency.

Rows are plain dicts in the columns of `loyalty.analytics.schema` (money as decimal strings, once
rounded to cents); the analytics step writes them as Parquet. Pure: the statements step passes
what it has already read (the close line, the points view, the month's sales lines).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from loyalty.analytics.schema import LINE_MONTH, PARTNER_MONTH, SCHEMA_VERSION
from loyalty.close.batches import BatchPartner
from loyalty.close.engagement import PointsView
from loyalty.close.review import CloseLine
from loyalty.close.statement_lines import StatementLine
from loyalty.kernel.money import ZERO, to_cents


def _money(value: Decimal) -> str:
    return str(to_cents(value))


def fact_state(line: CloseLine) -> str:
    """quiet (nothing new: no record committed) | excluded | paid | carried (nothing paid)."""
    if line.dormant:
        return "quiet"
    if line.state == "excluded":
        return "excluded"
    return "paid" if line.payout > 0 else "carried"


def partner_fact(
    line: CloseLine,
    partner: BatchPartner,
    view: PointsView | None,
    commission: Decimal,
    liability_per_point: Decimal,
) -> dict[str, Any]:
    """The partner's row of `partner_month` for the line's period."""
    earned = view.earned_total if view else 0
    balance = view.balance.balance if view else 0
    quiet = line.dormant
    row: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "partner_id": line.partner_id,
        "segment": line.segment or partner.segment,
        "country": partner.country,
        "cohort": line.cohort or partner.cohort,
        "joined": partner.joined,
        "rule_version": line.rule_version,
        "tier_before": line.tier_before,
        "tier_after": line.tier_after or line.tier_before,
        "tier_change": line.tier_change,
        "net_sales": _money(line.net_sales),
        "lines": line.lines,
        "returns": line.returns,
        "new_customers": line.new_customers,
        "commission": _money(commission),
        "bonuses": _money(line.bonus_eur),
        "overrides": _money(line.override_eur),
        "points_earned": earned,
        "points_spent": view.spent if view else 0,
        "points_expired": view.expired if view else 0,
        "points_balance": balance,
        "points_cost": _money(earned * liability_per_point),
        "points_liability": _money(balance * liability_per_point),
        # a quiet partner is paid nothing this close and keeps what it carried
        "payout": _money(ZERO if quiet else line.payout),
        "carried": _money(line.carried_in if quiet else line.carried_out),
        "state": fact_state(line),
    }
    return row


@dataclass
class _LineSum:
    partners: set[str] = field(default_factory=set)
    lines: int = 0
    returns: int = 0
    net_amount: Decimal = ZERO
    net_sales: Decimal = ZERO
    commission: Decimal = ZERO


@dataclass
class FactsBatch:
    """The facts of one batch, built partner by partner."""

    partners: list[dict[str, Any]] = field(default_factory=list)
    sums: dict[tuple[str, str, str, str], _LineSum] = field(default_factory=dict)

    @classmethod
    def of_batch(
        cls,
        partners: Iterable[BatchPartner],
        lines: Mapping[str, CloseLine],
        seen: Mapping[str, tuple[PointsView | None, Sequence[StatementLine]]],
        liability_per_point: Callable[[str], Decimal],
    ) -> FactsBatch:
        """The facts of a statements batch: each partner's line (committed, else as reviewed),
        with the points view and month lines its statement read (`seen`; none for a partner with
        no statement) and the liability EUR per point of its rule version."""
        facts = cls()
        for p in partners:
            if p.partner_id in lines:
                line = lines[p.partner_id]
                view, rows = seen.get(p.partner_id, (None, []))
                facts.add(line, p, view, rows, liability_per_point(line.rule_version))
        return facts

    def add(
        self,
        line: CloseLine,
        partner: BatchPartner,
        view: PointsView | None,
        sales: Iterable[StatementLine],
        liability_per_point: Decimal,
    ) -> None:
        commission = ZERO
        segment = line.segment or partner.segment
        for s in sales:
            commission += s.commission
            key = (segment, partner.country, s.category, s.currency)
            agg = self.sums.setdefault(key, _LineSum())
            agg.partners.add(line.partner_id)
            agg.lines += 1
            agg.returns += s.quantity < 0 or s.amount < 0
            agg.net_amount += s.amount
            agg.net_sales += s.amount_eur
            agg.commission += s.commission
        self.partners.append(partner_fact(line, partner, view, commission, liability_per_point))

    def line_rows(self) -> list[dict[str, Any]]:
        rows = []
        for (segment, country, category, currency), agg in sorted(self.sums.items()):
            row: dict[str, Any] = {
                "schema_version": SCHEMA_VERSION,
                "segment": segment,
                "country": country,
                "category": category,
                "currency": currency,
                "partners": len(agg.partners),
                "lines": agg.lines,
                "returns": agg.returns,
                "net_amount": _money(agg.net_amount),
                "net_sales": _money(agg.net_sales),
                "commission": _money(agg.commission),
            }
            rows.append(row)
        return rows

    def to_json(self) -> dict[str, Any]:
        return {PARTNER_MONTH.name: self.partners, LINE_MONTH.name: self.line_rows()}
