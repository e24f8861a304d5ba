"""A partner's points balance as statements, the CLI and the portal show it (pure)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from loyalty.points.model import ACTIVE, PENDING, Lot, PointsHead


@dataclass(frozen=True)
class Balance:
    pending: int  # earned, not spendable yet (the holding period)
    active: int  # spendable (before any debt)
    debt: int  # points owed (only when the rules allow a negative balance)
    balance: int  # pending + active - debt
    expiring_soon: int  # of pending + active, what expires within the window if not spent
    expiring_on: dt.date | None  # the first of those expiry dates
    lifetime_earned: int
    spent: int  # net of cancelled redemptions
    expired: int
    deducted: int  # taken back by returns

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["expiring_on"] = self.expiring_on.isoformat() if self.expiring_on else None
        return d


def expiring(lots: Sequence[Lot], today: dt.date, within_days: int) -> list[Lot]:
    """Pending and active lots with points left that expire on or before `today + within_days`
    (a lot due but not yet retired by a close counts), by (expires_on, lot_id)."""
    until = today + dt.timedelta(days=within_days)
    due = [
        lot
        for lot in lots
        if lot.state in (PENDING, ACTIVE) and lot.remaining > 0 and lot.expires_on <= until
    ]
    return sorted(due, key=lambda lot: (lot.expires_on, lot.lot_id))


def balance_of(head: PointsHead | None, lots: Sequence[Lot], today: dt.date, soon_days: int) -> Balance:
    h = head or PointsHead("")
    soon = expiring(lots, today, soon_days)
    return Balance(
        pending=h.pending,
        active=h.active,
        debt=h.debt,
        balance=h.balance,
        expiring_soon=sum(lot.remaining for lot in soon),
        expiring_on=soon[0].expires_on if soon else None,
        lifetime_earned=h.earned,
        spent=h.spent,
        expired=h.expired,
        deducted=h.deducted,
    )
