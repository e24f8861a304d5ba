"""The points ports on both stores (memory | DynamoDB on moto): `commit_points` applies all of a
transaction or nothing, and refuses on every one of its conditions; the reads' orders, the heads'
batched read, the redemptions by period (gsi1), postings by partner and by period, the catalog."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sys
import threading
from decimal import Decimal
from typing import Any

import pytest
from loyalty.adapters.dynamo import DynamoStore
from loyalty.points.close import CloseIntent, CourseAward
from loyalty.points.model import (
    ACTIVE,
    EARN,
    EXPIRED,
    MAX_DRAWS,
    PENDING,
    R_CANCELLED,
    R_FULFILLED,
    R_PENDING,
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
)
from loyalty.points.service import PointsLedger

from tests.contract.test_bounded_items import item_sizes

D = dt.date(2026, 1, 31)


def lot(
    lot_id: str,
    points: int = 100,
    expires: dt.date = dt.date(2027, 1, 31),
    pid: str = "P1",
    state: str = ACTIVE,
) -> Lot:
    return Lot(lot_id, pid, "month", "ref", "2026-01", "v1", points, points, state, D, D, expires)


def move(
    move_id: str, period: str = "2026-01", at: str = "2026-02-01T00:00:00Z", pid: str = "P1", **kw: Any
) -> Move:
    return Move(move_id, pid, period, kw.pop("kind", EARN), kw.pop("points", 0), at, "memo", **kw)


def head(rev: int, pid: str = "P1", **kw: int) -> PointsHead:
    return PointsHead(pid, rev, **kw)


def post(entry_id: str, period: str = "2026-01") -> Posting:
    return Posting(entry_id, period, "expense:points", "liability:points:P1", Decimal("1.50"), "m")


def redemption(rid: str, state: str = R_PENDING, period: str = "2026-02", pid: str = "P1") -> Redemption:
    return Redemption(
        rid,
        pid,
        "R-MUG",
        "Mug",
        50,
        Decimal("7.50"),
        state,
        period,
        "2026-02-03T00:00:00Z",
        "d1",
        (Draw("a", 50),),
    )


def reward(rid: str = "R-MUG", stock: int | None = 2, **kw: Any) -> Reward:
    return Reward(
        rid, "Mug", "a mug", 50, stock, kw.pop("limit", None), None, None, None, Decimal("7.50"), **kw
    )


def seed(store: Any, pid: str = "P1") -> None:
    """Head rev 1 with lots a (100, expires Jan) and b (100, pending, expires Mar)."""
    tx = PointsTx(
        pid,
        0,
        head(1, pid, active=100, pending=100, earned=200),
        new_lots=(lot("b", expires=dt.date(2027, 3, 31), pid=pid, state=PENDING), lot("a", pid=pid)),
        moves=(move("close:2026-01", pid=pid),),
        postings=(post(f"e-{pid}"),),
        courses=(("p#1", "CERT%SALES"),),
    )
    assert store.commit_points(tx)


def snapshot(store: Any, pid: str = "P1") -> tuple[Any, ...]:
    return (
        store.points_head(pid),
        store.lots(pid),
        store.moves(pid),
        store.awarded_courses(pid),
        store.points_postings(pid),
        store.partner_redemptions(pid),
        store.rewards(),
    )


def test_a_commit_writes_everything_and_the_reads_find_it(store: Any) -> None:
    seed(store)
    assert store.points_head("P1") == head(1, active=100, pending=100, earned=200)
    assert [x.lot_id for x in store.lots("P1")] == ["a", "b"]  # by (expires_on, lot_id)
    assert store.lots("P1")[1].state == PENDING
    assert store.has_move("P1", "close:2026-01") and not store.has_move("P1", "close:2026-02")
    assert not store.has_move("P2", "close:2026-01")
    assert store.awarded_courses("P1") == {("p#1", "CERT%SALES")}
    assert store.points_postings("P1") == [post("e-P1")]
    assert store.points_head("P2") is None and store.lots("P2") == []


def test_moves_in_period_then_time_then_id_order(store: Any) -> None:
    seed(store)
    tx = PointsTx(
        "P1",
        1,
        head(2, active=100, pending=100, earned=200),
        moves=(
            move("z", "2026-02", "2026-03-01T00:00:00Z"),
            move("y", "2026-02", "2026-03-01T00:00:00Z", draws=(Draw("a", 1),), ref="r"),
            move("x", "2026-03", "2026-02-01T00:00:00Z"),
            move("w", "2026-02", "2026-03-02T00:00:00Z"),
        ),
    )
    assert store.commit_points(tx)
    assert [m.move_id for m in store.moves("P1")] == ["close:2026-01", "y", "z", "w", "x"]
    assert [m.move_id for m in store.moves("P1", "2026-02")] == ["y", "z", "w"]
    got = next(m for m in store.moves("P1") if m.move_id == "y")
    assert (got.draws, got.ref) == ((Draw("a", 1),), "r")


def test_points_heads_is_one_read_of_those_that_have_one(store: Any) -> None:
    seed(store, "P1")
    seed(store, "P3")
    got = store.points_heads(["P1", "P2", "P3", "P1"])
    assert sorted(got) == ["P1", "P3"] and got["P3"] == head(1, "P3", active=100, pending=100, earned=200)
    assert store.points_heads([]) == {}


@pytest.mark.parametrize("expect_rev, new_rev", [(0, 1), (2, 3), (1, 3), (1, 1)])
def test_a_stale_or_wrong_revision_writes_nothing(store: Any, expect_rev: int, new_rev: int) -> None:
    seed(store)
    before = snapshot(store)
    tx = PointsTx("P1", expect_rev, head(new_rev), new_lots=(lot("c"),), moves=(move("m2"),))
    assert not store.commit_points(tx)
    assert snapshot(store) == before


def fails_on(store: Any, **parts: Any) -> None:
    """A commit on the right revision, with a good new lot and move, fails because of `parts`."""
    before = snapshot(store)
    tx = PointsTx("P1", 1, head(2), new_lots=(lot("fresh"),), moves=(move("fresh"),))
    assert not store.commit_points(dataclasses.replace(tx, **parts))
    assert snapshot(store) == before


def test_an_existing_move_course_lot_or_posting_fails_the_whole_commit(store: Any) -> None:
    seed(store)
    fails_on(store, moves=(move("fresh"), move("close:2026-01", "2026-05")))
    fails_on(store, courses=(("p1", "X"), ("p#1", "CERT%SALES")))
    fails_on(store, new_lots=(lot("fresh"), lot("a")))
    fails_on(store, postings=(post("e-P1"),))


def test_lot_changes_hold_only_on_the_expected_remaining_and_state(store: Any) -> None:
    seed(store)
    fails_on(store, lot_changes=(LotChange("a", 99, ACTIVE, 50, ACTIVE),))
    fails_on(store, lot_changes=(LotChange("a", 100, PENDING, 50, ACTIVE),))
    fails_on(store, lot_changes=(LotChange("nope", 0, ACTIVE, 0, EXPIRED),))
    fails_on(
        store, lot_changes=(LotChange("b", 100, PENDING, 100, ACTIVE), LotChange("a", 1, ACTIVE, 0, ACTIVE))
    )
    tx = PointsTx(
        "P1",
        1,
        head(2, active=30, pending=100, earned=200, spent=70),
        lot_changes=(LotChange("a", 100, ACTIVE, 30, ACTIVE), LotChange("b", 100, PENDING, 100, ACTIVE)),
        moves=(move("spend", kind=SPEND, points=-70, draws=(Draw("a", 70),)),),
    )
    assert store.commit_points(tx)
    assert [(x.lot_id, x.remaining, x.state) for x in store.lots("P1")] == [
        ("a", 30, ACTIVE),
        ("b", 100, ACTIVE),
    ]
    assert store.lots("P1")[0].points == 100


def spend_tx(
    rev: int,
    rid: str,
    state: str,
    expect: str | None,
    units: int,
    stock: int | None = 2,
    limit: int | None = None,
    pid: str = "P1",
) -> PointsTx:
    return PointsTx(
        pid,
        rev,
        head(rev + 1, pid),
        moves=(move(f"redeem:{rid}:{rev}", pid=pid),),
        redemption=redemption(rid, state, pid=pid),
        redemption_expect_state=expect,
        stock=StockTake("R-MUG", units, stock, "2026-02", limit),
    )


def test_a_redemption_is_created_once_and_moves_only_from_the_expected_state(store: Any) -> None:
    store.put_reward(reward(stock=None))
    assert store.commit_points(spend_tx(0, "R1", R_PENDING, None, 1))
    assert not store.commit_points(spend_tx(1, "R1", R_PENDING, None, 1))  # exists already
    assert not store.commit_points(spend_tx(1, "R1", R_CANCELLED, R_FULFILLED, -1))  # it is pending
    assert store.commit_points(spend_tx(1, "R1", R_FULFILLED, R_PENDING, 0))
    assert not store.commit_points(spend_tx(2, "R1", R_CANCELLED, R_PENDING, -1))  # fulfilled now
    got = store.redemption("P1", "R1")
    assert got is not None and got.state == R_FULFILLED and got.draws == (Draw("a", 50),)
    assert store.redemption("P1", "R2") is None


def test_the_redemptions_of_a_period_by_partner_and_request(store: Any) -> None:
    store.put_reward(reward(stock=None))
    for pid, rid, period in [
        ("P2", "R1", "2026-02"),
        ("P1", "R2", "2026-02"),
        ("P1", "R1", "2026-03"),
        ("P1", "R0", "2026-02"),
    ]:
        h = store.points_head(pid)
        tx = spend_tx(h.rev if h else 0, rid, R_PENDING, None, 1, stock=None, pid=pid)
        r = redemption(rid, period=period, pid=pid)
        assert store.commit_points(dataclasses.replace(tx, redemption=r))
    assert [(r.partner_id, r.request_id) for r in store.redemptions("2026-02")] == [
        ("P1", "R0"),
        ("P1", "R2"),
        ("P2", "R1"),
    ]
    assert [r.request_id for r in store.redemptions("2026-03")] == ["R1"]
    assert [r.request_id for r in store.partner_redemptions("P1")] == ["R0", "R1", "R2"]
    assert store.redemptions("2026-04") == []


def test_stock_never_goes_over_or_under(store: Any) -> None:
    assert store.put_reward(reward(stock=2))
    assert not store.commit_points(
        dataclasses.replace(
            spend_tx(0, "X", R_PENDING, None, 1), stock=StockTake("NOPE", 1, None, "2026-02", None)
        )
    )
    assert not store.commit_points(spend_tx(0, "R0", R_PENDING, None, -1))  # under 0
    assert store.commit_points(spend_tx(0, "R1", R_PENDING, None, 1))
    assert store.commit_points(spend_tx(1, "R2", R_PENDING, None, 1))
    assert not store.commit_points(spend_tx(2, "R3", R_PENDING, None, 1))  # the stock is 2
    assert store.reward("R-MUG").taken == 2  # type: ignore[union-attr]
    assert store.commit_points(spend_tx(2, "R2", R_CANCELLED, R_PENDING, -1))  # given back
    assert store.reward("R-MUG").taken == 1  # type: ignore[union-attr]
    assert store.commit_points(spend_tx(3, "R3", R_PENDING, None, 1))
    assert store.limit_used("P1", "R-MUG", "2026-02") == 2
    assert not store.commit_points(spend_tx(4, "R4", R_PENDING, None, 1, stock=0))


def test_the_limit_per_partner_and_period(store: Any) -> None:
    store.put_reward(reward(stock=None))
    assert not store.commit_points(spend_tx(0, "R0", R_PENDING, None, 1, stock=None, limit=0))
    assert store.commit_points(spend_tx(0, "R1", R_PENDING, None, 1, stock=None, limit=2))
    assert store.commit_points(spend_tx(1, "R2", R_PENDING, None, 1, stock=None, limit=2))
    assert not store.commit_points(spend_tx(2, "R3", R_PENDING, None, 1, stock=None, limit=2))
    assert store.limit_used("P1", "R-MUG", "2026-02") == 2
    assert store.limit_used("P1", "R-MUG", "2026-03") == 0 and store.limit_used("P2", "R-MUG", "2026-02") == 0
    assert store.commit_points(spend_tx(2, "R1", R_CANCELLED, R_PENDING, -1, stock=None, limit=2))
    assert store.limit_used("P1", "R-MUG", "2026-02") == 1
    assert not store.commit_points(spend_tx(3, "Rx", R_CANCELLED, None, -2, stock=None, limit=2))  # under 0
    assert store.commit_points(spend_tx(3, "R3", R_PENDING, None, 1, stock=None, limit=2))
    assert not store.commit_points(
        spend_tx(0, "Q1", R_CANCELLED, None, -1, stock=None, pid="P2")
    )  # no counter


def test_put_reward_keeps_taken_and_says_when_nothing_changed(store: Any) -> None:
    assert store.put_reward(reward("R-B", stock=1))
    assert store.put_reward(reward("R-A", stock=None, limit=3, catalog_version="v1"))
    assert not store.put_reward(reward("R-B", stock=1))
    take = StockTake("R-B", 1, 1, "2026-02", None)
    assert store.commit_points(dataclasses.replace(spend_tx(0, "R1", R_PENDING, None, 1), stock=take))
    assert not store.put_reward(
        dataclasses.replace(reward("R-B", stock=1), taken=0)
    )  # taken is not a definition
    assert store.put_reward(dataclasses.replace(reward("R-B", stock=5), name="Big mug"))
    got = store.reward("R-B")
    assert got is not None and (got.taken, got.stock, got.name) == (1, 5, "Big mug")
    assert [r.reward_id for r in store.rewards()] == ["R-A", "R-B"]
    assert store.rewards()[0] == reward("R-A", stock=None, limit=3, catalog_version="v1")
    assert store.reward("R-C") is None


def test_postings_by_partner_and_by_period(store: Any) -> None:
    seed(store, "P1")
    seed(store, "P2")
    tx = PointsTx(
        "P1", 1, head(2), moves=(move("m2"),), postings=(post("e2", "2026-02"), post("e3", "2026-01"))
    )
    assert store.commit_points(tx)
    assert [p.entry_id for p in store.points_postings("P1")] == ["e-P1", "e3", "e2"]
    assert [p.entry_id for p in store.points_postings(period="2026-01")] == ["e-P1", "e3", "e-P2"]
    assert [p.entry_id for p in store.points_postings("P1", "2026-02")] == ["e2"]
    with pytest.raises(ValueError):
        store.points_postings()


def test_points_items_stay_bounded(dynamo_store: DynamoStore) -> None:
    s = dynamo_store
    lots = tuple(lot(f"l{i:03d}-{'x' * 40}", 10) for i in range(MAX_DRAWS))
    assert s.commit_points(
        PointsTx("P1", 0, head(1, active=10 * MAX_DRAWS, earned=10 * MAX_DRAWS), new_lots=lots)
    )
    draws = tuple(Draw(x.lot_id, 10) for x in lots)
    big = Move(
        "redeem:" + "r" * 200,
        "P1",
        "2026-02",
        SPEND,
        -10 * MAX_DRAWS,
        "2026-02-03T00:00:00Z",
        "m" * 200,
        draws,
        "r" * 200,
    )
    changes = tuple(LotChange(x.lot_id, 10, ACTIVE, 0, ACTIVE) for x in lots)
    tx = PointsTx(
        "P1", 1, head(2, earned=10 * MAX_DRAWS, spent=10 * MAX_DRAWS), lot_changes=changes, moves=(big,)
    )
    assert s.commit_points(tx)  # 80 lot changes, the head and the move with its marker: one transaction
    sizes = item_sizes(s, "POINTS#P1")
    assert max(sizes.values()) < 8 * 1024


def test_a_close_applied_by_two_threads_at_once_applies_once(store: Any) -> None:
    racing_close(store)  # moto handles one request at a time (tests/conftest.py: atomic_dynamodb)


def racing_close(store: Any) -> None:
    seed(store)
    it = CloseIntent(
        "P1", "2027-01", "v1", "Gold", Decimal("1.5"), Decimal(-2000), -300,
        (CourseAward("p2", "CERT-SALES", D, "C2"),), 500, 30, 12, True, Decimal("0.01"),
    )  # fmt: skip
    results: list[bool] = []
    gate = threading.Barrier(4)

    def run() -> None:
        gate.wait()
        results.append(PointsLedger(store).apply_close(it, "2027-02-01T00:00:00Z"))

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]
    h = store.points_head("P1")
    # a (100, expires 2027-01-31) expires; b activated; 300 deducted: b's 100, the course's 500 - 200
    assert h is not None and (h.rev, h.expired, h.deducted, h.debt, h.active, h.pending) == (
        2,
        100,
        300,
        0,
        300,
        0,
    )
    assert store.has_move("P1", "close:2027-01") and len(store.moves("P1", "2027-01")) == 5


def test_memory_reads_while_another_thread_commits(memory_store: Any) -> None:
    """The in-memory store's reads iterate under its lock: a commit in another thread never
    breaks them ("dictionary changed size during iteration"; DynamoDB reads are single calls)."""
    store = memory_store
    errors: list[BaseException] = []
    done = threading.Event()

    def read() -> None:
        try:
            while not done.is_set():
                store.lots("P1"), store.moves("P1"), store.awarded_courses("P1"), store.points_postings("P1")
        except BaseException as e:
            errors.append(e)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    reader = threading.Thread(target=read)
    reader.start()
    try:
        for i in range(3000):
            tx = PointsTx(
                "P1", i, head(i + 1), new_lots=(lot(f"l{i}"),), moves=(move(f"m{i}"),),
                courses=((f"p{i}", "C"),), postings=(post(f"e{i}"),),
            )  # fmt: skip
            assert store.commit_points(tx)
            if errors:
                break
    finally:
        done.set()
        reader.join()
        sys.setswitchinterval(old)
    assert errors == []


def test_a_memory_store_deep_copies_with_a_lock_of_its_own(memory_store: Any) -> None:
    import copy

    seed(memory_store)
    twin = copy.deepcopy(memory_store)
    assert repr(vars(twin)["_points_lock"]) == repr(vars(memory_store)["_points_lock"])
    assert twin._points_lock is not memory_store._points_lock
    assert snapshot(twin) == snapshot(memory_store)
    tx = PointsTx("P1", 1, head(2), moves=(move("m2"),))
    assert twin.commit_points(tx) and memory_store.commit_points(tx)  # independent copies
