"""A points plan being built (shared by the close and bonus planners): the lots as they will be,
the head's counters, the moves and postings; and the size of a transaction."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from loyalty.points.lots import available, draw, posting
from loyalty.points.model import (
    ACTIVE,
    DEDUCT,
    PENDING,
    Draw,
    Lot,
    LotChange,
    Move,
    PointsHead,
    PointsTx,
    Posting,
)

MAX_ITEMS = 100  # one DynamoDB transaction
REF_MAX = 200


class PlanTooLarge(ValueError):
    """A plan whose transaction would exceed MAX_ITEMS items."""


def tx_items(tx: PointsTx) -> int:
    """Items the DynamoDB adapter writes for the transaction (a move is its item + its id marker)."""
    return (
        1
        + len(tx.new_lots)
        + len(tx.lot_changes)
        + 2 * len(tx.moves)
        + len(tx.postings)
        + len(tx.courses)
        + (1 if tx.redemption is not None else 0)
        + (2 if tx.stock is not None else 0)
    )


class Work:
    """A plan being built: the lots as they will be, the head counters, moves and postings."""

    def __init__(self, partner_id: str, head: PointsHead | None, lots: list[Lot], value: Decimal) -> None:
        self.pid = partner_id
        self.head = head or PointsHead(partner_id)
        self.h = dataclasses.asdict(self.head)
        self.orig = {lot.lot_id: lot for lot in lots}
        self.cur = dict(self.orig)
        self.new: list[str] = []
        self.moves: list[Move] = []
        self.postings: list[Posting] = []
        self.value = value

    def add_lot(self, lot: Lot) -> None:
        if lot.lot_id in self.cur:
            raise ValueError(f"lot {lot.lot_id} exists already")
        self.cur[lot.lot_id] = lot
        self.new.append(lot.lot_id)
        self.h["earned"] += lot.points
        self.h["pending" if lot.state == PENDING else "active"] += lot.points

    def take(self, draws: tuple[Draw, ...]) -> None:
        for d in draws:
            lot = self.cur[d.lot_id]
            self.cur[d.lot_id] = lot.with_(lot.remaining - d.points)
            self.h["pending" if lot.state == PENDING else "active"] -= d.points

    def move(
        self,
        move_id: str,
        period: str,
        kind: str,
        points: int,
        at: str,
        memo: str,
        draws: tuple[Draw, ...] = (),
    ) -> None:
        self.moves.append(Move(move_id, self.pid, period, kind, points, at, memo[:REF_MAX], draws, ""))

    def post(
        self, move_id: str, kind: str, period: str, points: int, debit: str, credit: str, memo: str
    ) -> None:
        p = posting(self.pid, move_id, kind, period, points, self.value, debit, credit, memo)
        if p is not None:
            self.postings.append(p)

    def lot_changes(self) -> tuple[LotChange, ...]:
        out = []
        for lot_id, o in self.orig.items():
            c = self.cur[lot_id]
            if (c.remaining, c.state) != (o.remaining, o.state):
                out.append(LotChange(lot_id, o.remaining, o.state, c.remaining, c.state))
        return tuple(out)

    def tx(self, courses: tuple[tuple[str, str], ...] = ()) -> PointsTx:
        head = PointsHead(**{**self.h, "rev": self.head.rev + 1})
        return PointsTx(
            partner_id=self.pid,
            expect_rev=self.head.rev,
            head=head,
            new_lots=tuple(self.cur[i] for i in self.new),
            lot_changes=self.lot_changes(),
            moves=tuple(self.moves),
            postings=tuple(self.postings),
            courses=courses,
        )

    def repay_debt(self, move_id: str, period: str, at: str) -> None:
        """A debt is repaid first from the lots just created (a deduct move, points 0: the
        balance does not change, the debt and the lots shrink together)."""
        debt = self.h["debt"]
        new_lots = [self.cur[i] for i in self.new]
        n = min(debt, available(new_lots, (PENDING, ACTIVE)))
        if n <= 0:
            return
        draws = draw(new_lots, n, (PENDING, ACTIVE))
        self.take(draws)
        self.h["debt"] -= n
        self.move(move_id, period, DEDUCT, 0, at, f"{n} points repay the debt ({debt - n} left)", draws)
        self.moves[-1] = dataclasses.replace(self.moves[-1], ref="debt")
