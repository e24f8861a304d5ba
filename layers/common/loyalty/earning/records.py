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
    anchor: str = ""  # a return's holding day: its original's landing day (ISO; "" = its own)
    status: str = "provisional"  # "final" once its month's close fixed its rate
    category: str = ""  # taken out of the month's per-category totals when the line is replaced


@dataclass(frozen=True)
class SaleRef:
    """An earlier sale a return may reverse: what the return needs of it (issue 9, point 14)."""

    partner_id: str
    sale_id: str
    sold_at: str
    sku: str
    quantity: int
    tier: str
    rate: Decimal
    rule_version: str
    holding_day: str  # ISO day its commission sits on (its landing day)


def holding_day(period: str, sold_at: str) -> str:
    """A sale's landing day: its own day, or the first day of the later period it accrued to."""
    return f"{period}-01" if period else sold_at[:10]


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
    units: int = 0  # sum of quantities (returns negative)
    by_category: dict[str, tuple[Decimal, int]] = field(default_factory=dict)  # (net EUR, units)
    # lines sold in an earlier (closed) month that land in this period: sold month -> (net EUR,
    # units), and "<sold month>/<category>" -> the same per category (target bonuses attribute
    # them to the month they were sold in)
    late_sold: dict[str, tuple[Decimal, int]] = field(default_factory=dict)

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

    def add_sales(self, net: Decimal, units: int, category: str, sold_month: str = "") -> None:
        """A line's sales figures: units, its category's, and, when it was sold in an earlier
        month than the one it lands in (`sold_month`), the late attribution."""
        self.units += units
        key = category or UNCATEGORISED
        add_pair(self.by_category, key, net, units)
        if sold_month:
            add_pair(self.late_sold, sold_month, net, units)
            add_pair(self.late_sold, f"{sold_month}/{key}", net, units)


UNCATEGORISED = "-"  # the per-category key of lines without a category
MAX_CATEGORIES = 64  # named categories per month item; further ones are counted under OTHER
OTHER = "other"


def add_pair(d: dict[str, tuple[Decimal, int]], key: str, net: Decimal, units: int) -> None:
    n, u = d.get(key, (Decimal(0), 0))
    d[key] = (n + net, u + units)


def bounded_categories(
    delta: dict[str, tuple[Decimal, int]], known: set[str] | frozenset[str], limit: int = MAX_CATEGORIES
) -> dict[str, tuple[Decimal, int]]:
    """A delta's categories folded so the month item never holds more than `limit` named ones
    (besides OTHER): the ones it knows stay, new ones are admitted in name order while there is
    room, the rest go to OTHER."""
    room = limit - len(known - {OTHER})
    out: dict[str, tuple[Decimal, int]] = {}
    for cat in sorted(delta):
        net, units = delta[cat]
        if cat in known or cat == OTHER:
            add_pair(out, cat, net, units)
        elif room > 0:
            room -= 1
            add_pair(out, cat, net, units)
        else:
            add_pair(out, OTHER, net, units)
    return out


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
    units: int = 0  # sum of quantities of the lines counted in this month (returns negative)
    by_category: dict[str, tuple[Decimal, int]] = field(default_factory=dict)  # (net EUR, units)
    # of the lines counted in this month, those sold in an earlier, closed month: sold month ->
    # (net EUR, units), and "<sold month>/<category>" -> the same per category
    late: dict[str, tuple[Decimal, int]] = field(default_factory=dict)


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
    # a return's holding day: the landing day (ISO) of the sale it returns, so the two mature
    # together ("" = its own landing day)
    anchor: str = ""
    matched: str = ""  # a return without `original_sale_id`: the earlier sale it was matched to

    @property
    def month(self) -> str:
        return self.sold_at[:7]

    def trace(self) -> str:
        """How the line's commission was computed, naming the tier, rate and rule version it
        stands at (the final ones once its month is closed)."""
        parts = [f"{self.quantity} x {self.unit_price} {self.currency} = {self.net} {self.currency}"]
        if self.fx_rate is not None:
            parts.append(f"/ {self.fx_rate} {self.currency}/EUR ({self.fx_date}) = {self.net_eur} EUR")
        pct = (self.rate * 100).normalize()
        basis = basis_text(self.rate_basis, self.tier, self.month, self.matched or self.original_sale_id)
        cat = f", {self.category}" if self.category else ""
        parts.append(f"x {pct:f} % ({basis}{cat}; rules {self.rule_version}) = {self.commission} EUR")
        if self.anchor:
            parts.append(f"[holds with its sale from {self.anchor}]")
        return " ".join(parts) + f" ({self.status})"


def basis_text(basis: str, tier: str, month: str, original: str = "") -> str:
    """What a rate rests on, in words."""
    if basis == "original-sale":
        return f"{tier} rate of original sale {original}".replace("  ", " ").rstrip()
    if basis == "highest-rate":
        return f"highest rate held: {tier}, no original sale found"
    return f"{tier} rate of {month}"


def sale_ref(r: SaleRecord) -> SaleRef:
    """What a return needs of a stored sale line (both stores' `earlier_sales`)."""
    return SaleRef(
        r.partner_id,
        r.sale_id,
        r.sold_at,
        r.sku,
        r.quantity,
        r.tier,
        r.rate,
        r.rule_version,
        holding_day(r.period, r.sold_at),
    )
