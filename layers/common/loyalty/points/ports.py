"""Ports of the points context. Each has two adapters held together by
`tests/contract/test_points_store.py`: DynamoDB (`loyalty.adapters.dynamo.points`) and in memory
(`loyalty.adapters.memory.points`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from loyalty.points.model import Lot, Move, PointsHead, PointsTx, Posting, Redemption, Reward


class PointsReader(Protocol):
    def points_head(self, partner_id: str) -> PointsHead | None: ...
    def points_heads(self, partner_ids: Sequence[str]) -> dict[str, PointsHead]:
        """The heads of those partners that have one (one batched read)."""
        ...

    def lots(self, partner_id: str) -> list[Lot]:
        """Every lot of the partner (any state), ordered by (expires_on, lot_id)."""
        ...

    def moves(self, partner_id: str, period: str | None = None) -> list[Move]:
        """The partner's moves (of one period), ordered by (period, at, move_id)."""
        ...

    def has_move(self, partner_id: str, move_id: str) -> bool: ...
    def awarded_courses(self, partner_id: str) -> set[tuple[str, str]]:
        """(person_id, course) pairs whose course points were awarded already."""
        ...

    def points_postings(self, partner_id: str | None = None, period: str | None = None) -> list[Posting]:
        """The points' ledger entries of a partner or of a period (one of the two)."""
        ...


class PointsWriter(Protocol):
    def commit_points(self, tx: PointsTx) -> bool:
        """Apply the whole transaction or nothing; False when one of its conditions fails."""
        ...


class RedemptionBook(Protocol):
    def redemption(self, partner_id: str, request_id: str) -> Redemption | None: ...
    def redemptions(self, period: str) -> list[Redemption]:
        """Every redemption requested in a period (the fulfilment list), by (partner, request)."""
        ...

    def partner_redemptions(self, partner_id: str) -> list[Redemption]: ...
    def limit_used(self, partner_id: str, reward_id: str, period: str) -> int:
        """Units of a reward the partner holds (not cancelled) from redemptions of a period."""
        ...


class Catalog(Protocol):
    def put_reward(self, reward: Reward) -> bool:
        """Create or update a reward's definition (its `taken` count is kept); False when the
        stored definition is the same already."""
        ...

    def rewards(self) -> list[Reward]:
        """Every reward (with its `taken`), ordered by id."""
        ...

    def reward(self, reward_id: str) -> Reward | None: ...


class PointsStore(PointsReader, PointsWriter, RedemptionBook, Catalog, Protocol):
    """Everything of the points context (one DynamoDB table)."""
