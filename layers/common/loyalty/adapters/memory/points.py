"""In-memory adapter of the points ports (same results as `adapters.dynamo.points`, held by
tests/contract/test_points_store.py). A commit checks every condition first, under a lock, then
writes: all or nothing, like a DynamoDB transaction."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from typing import Any

from loyalty.adapters.memory.tables import MemoryTables
from loyalty.kernel.ports import Cipher
from loyalty.points.model import (
    Lot,
    Move,
    PointsHead,
    PointsTx,
    Posting,
    Redemption,
    Reward,
)


class StoreLock:
    """The store's lock. A copy of the store (simulations and tests deep-copy its tables) gets a
    lock of its own, and its repr does not depend on the instance."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def __enter__(self) -> None:
        self._lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self._lock.release()

    def __deepcopy__(self, memo: dict[int, Any]) -> StoreLock:
        return StoreLock()

    def __repr__(self) -> str:
        return "StoreLock()"


class MemoryPoints(MemoryTables):
    def __init__(self, cipher: Cipher | None = None) -> None:
        super().__init__(cipher)
        self._points_lock = StoreLock()
        self.point_heads: dict[str, PointsHead] = {}
        self.point_lots: dict[tuple[str, str], Lot] = {}
        self.point_moves: dict[tuple[str, str], Move] = {}
        self.point_courses: set[tuple[str, str, str]] = set()
        self.point_postings_: dict[tuple[str, str, str], Posting] = {}  # (partner, period, id)
        self.point_redemptions: dict[tuple[str, str], Redemption] = {}
        self.reward_items: dict[str, Reward] = {}
        self.limit_counts: dict[tuple[str, str, str], int] = {}  # (partner, reward, period)

    # -- reads ------------------------------------------------------------------------------
    def points_head(self, partner_id: str) -> PointsHead | None:
        return self.point_heads.get(partner_id)

    def points_heads(self, partner_ids: Sequence[str]) -> dict[str, PointsHead]:
        return {p: self.point_heads[p] for p in dict.fromkeys(partner_ids) if p in self.point_heads}

    def lots(self, partner_id: str) -> list[Lot]:
        with self._points_lock:  # a commit in another thread must not change the dict under the loop
            got = [lot for (p, _), lot in self.point_lots.items() if p == partner_id]
        return sorted(got, key=lambda lot: (lot.expires_on, lot.lot_id))

    def moves(self, partner_id: str, period: str | None = None) -> list[Move]:
        with self._points_lock:
            got = [
                m
                for (p, _), m in self.point_moves.items()
                if p == partner_id and (period is None or m.period == period)
            ]
        return sorted(got, key=lambda m: (m.period, m.at, m.move_id))

    def has_move(self, partner_id: str, move_id: str) -> bool:
        return (partner_id, move_id) in self.point_moves

    def awarded_courses(self, partner_id: str) -> set[tuple[str, str]]:
        with self._points_lock:
            return {(person, course) for p, person, course in self.point_courses if p == partner_id}

    def points_postings(self, partner_id: str | None = None, period: str | None = None) -> list[Posting]:
        if partner_id is None and period is None:
            raise ValueError("points_postings needs a partner or a period")
        with self._points_lock:
            items = sorted(self.point_postings_.items())
        return [
            e
            for (p, per, _), e in items
            if (partner_id is None or p == partner_id) and (period is None or per == period)
        ]

    def redemption(self, partner_id: str, request_id: str) -> Redemption | None:
        return self.point_redemptions.get((partner_id, request_id))

    def redemptions(self, period: str) -> list[Redemption]:
        with self._points_lock:
            items = sorted(self.point_redemptions.items())
        return [r for _, r in items if r.period == period]

    def partner_redemptions(self, partner_id: str) -> list[Redemption]:
        with self._points_lock:
            items = sorted(self.point_redemptions.items())
        return [r for (p, _), r in items if p == partner_id]

    def limit_used(self, partner_id: str, reward_id: str, period: str) -> int:
        return self.limit_counts.get((partner_id, reward_id, period), 0)

    # -- catalog ----------------------------------------------------------------------------
    def put_reward(self, reward: Reward) -> bool:
        with self._points_lock:
            cur = self.reward_items.get(reward.reward_id)
            new = dataclasses.replace(reward, taken=cur.taken if cur else 0)
            if cur == new:
                return False
            self.reward_items[reward.reward_id] = new
            return True

    def rewards(self) -> list[Reward]:
        with self._points_lock:
            return [self.reward_items[k] for k in sorted(self.reward_items)]

    def reward(self, reward_id: str) -> Reward | None:
        return self.reward_items.get(reward_id)

    # -- the one write ----------------------------------------------------------------------
    def commit_points(self, tx: PointsTx) -> bool:
        with self._points_lock:
            if not self._holds(tx):
                return False
            self._write(tx)
            return True

    def _holds(self, tx: PointsTx) -> bool:  # noqa: PLR0911 - one check per condition
        pid = tx.partner_id
        head = self.point_heads.get(pid)
        if (head.rev if head else 0) != tx.expect_rev or tx.head.rev != tx.expect_rev + 1:
            return False
        if any((pid, m.move_id) in self.point_moves for m in tx.moves):
            return False
        if any((pid, person, course) in self.point_courses for person, course in tx.courses):
            return False
        if any((pid, lot.lot_id) in self.point_lots for lot in tx.new_lots):
            return False
        for ch in tx.lot_changes:
            cur = self.point_lots.get((pid, ch.lot_id))
            if cur is None or cur.remaining != ch.expect_remaining or cur.state != ch.expect_state:
                return False
        if tx.redemption is not None:
            stored = self.point_redemptions.get((pid, tx.redemption.request_id))
            if (stored.state if stored else None) != tx.redemption_expect_state:
                return False
        if tx.stock is not None:
            s = tx.stock
            reward = self.reward_items.get(s.reward_id)
            if reward is None:
                return False
            taken = reward.taken + s.units
            if taken < 0 or (s.stock is not None and taken > s.stock):
                return False
            used = self.limit_counts.get((pid, s.reward_id, s.period), 0) + s.units
            if used < 0 or (s.limit is not None and used > s.limit):
                return False
        return all((pid, p.period, p.entry_id) not in self.point_postings_ for p in tx.postings)

    def _write(self, tx: PointsTx) -> None:
        pid = tx.partner_id
        self.point_heads[pid] = tx.head
        for lot in tx.new_lots:
            self.point_lots[(pid, lot.lot_id)] = lot
        for ch in tx.lot_changes:
            self.point_lots[(pid, ch.lot_id)] = self.point_lots[(pid, ch.lot_id)].with_(
                ch.remaining, ch.state
            )
        for m in tx.moves:
            self.point_moves[(pid, m.move_id)] = m
        for person, course in tx.courses:
            self.point_courses.add((pid, person, course))
        for p in tx.postings:
            self.point_postings_[(pid, p.period, p.entry_id)] = p
        if tx.redemption is not None:
            self.point_redemptions[(pid, tx.redemption.request_id)] = tx.redemption
        if tx.stock is not None:
            s = tx.stock
            reward = self.reward_items[s.reward_id]
            self.reward_items[s.reward_id] = dataclasses.replace(reward, taken=reward.taken + s.units)
            key = (pid, s.reward_id, s.period)
            self.limit_counts[key] = self.limit_counts.get(key, 0) + s.units
