"""Redemptions racing on the in-memory store (whose commit is all-or-nothing under a lock, like
a DynamoDB transaction): reads are slowed so that every thread plans on the same state before
any commits, and the losers must re-read, re-plan and be refused on fresh state."""

from __future__ import annotations

import time
from collections.abc import Callable

from loyalty.adapters.memory import MemoryStore
from loyalty.points.model import Lot, PointsHead
from loyalty.points.redemptions import RedeemResult

from tests.unit.rewards_world import (
    grant,
    invariant,
    last_points_race,
    last_unit_race,
    lot,
    race,
    reward,
    service,
)

N = 12


class SlowReads(MemoryStore):
    """Every read of a partner's lots waits a little: the planners overlap."""

    def lots(self, partner_id: str) -> list[Lot]:
        got = super().lots(partner_id)
        time.sleep(0.01)
        return got

    def points_head(self, partner_id: str) -> PointsHead | None:
        got = super().points_head(partner_id)
        time.sleep(0.005)
        return got


def test_partners_racing_for_the_last_unit_exactly_one_wins() -> None:
    last_unit_race(SlowReads(), N)


def test_requests_racing_for_the_last_points_exactly_one_wins() -> None:
    last_points_race(SlowReads(), N)


def test_one_request_id_sent_concurrently_redeems_once() -> None:
    s = SlowReads()
    pid = "P00001"
    grant(s, pid, [lot("bonus:a", 5000, "2026-12-31")])
    s.put_reward(reward("MUG", 500))
    svc = service(s)
    results = race([lambda: svc.redeem(pid, "MUG", "same") for _ in range(N)])
    assert all(r.ok for r in results)
    assert sum(not r.replayed for r in results) == 1
    head = s.points_head(pid)
    assert head is not None and head.spent == 500 and head.active == 4500
    invariant(head, s.lots(pid))


def test_cancel_racing_with_fulfil_one_of_them_wins() -> None:
    s = SlowReads()
    pid = "P00001"
    grant(s, pid, [lot("bonus:a", 5000, "2026-12-31")])
    s.put_reward(reward("MUG", 500, stock=5))
    svc = service(s)
    assert svc.redeem(pid, "MUG", "R1").ok
    calls: list[Callable[[], RedeemResult]] = []
    for i in range(N):
        calls.append(
            (lambda: svc.cancel(pid, "R1", "olga", "race"))
            if i % 2
            else (lambda: svc.fulfil(pid, "R1", "ops"))
        )
    results = race(calls)
    stored = s.redemption(pid, "R1")
    assert stored is not None
    head = s.points_head(pid)
    assert head is not None
    invariant(head, s.lots(pid))
    rew = s.reward("MUG")
    assert rew is not None
    if stored.state == "cancelled":
        assert head.spent == 0 and rew.taken == 0
    else:
        assert head.spent == 500 and rew.taken == 1
    codes = {r.refusal.code for r in results if r.refusal}
    assert codes <= {"not_cancellable", "not_fulfillable"} and len(codes) == 1
