"""The points of a monthly close: earning, holding, courses once, expiry, deductions, debt, and
the ledger applying each close once (docs/points.md)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from loyalty.adapters.memory import MemoryStore
from loyalty.points.close import CloseIntent, CourseAward, PlanTooLarge, month_points, plan_close
from loyalty.points.model import (
    ACTIVE,
    EXPIRED,
    PENDING,
    POINTS_BREAKAGE,
    POINTS_EXPENSE,
    Draw,
    PointsTx,
    points_account,
)
from loyalty.points.service import ConcurrentChanges, PointsLedger
from loyalty.program.rules import parse_rules

RULES = parse_rules((Path(__file__).resolve().parents[2] / "rules/default-program.yaml").read_text())
NOW = "2026-02-03T10:00:00Z"


def intent(
    period: str, net: str, tier: str = "Gold", courses: tuple[CourseAward, ...] = (), **kw: Any
) -> CloseIntent:
    rules = RULES.model_copy(update={"points": RULES.points.model_copy(update=kw)}) if kw else RULES
    return CloseIntent.of("P1", period, rules, tier, Decimal(net), courses)


def course(person: str, name: str = "CERT-SALES", day: int = 5) -> CourseAward:
    return CourseAward(person, name, dt.date(2026, 1, day), f"C-{person}-{name}")


def check(store: MemoryStore, pid: str = "P1") -> None:
    """The head agrees with its lots and keeps its invariant."""
    h = store.points_head(pid)
    assert h is not None
    lots = store.lots(pid)
    assert h.pending == sum(x.remaining for x in lots if x.state == PENDING)
    assert h.active == sum(x.remaining for x in lots if x.state == ACTIVE)
    assert h.pending + h.active - h.debt == h.earned - h.spent - h.expired - h.deducted
    assert all(0 <= x.remaining <= x.points for x in lots)
    assert sum(m.points for m in store.moves(pid)) == h.balance


def test_month_points_floor_signed_and_exact() -> None:
    assert month_points(Decimal("12345.67"), Decimal(10), Decimal("1.5")) == 1851
    assert month_points(Decimal("-99.99"), Decimal(10), Decimal(1)) == -9
    assert month_points(Decimal("9.99"), Decimal(10), Decimal(2)) == 1
    assert month_points(Decimal(1), Decimal(3), Decimal(3)) == 1  # 1/3 x 3: no rounded division
    assert month_points(Decimal(0), Decimal(10), Decimal(2)) == 0
    with pytest.raises(ValueError):
        month_points(Decimal(1), Decimal(0), Decimal(1))


def test_intent_from_the_rules_and_its_json() -> None:
    i = intent("2026-01", "12345.67", courses=(course("p7"),))
    assert (i.multiplier, i.month_points, i.course_points, i.holding_days) == (Decimal("1.5"), 1851, 500, 30)
    assert (i.expiry_months, i.allow_negative, i.rule_version) == (12, False, "2026.1")
    assert CloseIntent.from_json(i.to_json()) == i
    assert intent("2026-01", "100", tier="Platinum").month_points == 20


def test_a_month_lot_is_pending_for_the_holding_days_then_active() -> None:
    s = MemoryStore()
    led = PointsLedger(s)
    assert led.apply_close(intent("2026-01", "1000"), NOW)
    (lot,) = s.lots("P1")
    assert (lot.lot_id, lot.points, lot.state) == ("month:2026-01", 150, PENDING)
    assert (lot.earned_on, lot.activates_on, lot.expires_on) == (
        dt.date(2026, 1, 31),
        dt.date(2026, 3, 2),
        dt.date(2027, 1, 31),
    )
    assert [m.move_id for m in led.moves("P1")] == ["close:2026-01", "close:2026-01:month"]
    (p,) = s.points_postings("P1")
    assert (p.debit, p.credit, p.amount, p.period) == (
        POINTS_EXPENSE,
        points_account("P1"),
        Decimal("1.50"),
        "2026-01",
    )
    assert led.apply_close(intent("2026-02", "0"), NOW) is False  # nothing activates on Feb 28
    assert not s.has_move("P1", "close:2026-02")
    assert led.apply_close(intent("2026-03", "200", tier="Bronze"), NOW)
    lots = {x.lot_id: x for x in s.lots("P1")}
    assert lots["month:2026-01"].state == ACTIVE and lots["month:2026-03"].state == PENDING
    act = next(m for m in s.moves("P1", "2026-03") if m.move_id == "close:2026-03:activate")
    assert (act.points, act.draws) == (0, (Draw("month:2026-01", 150),))
    h = s.points_head("P1")
    assert h is not None and (h.pending, h.active, h.earned, h.rev) == (20, 150, 170, 2)
    check(s)


def test_without_holding_days_the_month_lot_is_active_at_once() -> None:
    rules = RULES.model_copy(update={"holding_days": 0})
    s = MemoryStore()
    assert PointsLedger(s).apply_close(CloseIntent.of("P1", "2026-01", rules, "Bronze", Decimal(100)), NOW)
    assert [x.state for x in s.lots("P1")] == [ACTIVE]


def test_course_points_once_per_person_and_course() -> None:
    s = MemoryStore()
    led = PointsLedger(s)
    twice = (course("p7"), course("p8"), course("p7", day=9), course("p7", "CERT-TECH"))
    assert led.apply_close(intent("2026-01", "0", courses=twice), NOW)
    (lot,) = s.lots("P1")
    assert (lot.lot_id, lot.points, lot.state, lot.activates_on) == (
        "course:2026-01",
        1500,
        ACTIVE,
        dt.date(2026, 1, 31),
    )
    assert s.awarded_courses("P1") == {("p7", "CERT-SALES"), ("p8", "CERT-SALES"), ("p7", "CERT-TECH")}
    again = (course("p7"), course("p9"))
    assert led.apply_close(intent("2026-02", "0", courses=again), NOW)
    assert {x.lot_id: x.points for x in s.lots("P1")} == {"course:2026-01": 1500, "course:2026-02": 500}
    assert led.apply_close(intent("2026-03", "0", courses=again), NOW) is False
    check(s)


def test_course_points_zero_awards_and_marks_nothing() -> None:
    s = MemoryStore()
    assert (
        PointsLedger(s).apply_close(intent("2026-01", "0", courses=(course("p7"),), course_points=0), NOW)
        is False
    )
    assert s.awarded_courses("P1") == set()


def test_too_many_courses_wait_for_the_next_close() -> None:
    s = MemoryStore()
    led = PointsLedger(s)
    many = tuple(course(f"p{i:03d}") for i in range(120))
    assert led.apply_close(intent("2026-01", "1000", courses=many), NOW)
    first = len(s.awarded_courses("P1"))
    assert 80 < first < 120
    assert led.apply_close(intent("2026-02", "0", courses=many), NOW)
    assert len(s.awarded_courses("P1")) == 120
    assert sum(x.points for x in s.lots("P1") if x.source == "course") == 120 * 500
    check(s)


def test_what_is_left_of_a_lot_expires_at_its_close_into_breakage() -> None:
    s = MemoryStore()
    led = PointsLedger(s)
    led.apply_close(intent("2026-01", "0", courses=(course("p7"),)), NOW)  # 500, expires 2027-01-31
    spend(s, 120)
    for p in ("2026-12",):
        assert led.apply_close(intent(p, "100", tier="Bronze"), NOW)
    assert led.apply_close(intent("2027-01", "0"), NOW)
    lots = {x.lot_id: x for x in s.lots("P1")}
    assert (lots["course:2026-01"].state, lots["course:2026-01"].remaining) == (EXPIRED, 0)
    exp = next(m for m in s.moves("P1", "2027-01") if m.kind == "expire")
    assert (exp.move_id, exp.points, exp.draws) == (
        "close:2027-01:expire",
        -380,
        (Draw("course:2026-01", 380),),
    )
    post = [p for p in s.points_postings(period="2027-01") if p.credit == POINTS_BREAKAGE]
    assert [(p.debit, p.amount) for p in post] == [(points_account("P1"), Decimal("3.80"))]
    h = s.points_head("P1")
    assert h is not None and (h.expired, h.spent, h.active) == (380, 120, 10)  # Dec lot active on Jan 30
    check(s)


def spend(s: MemoryStore, n: int) -> None:
    """A plain spend of n active points (what a redemption does to the lots and the head)."""
    from dataclasses import replace

    from loyalty.points.lots import apply_draws, draw
    from loyalty.points.model import SPEND, Move

    h = s.points_head("P1")
    assert h is not None
    lots = s.lots("P1")
    draws = draw(lots, n, (ACTIVE,))
    mv = Move(f"spend:{h.rev}", "P1", "2026-06", SPEND, -n, NOW, "test", draws)
    head = replace(h, rev=h.rev + 1, active=h.active - n, spent=h.spent + n)
    tx = PointsTx("P1", h.rev, head, lot_changes=tuple(apply_draws(lots, draws)), moves=(mv,))
    assert s.commit_points(tx)


def test_returns_deduct_from_lots_and_the_shortfall_is_written_off() -> None:
    s = MemoryStore()
    led = PointsLedger(s)
    led.apply_close(intent("2026-01", "1000"), NOW)  # 150 pending
    led.apply_close(intent("2026-02", "0", courses=(course("p7"),)), NOW)  # 500 active, expires 2027-02
    assert led.apply_close(intent("2026-03", "-5000"), NOW)  # -750: Jan lot (150) first, then 500
    moves = {m.move_id: m for m in s.moves("P1", "2026-03")}
    d = moves["close:2026-03:deduct"]
    assert (d.points, d.draws) == (-650, (Draw("month:2026-01", 150), Draw("course:2026-02", 500)))
    sf = moves["close:2026-03:shortfall"]
    assert sf.points == 0 and "100" in sf.memo and "written off" in sf.memo
    h = s.points_head("P1")
    assert h is not None and (h.balance, h.debt, h.deducted) == (0, 0, 650)
    assert [(p.debit, p.credit, p.amount) for p in s.points_postings(period="2026-03")] == [
        (points_account("P1"), POINTS_EXPENSE, Decimal("6.50"))
    ]
    check(s)


def test_with_negative_balance_allowed_the_shortfall_is_a_debt_repaid_from_later_lots() -> None:
    s = MemoryStore()
    led = PointsLedger(s)
    led.apply_close(intent("2026-01", "100", allow_negative=True), NOW)  # 15 pending
    assert led.apply_close(intent("2026-02", "-1000", allow_negative=True), NOW)  # -150
    h = s.points_head("P1")
    assert h is not None and (h.balance, h.debt, h.pending, h.deducted) == (-135, 135, 0, 150)
    check(s)
    assert led.apply_close(intent("2026-03", "0", courses=(course("p7"),), allow_negative=True), NOW)
    repay = next(m for m in s.moves("P1", "2026-03") if m.move_id == "close:2026-03:debt")
    assert (repay.kind, repay.points, repay.ref, repay.draws) == (
        "deduct",
        0,
        "debt",
        (Draw("course:2026-03", 135),),
    )
    h = s.points_head("P1")
    assert h is not None and (h.balance, h.debt, h.active) == (365, 0, 365)
    check(s)


def test_a_bonus_is_awarded_once_and_repays_a_debt_first() -> None:
    s = MemoryStore()
    led = PointsLedger(s)
    led.apply_close(intent("2026-01", "-100", allow_negative=True), NOW)  # -15 (Gold): debt 15
    args = (
        "P1",
        "bonus:potm:2026-02",
        1000,
        "partner of the month",
        "2026-02",
        "2026.1",
        Decimal("0.01"),
        NOW,
    )
    assert led.award_bonus(*args)
    assert led.award_bonus(*args) is False
    (lot,) = s.lots("P1")
    assert (lot.lot_id, lot.source, lot.remaining, lot.state) == ("bonus:potm:2026-02", "bonus", 985, ACTIVE)
    assert s.has_move("P1", "bonus:bonus:potm:2026-02:debt")
    check(s)


def test_a_close_applies_once() -> None:
    s = MemoryStore()
    led = PointsLedger(s)
    i = intent("2026-01", "1000", courses=(course("p7"),))
    assert led.apply_close(i, NOW)
    before = (s.points_head("P1"), s.lots("P1"), s.moves("P1"), s.points_postings("P1"))
    assert led.apply_close(i, NOW) is False
    assert led.apply_close(intent("2026-01", "9999"), NOW) is False  # the marker decides
    assert (s.points_head("P1"), s.lots("P1"), s.moves("P1"), s.points_postings("P1")) == before
    # a plan made on the state before the commit fails as a whole
    tx = plan_close(i, None, [], set(), NOW)
    assert tx is not None and not s.commit_points(tx)


class Racing(MemoryStore):
    """Another change lands between each read and commit, `n` times."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n
        self.inner = False

    def commit_points(self, tx: PointsTx) -> bool:
        if self.n > 0 and not self.inner:
            self.n -= 1
            self.inner = True
            PointsLedger(self).award_bonus(
                "P1", f"bonus:b{self.n}", 10, "race", "2026-01", "v", Decimal("0.01"), NOW
            )
            self.inner = False
        return super().commit_points(tx)


def test_a_conflicting_commit_is_planned_again_on_fresh_state() -> None:
    s = Racing(3)
    assert PointsLedger(s).apply_close(intent("2026-01", "1000"), NOW)
    h = s.points_head("P1")
    assert h is not None and h.earned == 150 + 30 and h.rev == 4
    check(s)
    with pytest.raises(ConcurrentChanges):
        PointsLedger(Racing(8)).apply_close(intent("2026-01", "1000"), NOW)


def test_a_plan_larger_than_one_transaction_is_refused() -> None:
    from loyalty.points.model import Lot

    d = dt.date(2026, 1, 31)
    lots = [
        Lot(f"l{i:03d}", "P1", "bonus", "", "2026-01", "v", 1, 1, ACTIVE, d, d, dt.date(2026, 3, 31))
        for i in range(120)
    ]
    with pytest.raises(PlanTooLarge):
        plan_close(intent("2026-03", "0"), None, lots, set(), NOW)
