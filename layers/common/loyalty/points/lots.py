"""Pure arithmetic of lots: expiry dates, drawing oldest-expiry-first, the lot changes a draw
makes, and the points' ledger postings (docs/points.md)."""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
from collections.abc import Collection, Iterable
from decimal import Decimal

from loyalty.kernel.money import to_cents
from loyalty.points.model import MAX_DRAWS, Draw, Lot, LotChange, Posting


class InsufficientPoints(ValueError):
    """Fewer points in the lots of the asked states than a draw needs."""

    def __init__(self, available: int, needed: int = 0) -> None:
        super().__init__(f"insufficient points: {needed} needed, {available} available")
        self.available = available
        self.needed = needed


class TooManyDraws(ValueError):
    """A draw that would touch more than MAX_DRAWS lots (one DynamoDB transaction holds 100 items)."""


def month_end(period: str) -> dt.date:
    """The last day of a YYYY-MM period (a close's cut-off day)."""
    y, m = (int(x) for x in period.split("-"))
    return dt.date(y, m, calendar.monthrange(y, m)[1])


def add_months(period: str, months: int) -> str:
    y, m = (int(x) for x in period.split("-"))
    n = y * 12 + (m - 1) + months
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


def expiry_date(period: str, months: int) -> dt.date:
    """The last day of the `months`-th month after `period` (2026-01, 12 -> 2027-01-31)."""
    return month_end(add_months(period, months))


def order_key(lot: Lot) -> tuple[dt.date, str]:
    """Oldest expiry first; the lot id breaks ties."""
    return (lot.expires_on, lot.lot_id)


def available(lots: Iterable[Lot], states: Collection[str]) -> int:
    """Points left in the lots of those states."""
    return sum(lot.remaining for lot in lots if lot.state in states and lot.remaining > 0)


def draw(lots: Iterable[Lot], points: int, states: Collection[str]) -> tuple[Draw, ...]:
    """Take `points` from the lots of `states`, oldest expiry first (`order_key`). Raises
    InsufficientPoints when they hold fewer, TooManyDraws when more than MAX_DRAWS lots are needed."""
    if points < 0:
        raise ValueError(f"cannot draw a negative number of points ({points})")
    usable = sorted((lot for lot in lots if lot.state in states and lot.remaining > 0), key=order_key)
    have = sum(lot.remaining for lot in usable)
    if have < points:
        raise InsufficientPoints(have, points)
    out: list[Draw] = []
    left = points
    for lot in usable:
        if left == 0:
            break
        take = min(left, lot.remaining)
        out.append(Draw(lot.lot_id, take))
        left -= take
    if len(out) > MAX_DRAWS:
        raise TooManyDraws(f"{points} points would draw from {len(out)} lots; at most {MAX_DRAWS} per move")
    return tuple(out)


def apply_draws(lots: Iterable[Lot], draws: Iterable[Draw]) -> list[LotChange]:
    """The conditional lot updates of taking `draws` (draws on one lot merged into one change)."""
    by_id = {lot.lot_id: lot for lot in lots}
    taken: dict[str, int] = {}
    for d in draws:
        if d.points <= 0:
            raise ValueError(f"a draw takes a positive number of points ({d.lot_id}: {d.points})")
        if d.lot_id not in by_id:
            raise KeyError(f"draw from unknown lot {d.lot_id}")
        taken[d.lot_id] = taken.get(d.lot_id, 0) + d.points
    out = []
    for lot_id, n in taken.items():
        lot = by_id[lot_id]
        if n > lot.remaining:
            raise ValueError(f"lot {lot_id} has {lot.remaining} points left, {n} drawn")
        out.append(LotChange(lot_id, lot.remaining, lot.state, lot.remaining - n, lot.state))
    return out


def entry_id(partner_id: str, move_id: str, kind: str) -> str:
    return hashlib.sha256("|".join(("points", partner_id, move_id, kind)).encode()).hexdigest()[:24]


def posting(
    partner_id: str,
    move_id: str,
    kind: str,
    period: str,
    points: int,
    value: Decimal,
    debit: str,
    credit: str,
    memo: str,
) -> Posting | None:
    """The ledger entry of |points| valued at `value` EUR each (cents, half-even, once); None when
    it rounds to 0."""
    amount = to_cents(Decimal(abs(points)) * value)
    if amount <= 0:
        return None
    return Posting(entry_id(partner_id, move_id, kind), period, debit, credit, amount, memo[:200])
