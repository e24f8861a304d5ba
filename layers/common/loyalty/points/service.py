"""Applying closes and bonuses to partners' points: read, plan (pure), commit on the revision read;
a concurrent change makes the commit fail and the plan is made again on fresh state."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from loyalty.points.close import CloseIntent, plan_bonus, plan_close
from loyalty.points.model import Move, PointsHead
from loyalty.points.ports import PointsReader, PointsWriter

ATTEMPTS = 8


class Unknown:
    """Not read yet (a head may be None: the partner has no points)."""


UNKNOWN = Unknown()


class PointsRW(PointsReader, PointsWriter, Protocol):
    """What the ledger needs of a store."""


class ConcurrentChanges(RuntimeError):
    """The partner's points kept changing under every attempt (ATTEMPTS of them)."""


class PointsLedger:
    def __init__(self, store: PointsRW) -> None:
        self.store = store

    def apply_close(
        self, intent: CloseIntent, now_iso: str, head: PointsHead | Unknown | None = UNKNOWN
    ) -> bool:
        """Apply the close's points once: True if this call changed anything (False when the
        close was applied already, `close:<P>` present, or changes nothing).

        Reads only what the plan needs: a partner without a head has no lots, moves or courses
        (its first commit creates the head); the courses awarded are read only when the intent
        has courses. `head` is the partner's head if the caller read it already (a batched read);
        a commit that fails re-reads everything."""
        pid, marker = intent.partner_id, f"close:{intent.period}"
        for attempt in range(ATTEMPTS):
            if attempt or isinstance(head, Unknown):
                head = self.store.points_head(pid)
            if head is not None and self.store.has_move(pid, marker):
                return False
            lots = self.store.lots(pid) if head is not None else []
            awarded = self.store.awarded_courses(pid) if head is not None and intent.courses else set()
            tx = plan_close(intent, head, lots, awarded, now_iso)
            if tx is None:
                return False
            if self.store.commit_points(tx):
                return True
        raise ConcurrentChanges(f"points of {pid} for {intent.period}: {ATTEMPTS} attempts conflicted")

    def award_bonus(
        self,
        partner_id: str,
        lot_id: str,
        points: int,
        ref: str,
        period: str,
        rule_version: str,
        liability_eur_per_point: Decimal,
        now_iso: str,
        expiry_months: int = 12,
    ) -> bool:
        """A bonus lot once (idempotent by `lot_id`): True if this call awarded it."""
        for _ in range(ATTEMPTS):
            if self.store.has_move(partner_id, f"bonus:{lot_id}"):
                return False
            tx = plan_bonus(
                partner_id,
                lot_id,
                points,
                ref,
                period,
                rule_version,
                liability_eur_per_point,
                self.store.points_head(partner_id),
                now_iso,
                expiry_months,
            )
            if self.store.commit_points(tx):
                return True
        raise ConcurrentChanges(f"bonus {lot_id} of {partner_id}: {ATTEMPTS} attempts conflicted")

    def moves(self, partner_id: str, period: str | None = None) -> list[Move]:
        return self.store.moves(partner_id, period)
