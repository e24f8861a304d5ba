"""What a monthly close does to one partner's points, as one `PointsTx` (pure; docs/points.md).

In order, at the close of period P (cut-off C = the last day of P): pending lots with
`activates_on <= C` become active; what is left of lots with `expires_on <= C` expires; the month
lot (`month:<P>`, pending until `earned_on + holding_days`) and the course lot (`course:<P>`,
active at once) are created; a debt is repaid from those new lots; a negative month (returns)
deducts from pending and active lots, oldest expiry first, the shortfall becoming a debt (rules
allow a negative balance) or written off. The summary move `close:<P>` marks the close applied."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal, localcontext
from typing import Any

from loyalty.points.lots import available, draw, expiry_date, month_end
from loyalty.points.model import (
    ACTIVATE,
    ACTIVE,
    BONUS,
    COURSE,
    DEDUCT,
    EARN,
    EXPIRE,
    EXPIRED,
    MONTH,
    PENDING,
    POINTS_BREAKAGE,
    POINTS_EXPENSE,
    SHORTFALL,
    Draw,
    Lot,
    Move,
    PointsHead,
    PointsTx,
    points_account,
)
from loyalty.points.work import MAX_ITEMS, REF_MAX, PlanTooLarge, Work, tx_items
from loyalty.program.rules import RuleVersion


@dataclass(frozen=True)
class CourseAward:
    person_id: str
    course: str
    completed_on: dt.date
    certificate_id: str

    def to_json(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "course": self.course,
            "completed_on": self.completed_on.isoformat(),
            "certificate_id": self.certificate_id,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> CourseAward:
        return cls(
            str(d["person_id"]),
            str(d["course"]),
            dt.date.fromisoformat(d["completed_on"]),
            str(d["certificate_id"]),
        )


def month_points(net_eur: Decimal, eur_per_point: Decimal, multiplier: Decimal) -> int:
    """floor(|net| / eur_per_point x multiplier), signed like net (exact: no rounded division)."""
    if eur_per_point <= 0:
        raise ValueError("eur_per_point must be > 0")
    with localcontext() as ctx:
        ctx.prec = 60
        q = (abs(net_eur) * multiplier / eur_per_point).to_integral_value(rounding=ROUND_FLOOR)
        # the 60-digit quotient can only round up onto an integer it does not reach: check it
        if q * eur_per_point > abs(net_eur) * multiplier:
            q -= 1
    p = int(q)
    return -p if net_eur < 0 else p


@dataclass(frozen=True)
class CloseIntent:
    """Everything the points of one partner's close need, decided by the close (serialisable)."""

    partner_id: str
    period: str
    rule_version: str
    tier: str
    multiplier: Decimal
    net_eur: Decimal
    month_points: int
    courses: tuple[CourseAward, ...]
    course_points: int
    holding_days: int
    expiry_months: int
    allow_negative: bool
    liability_eur_per_point: Decimal

    @classmethod
    def of(
        cls,
        partner_id: str,
        period: str,
        rules: RuleVersion,
        tier: str,
        net_eur: Decimal,
        courses: tuple[CourseAward, ...] | list[CourseAward] = (),
    ) -> CloseIntent:
        mult = rules.tier(tier).points_multiplier
        return cls(
            partner_id=partner_id,
            period=period,
            rule_version=rules.version,
            tier=tier,
            multiplier=mult,
            net_eur=net_eur,
            month_points=month_points(net_eur, rules.points.eur_per_point, mult),
            courses=tuple(courses),
            course_points=rules.points.course_points,
            holding_days=rules.holding_days,
            expiry_months=rules.points.expiry_months,
            allow_negative=rules.points.allow_negative,
            liability_eur_per_point=rules.points.liability_eur_per_point,
        )

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.update(
            multiplier=str(self.multiplier),
            net_eur=str(self.net_eur),
            liability_eur_per_point=str(self.liability_eur_per_point),
            courses=[c.to_json() for c in self.courses],
        )
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> CloseIntent:
        return cls(
            partner_id=str(d["partner_id"]),
            period=str(d["period"]),
            rule_version=str(d["rule_version"]),
            tier=str(d["tier"]),
            multiplier=Decimal(str(d["multiplier"])),
            net_eur=Decimal(str(d["net_eur"])),
            month_points=int(d["month_points"]),
            courses=tuple(CourseAward.from_json(c) for c in d.get("courses", [])),
            course_points=int(d["course_points"]),
            holding_days=int(d["holding_days"]),
            expiry_months=int(d["expiry_months"]),
            allow_negative=bool(d["allow_negative"]),
            liability_eur_per_point=Decimal(str(d["liability_eur_per_point"])),
        )


def _activate(w: Work, intent: CloseIntent, cut: dt.date, at: str) -> int:
    draws = []
    for lot in sorted(w.cur.values(), key=lambda x: (x.expires_on, x.lot_id)):
        if lot.state == PENDING and lot.activates_on <= cut:
            w.cur[lot.lot_id] = lot.with_(lot.remaining, ACTIVE)
            w.h["pending"] -= lot.remaining
            w.h["active"] += lot.remaining
            if lot.remaining:
                draws.append(Draw(lot.lot_id, lot.remaining))
    n = sum(d.points for d in draws)
    if any(w.cur[i] != w.orig[i] for i in w.orig):
        w.move(
            f"close:{intent.period}:activate",
            intent.period,
            ACTIVATE,
            0,
            at,
            f"{n} points activated",
            tuple(draws),
        )
    return n


def _expire(w: Work, intent: CloseIntent, cut: dt.date, at: str) -> int:
    draws = []
    touched = False
    for lot in sorted(w.cur.values(), key=lambda x: (x.expires_on, x.lot_id)):
        if lot.state in (PENDING, ACTIVE) and lot.expires_on <= cut:
            touched = True
            w.cur[lot.lot_id] = lot.with_(0, EXPIRED)
            w.h["pending" if lot.state == PENDING else "active"] -= lot.remaining
            w.h["expired"] += lot.remaining
            if lot.remaining:
                draws.append(Draw(lot.lot_id, lot.remaining))
    n = sum(d.points for d in draws)
    if touched:
        mid = f"close:{intent.period}:expire"
        w.move(mid, intent.period, EXPIRE, -n, at, f"{n} points expired", tuple(draws))
        acct = points_account(w.pid)
        w.post(mid, EXPIRE, intent.period, n, acct, POINTS_BREAKAGE, f"points expired {intent.period}")
    return n


def _deduct(w: Work, intent: CloseIntent, at: str) -> None:
    """A negative month takes its points back from pending and active lots (oldest expiry first)."""
    need = -intent.month_points
    have = available(w.cur.values(), (PENDING, ACTIVE))
    k = min(need, have)
    draws = draw(w.cur.values(), k, (PENDING, ACTIVE)) if k else ()
    w.take(draws)
    short = need - k
    mid = f"close:{intent.period}:deduct"
    acct = points_account(w.pid)
    if intent.allow_negative:
        w.h["debt"] += short
        w.h["deducted"] += need
        memo = f"returns take back {need} points: {k} from lots, {short} as debt"
        w.move(mid, intent.period, DEDUCT, -need, at, memo, draws)
        w.post(mid, DEDUCT, intent.period, need, acct, POINTS_EXPENSE, f"points deducted {intent.period}")
        return
    w.h["deducted"] += k
    if k:
        w.move(mid, intent.period, DEDUCT, -k, at, f"returns take back {k} of {need} points", draws)
        w.post(mid, DEDUCT, intent.period, k, acct, POINTS_EXPENSE, f"points deducted {intent.period}")
    if short:
        w.move(
            f"close:{intent.period}:shortfall",
            intent.period,
            SHORTFALL,
            0,
            at,
            f"shortfall of {short} points written off (no points left; negative balance not allowed)",
        )


def _earn_lot(w: Work, intent: CloseIntent, lot: Lot, move_id: str, at: str) -> None:
    w.add_lot(lot)
    w.move(move_id, intent.period, EARN, lot.points, at, lot.ref)
    w.moves[-1] = dataclasses.replace(w.moves[-1], ref=lot.lot_id)
    w.post(move_id, EARN, intent.period, lot.points, POINTS_EXPENSE, points_account(w.pid), lot.ref)


def _build(
    intent: CloseIntent, head: PointsHead | None, lots: list[Lot], courses: list[CourseAward], at: str
) -> PointsTx | None:
    w = Work(intent.partner_id, head, lots, intent.liability_eur_per_point)
    P = intent.period
    cut = month_end(P)
    expires = expiry_date(P, intent.expiry_months)
    activated = _activate(w, intent, cut, at)
    expired = _expire(w, intent, cut, at)
    if intent.month_points > 0:
        opens = cut + dt.timedelta(days=intent.holding_days)
        ref = f"net EUR {intent.net_eur} x {intent.multiplier} ({intent.tier}), rules {intent.rule_version}"
        lot = Lot(
            f"month:{P}", w.pid, MONTH, ref[:REF_MAX], P, intent.rule_version, intent.month_points,
            intent.month_points, PENDING if opens > cut else ACTIVE, cut, opens, expires,
        )  # fmt: skip
        _earn_lot(w, intent, lot, f"close:{P}:month", at)
    if courses:
        n = len(courses) * intent.course_points
        ref = ", ".join(f"{c.person_id}/{c.course}" for c in courses)
        lot = Lot(
            f"course:{P}",
            w.pid,
            COURSE,
            ref[:REF_MAX],
            P,
            intent.rule_version,
            n,
            n,
            ACTIVE,
            cut,
            cut,
            expires,
        )
        _earn_lot(w, intent, lot, f"close:{P}:courses", at)
    w.repay_debt(f"close:{P}:debt", P, at)
    if intent.month_points < 0:
        _deduct(w, intent, at)
    if not w.moves:
        return None
    memo = (
        f"close {P}: month {intent.month_points:+d}, courses {len(courses)}, "
        f"activated {activated}, expired {expired}"
    )
    w.moves.insert(0, Move(f"close:{P}", w.pid, P, EARN, 0, at, memo, (), intent.rule_version))
    return w.tx(tuple((c.person_id, c.course) for c in courses))


def plan_close(
    intent: CloseIntent, head: PointsHead | None, lots: list[Lot], awarded: set[tuple[str, str]], now_iso: str
) -> PointsTx | None:
    """The close's change of the partner's points as one transaction; None when it changes nothing.

    Courses already awarded (`awarded`, or twice in `intent.courses`) are skipped; when the
    transaction would exceed MAX_ITEMS, the latest completions wait for the next close."""
    seen = set(awarded)
    courses: list[CourseAward] = []
    if intent.course_points > 0:
        for c in sorted(intent.courses, key=lambda c: (c.completed_on, c.person_id, c.course)):
            if (c.person_id, c.course) not in seen:
                seen.add((c.person_id, c.course))
                courses.append(c)
    tx = _build(intent, head, lots, courses, now_iso)
    if tx is not None and tx_items(tx) > MAX_ITEMS:
        excess = tx_items(tx) - MAX_ITEMS
        if excess < len(courses):
            tx = _build(intent, head, lots, courses[: len(courses) - excess], now_iso)
        if tx is None or tx_items(tx) > MAX_ITEMS:
            raise PlanTooLarge(
                f"the close of {intent.period} for {intent.partner_id} needs more than {MAX_ITEMS} items"
            )
    return tx


def plan_bonus(
    partner_id: str,
    lot_id: str,
    points: int,
    ref: str,
    period: str,
    rule_version: str,
    liability_eur_per_point: Decimal,
    head: PointsHead | None,
    now_iso: str,
    expiry_months: int = 12,
) -> PointsTx:
    """A bonus lot (active at once, earned on the last day of `period`), move `bonus:<lot_id>`;
    a debt is repaid from it first (move `bonus:<lot_id>:debt`). The lot id makes it once only."""
    if points <= 0:
        raise ValueError(f"a bonus is a positive number of points ({points})")
    cut = month_end(period)
    lot = Lot(
        lot_id, partner_id, BONUS, ref[:REF_MAX], period, rule_version, points, points, ACTIVE, cut, cut,
        expiry_date(period, expiry_months),
    )  # fmt: skip
    w = Work(partner_id, head, [], liability_eur_per_point)
    w.add_lot(lot)
    mid = f"bonus:{lot_id}"
    w.move(mid, period, EARN, points, now_iso, ref)
    w.moves[-1] = dataclasses.replace(w.moves[-1], ref=lot_id)
    w.post(mid, EARN, period, points, POINTS_EXPENSE, points_account(partner_id), ref)
    w.repay_debt(f"{mid}:debt", period, now_iso)
    return w.tx()


__all__ = [
    "MAX_ITEMS",
    "CloseIntent",
    "CourseAward",
    "PlanTooLarge",
    "month_points",
    "plan_bonus",
    "plan_close",
    "tx_items",
]
