"""What a commission is computed from and what it gives: the tier and FX lookups it needs, a
return's original rate, a partner's pilot scope, the :class:`Accrual` of one line (with its
human-readable trace) and :class:`RateEntry`, what a line's rate rests on."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from loyalty.ingest.sales.contract import SaleRow
from loyalty.kernel.money import HUNDRED


class TierLookup(Protocol):
    def tier_for(self, partner_id: str, month: str) -> str | None: ...


class FxLookup(Protocol):
    def rate(self, currency: str, day: dt.date) -> tuple[Decimal, dt.date] | None: ...


@dataclass(frozen=True, slots=True)
class OriginalRate:
    """What a return needs from the sale it returns."""

    rate: Decimal
    tier: str
    rule_version: str
    month: str
    day: str = ""  # sale date of the original (ISO); a return may not precede it


@dataclass(frozen=True, slots=True)
class PartnerContext:
    cohort: str | None = None
    segment: str | None = None


@dataclass(slots=True)
class Accrual:
    row: SaleRow
    net: Decimal  # in the sale's currency, exact
    fx_rate: Decimal | None  # units of sale currency per EUR; None for EUR
    fx_date: str
    net_eur: Decimal  # rounded to cents (reporting)
    tier: str
    rate: Decimal  # fraction, e.g. 0.04
    rule_version: str
    rate_basis: str  # "month" | "original-sale"
    commission: Decimal  # cents, half-even, once

    def trace(self) -> str:
        r = self.row
        parts = [f"{r.quantity} x {r.unit_price} {r.currency} = {self.net} {r.currency}"]
        if self.fx_rate is not None:
            parts.append(f"/ {self.fx_rate} {r.currency}/EUR ({self.fx_date}) = {self.net_eur} EUR")
        pct = (self.rate * HUNDRED).normalize()
        basis = (
            "rate of original sale"
            if self.rate_basis == "original-sale"
            else f"{self.tier} rate of {r.month}"
        )
        cat = f", {r.category}" if r.category else ""
        parts.append(f"x {pct:f} % ({basis}{cat}; rules {self.rule_version}) = {self.commission} EUR")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class RateEntry:
    """What a line's rate rests on; a block holds few distinct ones (dictionary-encoded)."""

    tier: str
    rate: Decimal
    rule_version: str
    basis: str  # "month" | "original-sale"


class AccrualError(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason
