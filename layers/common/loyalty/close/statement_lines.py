"""One line of a partner statement (a sale with how its commission was computed) and the shape
of a statement's extra sections; shared by the CSV and the rendered page."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from loyalty.earning.records import SaleRecord

Section = tuple[str, list[str], list[list[str]]]

STATEMENT_COLUMNS = [
    "sale_id",
    "sold_at",
    "sku",
    "category",
    "quantity",
    "amount",
    "currency",
    "fx_rate",
    "fx_date",
    "amount_eur",
    "tier",
    "rate_pct",
    "rule_version",
    "commission_eur",
    "basis",
]


@dataclass(frozen=True)
class StatementLine:
    sale_id: str
    sold_at: str
    sku: str
    category: str
    quantity: int
    amount: Decimal
    currency: str
    fx_rate: Decimal | None
    fx_date: str
    amount_eur: Decimal
    tier: str
    rate: Decimal
    rule_version: str
    commission: Decimal
    basis: str

    @classmethod
    def of(cls, s: SaleRecord) -> StatementLine:
        return cls(
            s.sale_id,
            s.sold_at,
            s.sku,
            s.category,
            s.quantity,
            s.net,
            s.currency,
            s.fx_rate,
            s.fx_date,
            s.net_eur,
            s.tier,
            s.rate,
            s.rule_version,
            s.commission,
            s.rate_basis,
        )

    def cells(self) -> list[str]:
        return [
            self.sale_id,
            self.sold_at,
            self.sku,
            self.category,
            str(self.quantity),
            str(self.amount),
            self.currency,
            "" if self.fx_rate is None else str(self.fx_rate),
            self.fx_date,
            str(self.amount_eur),
            self.tier,
            str((self.rate * 100).normalize()),
            self.rule_version,
            str(self.commission),
            self.basis,
        ]
