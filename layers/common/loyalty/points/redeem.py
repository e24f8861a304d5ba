"""Redemption as pure planning (docs/rewards.md): a request, the partner's head and lots, the
reward and its counters in, one `PointsTx` (or a `Refusal` that says why, with the numbers) out.

- `plan_redeem`: draws the reward's points from ACTIVE lots, oldest-expiry-first (order key
  `(expires_on, lot_id)`), takes one unit of stock and of the partner's limit for the month, and
  records the redemption (pending) with the draws; the ledger moves the points' value from the
  partner's points account to `liability:rewards`.
- `plan_cancel`: a pending redemption only; re-credits the very lots it drew from (a lot that has
  expired meanwhile gets nothing back: those points expire at once, recorded by a second move),
  gives the unit back and reverses the redeem posting.
- `plan_fulfil`: a pending redemption only; moves the value from `liability:rewards` to
  `expense:rewards-delivered` (a move of 0 points records it on the partner's history).

Every check the plan makes is also a condition of the commit (head rev, lot expectations,
redemption state, stock and limit): a plan computed on stale state fails to commit and is made
again on fresh state, so a refusal is always decided on what is stored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from loyalty.kernel.money import to_cents
from loyalty.points.lots import TooManyDraws, draw, entry_id
from loyalty.points.model import (
    ACTIVE,
    EXPIRE,
    FULFIL,
    MAX_DRAWS,
    POINTS_BREAKAGE,
    R_CANCELLED,
    R_FULFILLED,
    R_PENDING,
    RECREDIT,
    REWARDS_DELIVERED,
    REWARDS_DUE,
    SPEND,
    Draw,
    Lot,
    LotChange,
    Move,
    PointsHead,
    PointsTx,
    Posting,
    Redemption,
    Reward,
    StockTake,
    points_account,
)

INSUFFICIENT_POINTS = "insufficient_points"
OUT_OF_STOCK = "out_of_stock"
LIMIT_REACHED = "limit_reached"
TIER_TOO_LOW = "tier_too_low"
REWARD_EXPIRED = "reward_expired"
REWARD_NOT_YET_VALID = "reward_not_yet_valid"
UNKNOWN_REWARD = "unknown_reward"
REQUEST_CONFLICT = "request_conflict"
NOT_CANCELLABLE = "not_cancellable"
NOT_FULFILLABLE = "not_fulfillable"
UNKNOWN_REQUEST = "unknown_request"
TOO_MANY_LOTS = "too_many_lots"
REFUSALS = (
    INSUFFICIENT_POINTS,
    OUT_OF_STOCK,
    LIMIT_REACHED,
    TIER_TOO_LOW,
    REWARD_EXPIRED,
    REWARD_NOT_YET_VALID,
    UNKNOWN_REWARD,
    REQUEST_CONFLICT,
    NOT_CANCELLABLE,
    NOT_FULFILLABLE,
    UNKNOWN_REQUEST,
    TOO_MANY_LOTS,
)
MAX_REF = 200


@dataclass(frozen=True)
class Refusal:
    """Why a request was not done: a stable `code` (one of REFUSALS) and a message with numbers."""

    code: str
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message}


def n(value: int) -> str:
    """`1200` -> `1 200` (points as people read them)."""
    return f"{value:,}".replace(",", " ")


def request_digest(partner_id: str, reward_id: str) -> str:
    """What a request id stands for: the same id may only ever mean this (partner, reward)."""
    return hashlib.sha256("|".join((partner_id, reward_id)).encode()).hexdigest()[:32]


def replay(stored: Redemption, partner_id: str, reward_id: str) -> Redemption | Refusal:
    """A request id seen before: the stored redemption if it is the same request (whatever its
    state now), else `request_conflict`."""
    if stored.digest == request_digest(partner_id, reward_id):
        return stored
    return Refusal(
        REQUEST_CONFLICT,
        f"request id {stored.request_id} was already used for reward {stored.reward_id} "
        f"(requested {stored.requested_at}); use a new request id for reward {reward_id}",
    )


def spendable(head: PointsHead | None, lots: Sequence[Lot]) -> tuple[int, int]:
    """(points that can be spent now, points still pending): the active lots' remaining less any
    debt (a debt is repaid before anything is spent)."""
    active = sum(lot.remaining for lot in lots if lot.state == ACTIVE and lot.remaining > 0)
    pending = head.pending if head else 0
    return max(0, active - (head.debt if head else 0)), pending


def _posting(
    pid: str, move: Move, kind: str, amount: Decimal, debit: str, credit: str, reverses: str = ""
) -> tuple[Posting, ...]:
    if amount == 0:
        return ()
    return (
        Posting(entry_id(pid, move.move_id, kind), move.period, debit, credit, amount, move.memo, reverses),
    )


def check_reward(
    reward: Reward | None, reward_id: str, day: dt.date, tier: str, tier_rank: Mapping[str, int], used: int
) -> Refusal | None:
    """The reward's own conditions, in the order a partner can act on: it exists, is valid on
    `day`, the tier is high enough, a unit is left, the partner's monthly limit is not reached."""
    if reward is None:
        return Refusal(UNKNOWN_REWARD, f"unknown reward {reward_id!r}: not in the catalog")
    when = _when(reward, day)
    if when is not None:
        return when
    if reward.min_tier and tier_rank.get(tier, -1) < tier_rank.get(reward.min_tier, 0):
        return Refusal(
            TIER_TOO_LOW,
            f"tier too low: reward {reward.reward_id} needs {reward.min_tier} or above, tier is {tier}",
        )
    if reward.stock is not None and reward.taken >= reward.stock:
        return Refusal(
            OUT_OF_STOCK, f"out of stock: all {n(reward.stock)} units of {reward.reward_id} are taken"
        )
    if reward.limit_per_period is not None and used >= reward.limit_per_period:
        return Refusal(
            LIMIT_REACHED,
            f"limit reached: {n(reward.limit_per_period)} per partner per month, "
            f"{n(used)} redeemed in {day.isoformat()[:7]}",
        )
    return None


def _when(reward: Reward, day: dt.date) -> Refusal | None:
    if reward.valid_from is not None and day < reward.valid_from:
        return Refusal(
            REWARD_NOT_YET_VALID, f"reward {reward.reward_id} can be redeemed from {reward.valid_from}"
        )
    if reward.valid_to is not None and day > reward.valid_to:
        return Refusal(REWARD_EXPIRED, f"reward {reward.reward_id} could be redeemed until {reward.valid_to}")
    return None


def plan_redeem(
    partner_id: str,
    reward: Reward | None,
    request_id: str,
    head: PointsHead | None,
    lots: Sequence[Lot],
    tier: str,
    tier_rank: Mapping[str, int],
    used: int,
    at_iso: str,
    eur_value: Decimal,
    reward_id: str = "",
) -> PointsTx | Refusal:
    """One unit of `reward` for the partner, or why not. `used`: units of the reward the partner
    holds from this month's redemptions; `eur_value`: the ledger value of one point."""
    day = dt.date.fromisoformat(at_iso[:10])
    refusal = check_reward(
        reward, reward_id or (reward.reward_id if reward else ""), day, tier, tier_rank, used
    )
    if refusal is not None or reward is None:
        return refusal or Refusal(UNKNOWN_REWARD, "unknown reward")
    can, pending = spendable(head, lots)
    if reward.points > can:
        debt = f", {n(head.debt)} owed" if head and head.debt else ""
        return Refusal(
            INSUFFICIENT_POINTS,
            f"insufficient points: {n(reward.points)} needed, {n(can)} active ({n(pending)} pending{debt})",
        )
    try:
        draws = draw(lots, reward.points, (ACTIVE,))
    except TooManyDraws:
        return Refusal(
            TOO_MANY_LOTS,
            f"reward {reward.reward_id} would draw from more than {MAX_DRAWS} lots at once; "
            "redeem a smaller reward first",
        )
    head = head or PointsHead(partner_id)
    by_id = {lot.lot_id: lot for lot in lots}
    period = at_iso[:7]
    move = Move(
        f"redeem:{request_id}",
        partner_id,
        period,
        SPEND,
        -reward.points,
        at_iso,
        f"redeemed {reward.reward_id} ({reward.name})"[:MAX_REF],
        draws,
        request_id[:MAX_REF],
    )
    redemption = Redemption(
        request_id=request_id,
        partner_id=partner_id,
        reward_id=reward.reward_id,
        reward_name=reward.name,
        points=reward.points,
        fmv_eur=reward.fmv_eur,
        state=R_PENDING,
        period=period,
        requested_at=at_iso,
        digest=request_digest(partner_id, reward.reward_id),
        draws=draws,
        updated_at=at_iso,
    )
    amount = to_cents(reward.points * eur_value)
    return PointsTx(
        partner_id=partner_id,
        expect_rev=head.rev,
        head=replace(
            head, rev=head.rev + 1, active=head.active - reward.points, spent=head.spent + reward.points
        ),
        lot_changes=tuple(_take(by_id[d.lot_id], d.points) for d in draws),
        moves=(move,),
        postings=_posting(partner_id, move, SPEND, amount, points_account(partner_id), REWARDS_DUE),
        redemption=redemption,
        redemption_expect_state=None,
        stock=StockTake(reward.reward_id, 1, reward.stock, period, reward.limit_per_period),
    )


def _take(lot: Lot, points: int) -> LotChange:
    return LotChange(lot.lot_id, lot.remaining, lot.state, lot.remaining - points, lot.state)


def _not_pending(stored: Redemption, action: str) -> Refusal:
    code = NOT_CANCELLABLE if action == "cancelled" else NOT_FULFILLABLE
    return Refusal(
        code,
        f"redemption {stored.request_id} is {stored.state} ({stored.note or stored.updated_at}): "
        f"only a pending redemption can be {action}",
    )


def plan_cancel(
    stored: Redemption,
    head: PointsHead,
    lots: Sequence[Lot],
    redeem_posting: Posting | None,
    at_iso: str,
    actor: str,
    reason: str,
) -> PointsTx | Refusal:
    """Cancel a pending redemption: the draws go back to their very lots; what a lot that expired
    (or was cancelled) meanwhile would get back expires at once."""
    if stored.state != R_PENDING:
        return _not_pending(stored, "cancelled")
    pid, rid = stored.partner_id, stored.request_id
    by_id = {lot.lot_id: lot for lot in lots}
    back: list[Draw] = []
    gone: list[Draw] = []
    changes: list[LotChange] = []
    for d in stored.draws:
        lot = by_id.get(d.lot_id)
        if lot is None:
            raise ValueError(f"redemption {rid} drew from lot {d.lot_id}, which {pid} does not have")
        if lot.state == ACTIVE:
            back.append(d)
            changes.append(
                LotChange(lot.lot_id, lot.remaining, lot.state, lot.remaining + d.points, lot.state)
            )
        else:
            gone.append(d)
    expired = sum(d.points for d in gone)
    period = at_iso[:7]
    note = f"cancelled by {actor}: {reason}"[:MAX_REF]
    recredit = Move(
        f"redeem:{rid}:cancel",
        pid,
        period,
        RECREDIT,
        stored.points,
        at_iso,
        note,
        stored.draws,
        rid[:MAX_REF],
    )
    moves = [recredit]
    postings = list(_reverse(pid, recredit, redeem_posting, debit=REWARDS_DUE, credit=points_account(pid)))
    if gone:
        lots_txt = ", ".join(d.lot_id for d in gone)
        exp = Move(
            f"redeem:{rid}:cancel:expire",
            pid,
            period,
            EXPIRE,
            -expired,
            at_iso,
            f"re-credited to lots that had expired ({lots_txt}): expired at once"[:MAX_REF],
            tuple(gone),
            rid[:MAX_REF],
        )
        moves.append(exp)
        value = _unit_value(redeem_posting, stored.points)
        postings += _posting(
            pid, exp, EXPIRE, to_cents(expired * value), points_account(pid), POINTS_BREAKAGE
        )
    returned = stored.points - expired
    return PointsTx(
        partner_id=pid,
        expect_rev=head.rev,
        head=replace(
            head,
            rev=head.rev + 1,
            active=head.active + returned,
            spent=head.spent - stored.points,
            expired=head.expired + expired,
        ),
        lot_changes=tuple(changes),
        moves=tuple(moves),
        postings=tuple(postings),
        redemption=replace(stored, state=R_CANCELLED, updated_at=at_iso, note=note),
        redemption_expect_state=R_PENDING,
        stock=StockTake(stored.reward_id, -1, None, stored.period, None),
    )


def _unit_value(redeem_posting: Posting | None, points: int) -> Decimal:
    """The EUR value per point the redemption was booked at (0 when it was not booked)."""
    if redeem_posting is None or points == 0:
        return Decimal(0)
    return redeem_posting.amount / points


def _reverse(pid: str, move: Move, original: Posting | None, debit: str, credit: str) -> tuple[Posting, ...]:
    if original is None:
        return ()
    return _posting(pid, move, move.kind, original.amount, debit, credit, reverses=original.entry_id)


def plan_fulfil(
    stored: Redemption, head: PointsHead, redeem_posting: Posting | None, at_iso: str, actor: str
) -> PointsTx | Refusal:
    """Mark a pending redemption delivered: the reward's value leaves `liability:rewards`."""
    if stored.state != R_PENDING:
        return _not_pending(stored, "fulfilled")
    pid, rid = stored.partner_id, stored.request_id
    note = f"fulfilled by {actor}"[:MAX_REF]
    move = Move(f"redeem:{rid}:fulfil", pid, at_iso[:7], FULFIL, 0, at_iso, note, (), rid[:MAX_REF])
    amount = redeem_posting.amount if redeem_posting else Decimal(0)
    return PointsTx(
        partner_id=pid,
        expect_rev=head.rev,
        head=replace(head, rev=head.rev + 1),
        moves=(move,),
        postings=_posting(pid, move, FULFIL, amount, REWARDS_DUE, REWARDS_DELIVERED),
        redemption=replace(stored, state=R_FULFILLED, updated_at=at_iso, note=note),
        redemption_expect_state=R_PENDING,
    )


def redeem_entry_id(partner_id: str, request_id: str) -> str:
    """The entry id of a redemption's posting (cancel and fulfil find the amount it booked)."""
    return entry_id(partner_id, f"redeem:{request_id}", SPEND)
