"""Properties of points over random histories (docs/points.md): closes with signed nets and
courses, spends drawn oldest-expiry-first, cancels re-crediting the very lots, and expiry.

After every step: pending + active - debt == earned - spent - expired - deducted, the head agrees
with its lots, every lot within 0..points, pending and active never negative, a debt only when the
rules allow it, the moves sum to the balance; re-applying a close changes nothing; the same close
applied by two threads at once applies once."""

from __future__ import annotations

import dataclasses
import threading
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from loyalty.adapters.memory import MemoryStore
from loyalty.points.close import CloseIntent, CourseAward, month_points
from loyalty.points.lots import InsufficientPoints, add_months, apply_draws, draw, month_end, order_key
from loyalty.points.model import (
    ACTIVE,
    EXPIRED,
    PENDING,
    RECREDIT,
    SPEND,
    Draw,
    LotChange,
    Move,
    PointsTx,
)
from loyalty.points.service import PointsLedger

PID = "P1"
MULTIPLIERS = (Decimal(1), Decimal("1.25"), Decimal("1.5"), Decimal(2))
PEOPLE = ("a", "b", "c")
COURSES = ("CERT-SALES", "CERT-TECH")

closes = st.tuples(
    st.just("close"),
    st.integers(-4000, 6000),  # net EUR
    st.integers(0, 3),  # the tier's multiplier
    st.sets(st.tuples(st.sampled_from(PEOPLE), st.sampled_from(COURSES)), max_size=3),
)
spends = st.tuples(st.just("spend"), st.integers(1, 800))
cancels = st.tuples(st.just("cancel"), st.integers(0, 20))
histories = st.lists(st.one_of(closes, spends, cancels), min_size=1, max_size=25)
configs = st.fixed_dictionaries(
    {
        "allow_negative": st.booleans(),
        "holding_days": st.sampled_from((0, 30, 45)),
        "expiry_months": st.integers(1, 4),
        "course_points": st.sampled_from((0, 100, 500)),
    }
)


def intent(
    period: str, net: int, mult: int, courses: set[tuple[str, str]], cfg: dict[str, Any]
) -> CloseIntent:
    m = MULTIPLIERS[mult]
    day = month_end(period)
    return CloseIntent(
        PID, period, "v1", f"T{mult}", m, Decimal(net), month_points(Decimal(net), Decimal(10), m),
        tuple(CourseAward(p, c, day, f"{p}-{c}") for p, c in sorted(courses)),
        cfg["course_points"], cfg["holding_days"], cfg["expiry_months"], cfg["allow_negative"], Decimal("0.01"),
    )  # fmt: skip


def state(s: MemoryStore) -> tuple[Any, ...]:
    return (s.points_head(PID), s.lots(PID), s.moves(PID), s.awarded_courses(PID), s.points_postings(PID))


def check(s: MemoryStore, allow_negative: bool) -> None:
    h = s.points_head(PID)
    if h is None:
        return
    lots = s.lots(PID)
    assert h.pending + h.active - h.debt == h.earned - h.spent - h.expired - h.deducted
    assert h.pending == sum(x.remaining for x in lots if x.state == PENDING) >= 0
    assert h.active == sum(x.remaining for x in lots if x.state == ACTIVE) >= 0
    assert all(0 <= x.remaining <= x.points for x in lots)
    assert all(x.remaining == 0 for x in lots if x.state == EXPIRED)
    assert h.debt >= 0 and (h.debt == 0 or allow_negative)
    assert sum(m.points for m in s.moves(PID)) == h.balance
    key = {x.lot_id: order_key(x) for x in lots}
    for m in s.moves(PID):  # spends and deductions draw oldest expiry first
        if m.kind in (SPEND, "deduct"):
            assert [key[d.lot_id] for d in m.draws] == sorted(key[d.lot_id] for d in m.draws)


def spend(s: MemoryStore, n: int, k: int, at: str, period: str) -> tuple[Draw, ...] | None:
    """Spend n active points (a redemption's effect on lots and head); None if short."""
    h = s.points_head(PID)
    lots = s.lots(PID)
    if h is None:
        return None
    try:
        draws = draw(lots, n, (ACTIVE,))
    except InsufficientPoints as e:
        assert e.available == h.active < n
        return None
    # oldest expiry first: every usable lot ordered before the last one drawn is emptied
    usable = sorted((x for x in lots if x.state == ACTIVE and x.remaining > 0), key=order_key)
    got = {d.lot_id: d.points for d in draws}
    last = order_key(next(x for x in usable if x.lot_id == draws[-1].lot_id))
    assert all(got.get(x.lot_id) == x.remaining for x in usable if order_key(x) < last)
    assert [d.lot_id for d in draws] == [x.lot_id for x in usable if x.lot_id in got]
    head = dataclasses.replace(h, rev=h.rev + 1, active=h.active - n, spent=h.spent + n)
    mv = Move(f"redeem:S{k}", PID, period, SPEND, -n, at, "spend", draws)
    assert s.commit_points(
        PointsTx(PID, h.rev, head, lot_changes=tuple(apply_draws(lots, draws)), moves=(mv,))
    )
    return draws


def cancel(s: MemoryStore, k: int, draws: tuple[Draw, ...], at: str, period: str) -> None:
    """Re-credit the very lots a spend drew from; what an expired lot would get back expires at once."""
    h = s.points_head(PID)
    assert h is not None
    lots = {x.lot_id: x for x in s.lots(PID)}
    back = {"pending": 0, "active": 0, "expired": 0}
    changes = []
    for d in draws:
        lot = lots[d.lot_id]
        if lot.state == EXPIRED:
            back["expired"] += d.points
            continue
        back[lot.state] += d.points
        changes.append(LotChange(lot.lot_id, lot.remaining, lot.state, lot.remaining + d.points, lot.state))
    total = sum(d.points for d in draws)
    head = dataclasses.replace(
        h,
        rev=h.rev + 1,
        pending=h.pending + back["pending"],
        active=h.active + back["active"],
        expired=h.expired + back["expired"],
        spent=h.spent - total,
    )
    mv = Move(f"redeem:S{k}:cancel", PID, period, RECREDIT, total - back["expired"], at, "cancel", draws)
    assert s.commit_points(PointsTx(PID, h.rev, head, lot_changes=tuple(changes), moves=(mv,)))


@settings(max_examples=300, deadline=None)
@given(cfg=configs, history=histories)
def test_random_histories_keep_the_books(cfg: dict[str, Any], history: list[tuple[Any, ...]]) -> None:
    s = MemoryStore()
    led = PointsLedger(s)
    period = "2026-01"
    spent: list[tuple[int, tuple[Draw, ...]]] = []
    cancelled: set[int] = set()
    for i, op in enumerate(history):
        at = f"2026-01-01T00:00:{i:02d}Z"
        if op[0] == "close":
            it = intent(period, op[1], op[2], op[3], cfg)
            led.apply_close(it, at)
            after = state(s)
            assert not led.apply_close(it, at)
            if s.has_move(PID, f"close:{period}"):  # applied: the marker refuses any other content
                assert not led.apply_close(dataclasses.replace(it, month_points=7), at)
            assert state(s) == after
            period = add_months(period, 1)
        elif op[0] == "spend":
            got = spend(s, op[1], i, at, period)
            if got is not None:
                spent.append((i, got))
        elif spent and op[1] % len(spent) not in cancelled:
            j = op[1] % len(spent)
            cancelled.add(j)
            cancel(s, spent[j][0], spent[j][1], at, period)
        check(s, cfg["allow_negative"])
    h = s.points_head(PID)
    if h is not None:  # the head's counters are what the moves say
        moves = s.moves(PID)
        assert h.earned == sum(m.points for m in moves if m.kind == "earn")
        assert h.expired == -sum(m.points for m in moves if m.kind == "expire") + sum(
            sum(d.points for d in m.draws) - m.points for m in moves if m.kind == RECREDIT
        )


@settings(max_examples=25, deadline=None)
@given(
    cfg=configs,
    nets=st.lists(st.integers(-3000, 6000), min_size=1, max_size=4),
    last=st.integers(-3000, 6000),
)
def test_a_close_applied_by_two_threads_at_once_applies_once(
    cfg: dict[str, Any], nets: list[int], last: int
) -> None:
    s = MemoryStore()
    led = PointsLedger(s)
    period = "2026-01"
    for net in nets:
        led.apply_close(intent(period, net, 2, set(), cfg), "t")
        period = add_months(period, 1)
    it = intent(period, last, 1, {("a", "CERT-SALES")}, cfg)
    alone = MemoryStore()
    alone.point_heads, alone.point_lots = dict(s.point_heads), dict(s.point_lots)
    alone.point_moves, alone.point_courses = dict(s.point_moves), set(s.point_courses)
    alone.point_postings_ = dict(s.point_postings_)
    expected = PointsLedger(alone).apply_close(it, "t")
    results: list[bool] = []
    gate = threading.Barrier(2)

    def run() -> None:
        gate.wait()
        results.append(PointsLedger(s).apply_close(it, "t"))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ([False, True] if expected else [False, False])
    assert state(s) == state(alone)
    check(s, cfg["allow_negative"])
