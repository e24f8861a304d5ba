"""Test harness of catalog and redemption: a partner's points granted as lots through one
`PointsTx` (what a close or a bonus writes), the default rules, a fixed clock and rewards."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from loyalty.points.model import ACTIVE, BONUS, PENDING, Lot, PointsHead, PointsTx, Reward
from loyalty.points.ports import PointsStore
from loyalty.points.redemptions import RedeemResult, Redemptions
from loyalty.program.rules import RuleVersion, parse_rules
from loyalty_factories.small import RULES

NOW = dt.datetime(2026, 3, 10, 9, 30, tzinfo=dt.UTC)
DEFAULT_RULES = parse_rules(RULES.decode())
TIER_RANK = {t.name: i for i, t in enumerate(DEFAULT_RULES.tiers)}


def lot(lot_id: str, points: int, expires_on: str, state: str = ACTIVE, pid: str = "P00001") -> Lot:
    exp = dt.date.fromisoformat(expires_on)
    return Lot(
        lot_id,
        pid,
        BONUS,
        "test",
        "2026-01",
        "v1",
        points,
        points,
        state,
        dt.date(2026, 1, 31),
        dt.date(2026, 1, 31),
        exp,
    )


def grant(store: PointsStore, pid: str, lots: Sequence[Lot]) -> PointsHead:
    """Commit new lots on top of the partner's head (as earned points)."""
    head = store.points_head(pid) or PointsHead(pid)
    active = sum(x.remaining for x in lots if x.state == ACTIVE)
    pending = sum(x.remaining for x in lots if x.state == PENDING)
    new = PointsHead(
        pid,
        rev=head.rev + 1,
        pending=head.pending + pending,
        active=head.active + active,
        debt=head.debt,
        earned=head.earned + active + pending,
        spent=head.spent,
        expired=head.expired,
        deducted=head.deducted,
    )
    assert store.commit_points(PointsTx(pid, head.rev, new, new_lots=tuple(lots)))
    return new


def expire_lot(store: PointsStore, pid: str, lot_id: str) -> None:
    """What a close does to a due lot: what is left expires (the head follows)."""
    from loyalty.points.model import EXPIRED, LotChange

    cur = next(x for x in store.lots(pid) if x.lot_id == lot_id)
    head = store.points_head(pid)
    assert head is not None
    new = PointsHead(
        pid,
        rev=head.rev + 1,
        pending=head.pending,
        active=head.active - cur.remaining,
        debt=head.debt,
        earned=head.earned,
        spent=head.spent,
        expired=head.expired + cur.remaining,
        deducted=head.deducted,
    )
    ch = LotChange(lot_id, cur.remaining, cur.state, 0, EXPIRED)
    assert store.commit_points(PointsTx(pid, head.rev, new, lot_changes=(ch,)))


def reward(rid: str = "MUG", points: int = 500, **kw: Any) -> Reward:
    base: dict[str, Any] = {
        "reward_id": rid,
        "name": f"{rid} reward",
        "description": "",
        "points": points,
        "stock": None,
        "limit_per_period": None,
        "valid_from": None,
        "valid_to": None,
        "min_tier": None,
        "fmv_eur": Decimal("12.50"),
    }
    base.update(kw)
    return Reward(**base)


def service(
    store: PointsStore,
    tier: str = "Bronze",
    rules: RuleVersion = DEFAULT_RULES,
    now: dt.datetime = NOW,
    **kw: Any,
) -> Redemptions:
    return Redemptions(store, lambda _pid: tier, lambda _pid: rules, lambda: now, **kw)


def invariant(head: PointsHead, lots: Sequence[Lot]) -> None:
    """The head's invariant and every lot within bounds."""
    assert head.pending + head.active - head.debt == head.earned - head.spent - head.expired - head.deducted
    assert head.active >= 0 and head.pending >= 0
    assert all(0 <= x.remaining <= x.points for x in lots)
    assert head.active == sum(x.remaining for x in lots if x.state == ACTIVE)


class TogetherFirst:
    """A store whose lots each thread reads the first time only once `n` threads have read them:
    every racer plans on the same state, so all commits but one must fail and be planned again
    (the race happens whatever the machine's load; later reads pass straight through)."""

    def __init__(self, store: PointsStore, n: int) -> None:
        self._store = store
        self._gate = threading.Barrier(n, timeout=30)
        self._seen: set[int] = set()
        self._lock = threading.Lock()

    def lots(self, partner_id: str) -> list[Lot]:
        got = self._store.lots(partner_id)
        with self._lock:
            first = threading.get_ident() not in self._seen
            self._seen.add(threading.get_ident())
        if first:
            self._gate.wait()
        return got

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def race(calls: list[Callable[[], RedeemResult]]) -> list[RedeemResult]:
    """Every call started at once (a barrier), each in its own thread."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], RedeemResult]) -> RedeemResult:
        start.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def last_unit_race(s: PointsStore, n: int) -> None:
    """n partners, each able to pay, race for the one unit of a reward: exactly one wins."""
    pids = [f"P{i:05d}" for i in range(1, n + 1)]
    for pid in pids:
        grant(s, pid, [lot(f"bonus:{pid}", 1000, "2026-12-31", pid=pid)])
    s.put_reward(reward("LAST", 800, stock=1))
    svc = service(TogetherFirst(s, n))  # type: ignore[arg-type]
    results = race([lambda pid=pid: svc.redeem(pid, "LAST", f"req-{pid}") for pid in pids])
    winners = [r for r in results if r.ok]
    assert len(winners) == 1
    assert sorted(r.refusal.code for r in results if r.refusal) == ["out_of_stock"] * (n - 1)
    assert any(r.attempts > 1 for r in results)  # the race really happened: commits failed
    rew = s.reward("LAST")
    assert rew is not None and rew.taken == 1
    assert len(s.redemptions("2026-03")) == 1
    for pid in pids:
        head = s.points_head(pid)
        assert head is not None
        invariant(head, s.lots(pid))
        won = winners[0].redemption is not None and winners[0].redemption.partner_id == pid
        assert head.active == (200 if won else 1000)


def last_points_race(s: PointsStore, n: int) -> None:
    """n requests of one partner race for all of its points: exactly one wins, nothing negative."""
    pid = "P00001"
    grant(s, pid, [lot("bonus:a", 600, "2026-06-30"), lot("bonus:b", 400, "2026-12-31")])
    s.put_reward(reward("ALL", 1000))
    svc = service(TogetherFirst(s, n))  # type: ignore[arg-type]
    results = race([lambda i=i: svc.redeem(pid, "ALL", f"req-{i}") for i in range(n)])
    assert sum(r.ok for r in results) == 1
    assert sorted(r.refusal.code for r in results if r.refusal) == ["insufficient_points"] * (n - 1)
    assert any(r.attempts > 1 for r in results)
    head = s.points_head(pid)
    assert head is not None and head.active == 0 and head.spent == 1000
    invariant(head, s.lots(pid))
    rew = s.reward("ALL")
    assert rew is not None and rew.taken == 1
    assert {x.lot_id: x.remaining for x in s.lots(pid)} == {"bonus:a": 0, "bonus:b": 0}
