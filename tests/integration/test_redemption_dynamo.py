"""Redemption on DynamoDB (moto): racing redemptions, and a crash after every AWS call of a
redeem, a cancel and a fulfil, each retried with the same request id.

moto runs a request's checks and writes without a lock of its own, while DynamoDB applies a
transaction atomically: `loyalty_local.atomic.atomic_dynamodb` (installed for every test in tests/conftest.py) serialises moto's handling of each DynamoDB
request (one request at a time, as a linearizable service would) - the threads still interleave
freely between their reads, their planning and their commits, which is where the races are.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import botocore.handlers
import pytest
from loyalty.adapters.dynamo import DynamoStore
from loyalty.adapters.memory.kernel import MemoryCipher
from loyalty.points.model import R_CANCELLED, R_FULFILLED, RECREDIT, SPEND, Lot, PointsHead
from loyalty.points.redemptions import RedeemResult, Redemptions
from loyalty_local.cloud import REGION
from loyalty_local.seams import FaultPlan

from tests.contract.conftest import make_table
from tests.unit.rewards_world import (
    grant,
    invariant,
    last_points_race,
    last_unit_race,
    lot,
    reward,
    service,
)

N = 8
FN = "RedeemTest"


class SlowDynamo(DynamoStore):
    """Reads of lots take a little longer: the racing planners overlap."""

    def lots(self, partner_id: str) -> list[Lot]:
        got = super().lots(partner_id)
        threading.Event().wait(0.02)
        return got


def store(cls: type[DynamoStore] = DynamoStore) -> DynamoStore:
    return cls(make_table(), REGION, cipher=MemoryCipher())


def test_partners_racing_for_the_last_unit_on_dynamodb() -> None:
    last_unit_race(store(SlowDynamo), N)


def test_requests_racing_for_the_last_points_on_dynamodb() -> None:
    last_points_race(store(SlowDynamo), N)


# -- a crash after every AWS call ---------------------------------------------------------------------
@pytest.fixture()
def faults() -> Iterator[FaultPlan]:
    """A fault plan of this test's own, hooked into every botocore session created meanwhile."""
    plan = FaultPlan()
    entry = ("after-call.*.*", plan.after_call)
    botocore.handlers.BUILTIN_HANDLERS.append(entry)
    try:
        yield plan
    finally:
        botocore.handlers.BUILTIN_HANDLERS.remove(entry)


def calls_of(plan: FaultPlan, op: Callable[[], RedeemResult]) -> int:
    plan.begin(FN)
    try:
        assert op().ok
    finally:
        plan.end()
    return plan.last_calls[FN]


def crash(plan: FaultPlan, n: int, op: Callable[[], RedeemResult]) -> None:
    plan.crash_after(FN, n)
    plan.begin(FN)
    try:
        with pytest.raises(RuntimeError, match="injected crash"):
            op()
    finally:
        plan.end()
    assert plan.fired[-1][:2] == (FN, n)


def exact(s: DynamoStore, svc: Redemptions, pid: str, live: int, cancelled: int, fulfilled: int) -> None:
    """Balance, stock, limit, moves and postings are what the successful requests alone make."""
    head = s.points_head(pid)
    assert head is not None
    invariant(head, s.lots(pid))
    assert head.spent == 100 * (live + fulfilled) and head.active == 10_000 - head.spent
    rew = s.reward("MUG")
    assert rew is not None and rew.taken == live + fulfilled
    assert s.limit_used(pid, "MUG", "2026-03") == live + fulfilled
    mine = s.partner_redemptions(pid)
    assert [r.state for r in mine].count(R_CANCELLED) == cancelled
    assert [r.state for r in mine].count(R_FULFILLED) == fulfilled
    moves = s.moves(pid)
    assert sum(m.kind == SPEND for m in moves) == live + cancelled + fulfilled
    assert sum(m.kind == RECREDIT for m in moves) == cancelled
    # each redemption books once, each cancel reverses once, each fulfilment delivers once
    assert len(s.points_postings(partner_id=pid)) == live + 2 * cancelled + 2 * fulfilled


def test_crash_after_every_aws_call_then_retry_leaves_balance_and_stock_exact(faults: FaultPlan) -> None:
    s = store()
    pid = "P00001"
    grant(s, pid, [lot("bonus:a", 4000, "2026-06-30"), lot("bonus:b", 6000, "2026-12-31")])
    s.put_reward(reward("MUG", 100, stock=500, limit_per_period=500))
    svc = service(s)
    n_redeem = calls_of(faults, lambda: svc.redeem(pid, "MUG", "warm"))
    assert n_redeem >= 6  # reads (redemption, reward, head, lots, limit) and the transaction
    live, cancelled, fulfilled = 1, 0, 0
    for n in range(1, n_redeem + 1):
        rid = f"R{n}"
        crash(faults, n, lambda rid=rid: svc.redeem(pid, "MUG", rid))
        again = svc.redeem(pid, "MUG", rid)
        assert again.ok and again.replayed == (n == n_redeem), n  # only the commit's crash had committed
        live += 1
        exact(s, svc, pid, live, cancelled, fulfilled)

    n_cancel = calls_of(faults, lambda: svc.cancel(pid, "warm", "olga", "warm up"))
    live, cancelled = live - 1, cancelled + 1
    for n in range(1, n_cancel + 1):
        rid = f"R{n}"
        crash(faults, n, lambda rid=rid: svc.cancel(pid, rid, "olga", "crash test"))
        again = svc.cancel(pid, rid, "olga", "crash test")
        assert again.ok and again.redemption is not None and again.redemption.state == R_CANCELLED
        live, cancelled = live - 1, cancelled + 1
        exact(s, svc, pid, live, cancelled, fulfilled)

    svc.redeem(pid, "MUG", "F0")
    n_fulfil = calls_of(faults, lambda: svc.fulfil(pid, "F0", "ops"))
    fulfilled += 1
    for n in range(1, n_fulfil + 1):
        rid = f"F{n}"
        assert svc.redeem(pid, "MUG", rid).ok
        live += 1
        crash(faults, n, lambda rid=rid: svc.fulfil(pid, rid, "ops"))
        again = svc.fulfil(pid, rid, "ops")
        assert again.ok and again.redemption is not None and again.redemption.state == R_FULFILLED
        live, fulfilled = live - 1, fulfilled + 1
        exact(s, svc, pid, live, cancelled, fulfilled)
    assert isinstance(s.points_head(pid), PointsHead)
