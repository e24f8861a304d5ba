"""Accrual lines and month totals as the earning context stores them."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class StoredSale:
    """What the writer needs to know about an existing accrual line."""

    partner_id: str
    sale_id: str
    version: str
    prev_version: str
    rate: Decimal
    tier: str
    rule_version: str
    month: str
    net_eur: Decimal = Decimal(0)
    commission: Decimal = Decimal(0)
    day: str = ""
    quantity: int = 0
    period: str = ""  # the period it accrued to ("" = its month)


@dataclass
class MonthDelta:
    """What one chunk changes in a partner's month totals (applied once per chunk)."""

    net_eur: Decimal = Decimal(0)
    commission: Decimal = Decimal(0)
    lines: int = 0
    returns: int = 0
    by_day: dict[int, Decimal] = field(default_factory=dict)  # day of month -> commission
    customers: set[str] = field(default_factory=set)
    late: int = 0  # lines of an already closed month that accrue to this period

    def add(
        self, day: int, net: Decimal, commission: Decimal, lines: int, returns: int, customer: str = ""
    ) -> None:
        self.net_eur += net
        self.commission += commission
        self.lines += lines
        self.returns += returns
        self.by_day[day] = self.by_day.get(day, Decimal(0)) + commission
        if customer:
            self.customers.add(customer)


@dataclass
class MonthTotals:
    partner_id: str
    month: str
    net_eur: Decimal
    commission: Decimal
    lines: int
    returns: int
    by_day: dict[int, Decimal]
    new_customers: int = 0  # distinct customers whose first sale (of this partner) is in this month


@dataclass
class SaleRecord:
    """An accrual line as stored (one per partner and sale_id)."""

    partner_id: str
    sale_id: str
    sold_at: str
    sku: str
    quantity: int
    unit_price: Decimal
    currency: str
    category: str
    customer_id: str
    original_sale_id: str
    net: Decimal
    fx_rate: Decimal | None
    fx_date: str
    net_eur: Decimal
    tier: str
    rate: Decimal
    rule_version: str
    rate_basis: str
    commission: Decimal
    version: str
    prev_version: str
    source: str  # "<upload_id>:<line>"
    status: str = "provisional"
    period: str = ""  # set when the month of sale was already closed: the period it accrued to

    @property
    def month(self) -> str:
        return self.sold_at[:7]
