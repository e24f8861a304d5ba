"""The points context's records: lots, moves, the per-partner head, redemptions, rewards and the
one atomic write (`PointsTx`) every change of a partner's points goes through.

Points are integers. A partner's points change only by committing a `PointsTx` computed on the
head revision it read (`expect_rev`): a concurrent change (a close, a redemption, a refund) makes
the commit fail and the caller re-reads and re-plans (optimistic concurrency). Every move has a
deterministic id from business identities, so a re-run finds its move and changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

# lot sources
MONTH, COURSE, BONUS, ADJUSTMENT, REFUND = "month", "course", "bonus", "adjustment", "refund"
SOURCES = (MONTH, COURSE, BONUS, ADJUSTMENT, REFUND)

# lot states: pending -> active -> expired / cancelled (a lot spent to 0 stays active)
PENDING, ACTIVE, EXPIRED, CANCELLED = "pending", "active", "expired", "cancelled"
LOT_STATES = (PENDING, ACTIVE, EXPIRED, CANCELLED)

# move kinds (a move's `points` is its signed effect on the balance)
EARN, ACTIVATE, EXPIRE, DEDUCT, SHORTFALL, SPEND, RECREDIT = (
    "earn",
    "activate",
    "expire",
    "deduct",
    "shortfall",
    "spend",
    "recredit",
)
FULFIL = "fulfil"  # a redemption delivered (0 points: the ledger moves its value out of rewards due)
MOVE_KINDS = (EARN, ACTIVATE, EXPIRE, DEDUCT, SHORTFALL, SPEND, RECREDIT, FULFIL)

# redemption states: pending -> fulfilled / cancelled
R_PENDING, R_FULFILLED, R_CANCELLED = "pending", "fulfilled", "cancelled"

MAX_DRAWS = 80  # lots one move may draw from (a DynamoDB transaction holds at most 100 items)

# ledger accounts of points (valued at rules.points.liability_eur_per_point)
POINTS_EXPENSE = "expense:points"
POINTS_BREAKAGE = "income:points-breakage"
REWARDS_DUE = "liability:rewards"
REWARDS_DELIVERED = "expense:rewards-delivered"


def points_account(partner_id: str) -> str:
    return f"liability:points:{partner_id}"


@dataclass(frozen=True)
class Lot:
    """Points earned together: `remaining` of `points` are left to spend (0..points)."""

    lot_id: str  # deterministic, e.g. "month:2026-03", "course:2026-03", "bonus:potm:2026-03"
    partner_id: str
    source: str  # one of SOURCES
    ref: str  # what earned it, human-readable ("net EUR 12 345.00 x 1.5 / 10", "P7/CERT-SALES")
    period: str  # the close period (or month) it was earned in, YYYY-MM
    rule_version: str
    points: int
    remaining: int
    state: str  # one of LOT_STATES
    earned_on: dt.date
    activates_on: dt.date  # becomes active at the first close whose cut-off is on/after this
    expires_on: dt.date  # what is left expires at the first close whose cut-off is on/after this

    def to_json(self) -> dict[str, Any]:
        return {
            "lot_id": self.lot_id,
            "partner_id": self.partner_id,
            "source": self.source,
            "ref": self.ref,
            "period": self.period,
            "rule_version": self.rule_version,
            "points": self.points,
            "remaining": self.remaining,
            "state": self.state,
            "earned_on": self.earned_on.isoformat(),
            "activates_on": self.activates_on.isoformat(),
            "expires_on": self.expires_on.isoformat(),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Lot:
        return cls(
            lot_id=str(d["lot_id"]),
            partner_id=str(d["partner_id"]),
            source=str(d["source"]),
            ref=str(d["ref"]),
            period=str(d["period"]),
            rule_version=str(d["rule_version"]),
            points=int(d["points"]),
            remaining=int(d["remaining"]),
            state=str(d["state"]),
            earned_on=dt.date.fromisoformat(d["earned_on"]),
            activates_on=dt.date.fromisoformat(d["activates_on"]),
            expires_on=dt.date.fromisoformat(d["expires_on"]),
        )

    def with_(self, remaining: int, state: str | None = None) -> Lot:
        return replace(self, remaining=remaining, state=state or self.state)


@dataclass(frozen=True)
class Draw:
    lot_id: str
    points: int  # > 0

    def to_json(self) -> list[Any]:
        return [self.lot_id, self.points]


@dataclass(frozen=True)
class Move:
    """One recorded change of a partner's points (append-only)."""

    move_id: str  # deterministic: "close:2026-03:earn", "redeem:R1", "redeem:R1:cancel", ...
    partner_id: str
    period: str  # the month it belongs to (the close period, or the redemption's month)
    kind: str  # one of MOVE_KINDS
    points: int  # signed effect on the balance (earn +, spend/expire/deduct -, recredit +)
    at: str  # ISO timestamp
    memo: str
    draws: tuple[Draw, ...] = ()  # the lots it drew from or re-credited (exact expiry/refunds)
    ref: str = ""  # the lot id, request id or source it concerns

    def to_json(self) -> dict[str, Any]:
        return {
            "move_id": self.move_id,
            "partner_id": self.partner_id,
            "period": self.period,
            "kind": self.kind,
            "points": self.points,
            "at": self.at,
            "memo": self.memo,
            "draws": [d.to_json() for d in self.draws],
            "ref": self.ref,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Move:
        return cls(
            move_id=str(d["move_id"]),
            partner_id=str(d["partner_id"]),
            period=str(d["period"]),
            kind=str(d["kind"]),
            points=int(d["points"]),
            at=str(d["at"]),
            memo=str(d["memo"]),
            draws=tuple(Draw(str(x[0]), int(x[1])) for x in d.get("draws", [])),
            ref=str(d.get("ref", "")),
        )


@dataclass(frozen=True)
class PointsHead:
    """A partner's points counters; `rev` grows by one with every committed change.

    Invariant: pending + active - debt == earned - spent - expired - deducted (spent is net of
    re-credits); debt > 0 only when the rules allow a negative balance."""

    partner_id: str
    rev: int = 0
    pending: int = 0
    active: int = 0
    debt: int = 0
    earned: int = 0  # lifetime earned
    spent: int = 0
    expired: int = 0
    deducted: int = 0

    @property
    def balance(self) -> int:
        return self.pending + self.active - self.debt

    def to_json(self) -> dict[str, Any]:
        return {
            "partner_id": self.partner_id,
            "rev": self.rev,
            "pending": self.pending,
            "active": self.active,
            "debt": self.debt,
            "earned": self.earned,
            "spent": self.spent,
            "expired": self.expired,
            "deducted": self.deducted,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> PointsHead:
        counts = {k: int(d.get(k, 0)) for k in ("rev", "pending", "active", "debt", "earned", "spent")}
        return cls(
            str(d["partner_id"]),
            expired=int(d.get("expired", 0)),
            deducted=int(d.get("deducted", 0)),
            **counts,
        )


@dataclass(frozen=True)
class Posting:
    """A ledger entry of points value (EUR, cents, > 0); stored like the close's ledger entries
    (`loyalty.close.ledger.Entry`) so the trial balance of a period includes it."""

    entry_id: str
    period: str
    debit: str
    credit: str
    amount: Decimal
    memo: str
    reverses: str = ""


@dataclass(frozen=True)
class Reward:
    """A catalog entry. `stock` None = unlimited; `taken` = units redeemed and not cancelled."""

    reward_id: str
    name: str
    description: str
    points: int
    stock: int | None
    limit_per_period: int | None  # per partner per calendar month; None = no limit
    valid_from: dt.date | None
    valid_to: dt.date | None
    min_tier: str | None
    fmv_eur: Decimal  # fair-market value (tax reporting)
    catalog_version: str = ""
    taken: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "reward_id": self.reward_id,
            "name": self.name,
            "description": self.description,
            "points": self.points,
            "stock": self.stock,
            "limit_per_period": self.limit_per_period,
            "valid_from": self.valid_from.isoformat() if self.valid_from else None,
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "min_tier": self.min_tier,
            "fmv_eur": str(self.fmv_eur),
            "catalog_version": self.catalog_version,
            "taken": self.taken,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Reward:
        def day(v: Any) -> dt.date | None:
            return dt.date.fromisoformat(v) if v else None

        return cls(
            reward_id=str(d["reward_id"]),
            name=str(d["name"]),
            description=str(d.get("description", "")),
            points=int(d["points"]),
            stock=None if d.get("stock") is None else int(d["stock"]),
            limit_per_period=None if d.get("limit_per_period") is None else int(d["limit_per_period"]),
            valid_from=day(d.get("valid_from")),
            valid_to=day(d.get("valid_to")),
            min_tier=d.get("min_tier") or None,
            fmv_eur=Decimal(str(d.get("fmv_eur", "0"))),
            catalog_version=str(d.get("catalog_version", "")),
            taken=int(d.get("taken", 0)),
        )


@dataclass(frozen=True)
class Redemption:
    request_id: str  # the caller's idempotency key (unique per partner)
    partner_id: str
    reward_id: str
    reward_name: str
    points: int
    fmv_eur: Decimal
    state: str  # R_PENDING / R_FULFILLED / R_CANCELLED
    period: str  # YYYY-MM of requested_at (the fulfilment list's period)
    requested_at: str
    digest: str  # hash of (partner, reward, units): the same request id with other content is refused
    draws: tuple[Draw, ...] = ()
    updated_at: str = ""
    note: str = ""  # who fulfilled/cancelled and why

    def to_json(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "partner_id": self.partner_id,
            "reward_id": self.reward_id,
            "reward_name": self.reward_name,
            "points": self.points,
            "fmv_eur": str(self.fmv_eur),
            "state": self.state,
            "period": self.period,
            "requested_at": self.requested_at,
            "digest": self.digest,
            "draws": [d.to_json() for d in self.draws],
            "updated_at": self.updated_at,
            "note": self.note,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Redemption:
        return cls(
            request_id=str(d["request_id"]),
            partner_id=str(d["partner_id"]),
            reward_id=str(d["reward_id"]),
            reward_name=str(d["reward_name"]),
            points=int(d["points"]),
            fmv_eur=Decimal(str(d["fmv_eur"])),
            state=str(d["state"]),
            period=str(d["period"]),
            requested_at=str(d["requested_at"]),
            digest=str(d["digest"]),
            draws=tuple(Draw(str(x[0]), int(x[1])) for x in d.get("draws", [])),
            updated_at=str(d.get("updated_at", "")),
            note=str(d.get("note", "")),
        )


@dataclass(frozen=True)
class LotChange:
    """A conditional update of a stored lot: applied only if it still has `expect_remaining`
    and `expect_state`."""

    lot_id: str
    expect_remaining: int
    expect_state: str
    remaining: int
    state: str


@dataclass(frozen=True)
class StockTake:
    """Units of a reward taken (+1) or given back (-1): taken + units must stay within
    0..stock (None = unlimited), and within the partner's per-period limit."""

    reward_id: str
    units: int
    stock: int | None
    period: str
    limit: int | None


@dataclass(frozen=True)
class PointsTx:
    """One atomic change of one partner's points: all of it or nothing.

    Fails (commit returns False, nothing written) when the stored head's rev is not
    `expect_rev` (0 = no head yet), a move id or course marker exists already, a lot change's
    expectation does not hold, the redemption exists already (`redemption_expect_state` None) or is
    not in `redemption_expect_state`, or a stock take breaks the stock or the limit."""

    partner_id: str
    expect_rev: int
    head: PointsHead  # the new head; head.rev == expect_rev + 1
    new_lots: tuple[Lot, ...] = ()
    lot_changes: tuple[LotChange, ...] = ()
    moves: tuple[Move, ...] = ()
    postings: tuple[Posting, ...] = ()
    courses: tuple[tuple[str, str], ...] = ()  # (person_id, course) awarded now, once ever
    redemption: Redemption | None = None
    redemption_expect_state: str | None = None
    stock: StockTake | None = None
