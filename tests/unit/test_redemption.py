"""Redemption on the in-memory store: planning, refusals that say why, idempotency by request id,
cancel re-crediting the very lots, fulfilment, the ledger, balances and the fulfilment list."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from loyalty.adapters.memory import MemoryStore
from loyalty.adapters.memory.kernel import MemoryNotifier
from loyalty.points.balances import balance_of, expiring
from loyalty.points.fulfilment import fulfilment_csv
from loyalty.points.model import (
    ACTIVE,
    EXPIRE,
    EXPIRED,
    MAX_DRAWS,
    PENDING,
    R_CANCELLED,
    R_FULFILLED,
    R_PENDING,
    RECREDIT,
    SPEND,
    Draw,
    PointsHead,
    points_account,
)
from loyalty.points.redeem import Refusal, plan_redeem

from tests.unit.rewards_world import NOW, TIER_RANK, expire_lot, grant, invariant, lot, reward, service

P = "P00001"


def world() -> MemoryStore:
    s = MemoryStore()
    grant(
        s,
        P,
        [
            lot("bonus:a", 300, "2026-06-30"),
            lot("bonus:b", 1000, "2026-12-31"),
            lot("bonus:c", 500, "2026-04-30"),
            lot("month:2026-02", 400, "2027-02-28", state=PENDING),
        ],
    )
    return s


def remaining(s: MemoryStore) -> dict[str, int]:
    return {x.lot_id: x.remaining for x in s.lots(P)}


def test_redeem_draws_oldest_expiry_first_and_books_the_points_value() -> None:
    s = world()
    s.put_reward(reward("SPEAKER", 700))
    res = service(s).redeem(P, "SPEAKER", "R1")
    assert res.ok and not res.replayed and res.attempts == 1
    r = res.redemption
    assert r is not None and r.state == R_PENDING and r.period == "2026-03" and r.points == 700
    assert r.draws == (Draw("bonus:c", 500), Draw("bonus:a", 200))
    assert remaining(s) == {"bonus:c": 0, "bonus:a": 100, "bonus:b": 1000, "month:2026-02": 400}
    head = s.points_head(P)
    assert head is not None and head.active == 1100 and head.spent == 700 and head.pending == 400
    invariant(head, s.lots(P))
    (move,) = [m for m in s.moves(P) if m.kind == SPEND]
    assert move.move_id == "redeem:R1" and move.points == -700 and move.draws == r.draws
    (posting,) = s.points_postings(partner_id=P)
    assert (posting.debit, posting.credit, posting.amount) == (
        points_account(P),
        "liability:rewards",
        Decimal("7.00"),
    )
    rew = s.reward("SPEAKER")
    assert rew is not None and rew.taken == 1
    assert s.limit_used(P, "SPEAKER", "2026-03") == 1


def test_insufficient_points_says_how_many_are_needed_active_and_pending() -> None:
    s = world()
    s.put_reward(reward("TV", 2000))
    res = service(s).redeem(P, "TV", "R1")
    assert res.refusal == Refusal(
        "insufficient_points", "insufficient points: 2 000 needed, 1 800 active (400 pending)"
    )
    assert s.points_head(P) is not None and remaining(s)["bonus:b"] == 1000
    assert s.redemption(P, "R1") is None


def test_every_refusal_names_its_reason() -> None:
    s = world()
    s.put_reward(reward("SOON", valid_from=dt.date(2026, 4, 1)))
    s.put_reward(reward("OLD", valid_to=dt.date(2026, 3, 9)))
    s.put_reward(reward("GOLD", 100, min_tier="Gold"))
    s.put_reward(reward("ONE", stock=1))
    s.put_reward(reward("LIM", limit_per_period=1))
    svc = service(s, tier="Silver")
    got = {rid: svc.redeem(P, rid, f"req-{rid}").refusal for rid in ("NOPE", "SOON", "OLD", "GOLD")}
    assert {k: v.code for k, v in got.items() if v} == {
        "NOPE": "unknown_reward",
        "SOON": "reward_not_yet_valid",
        "OLD": "reward_expired",
        "GOLD": "tier_too_low",
    }
    assert got["GOLD"] is not None and "needs Gold or above, tier is Silver" in got["GOLD"].message
    assert got["OLD"] is not None and "2026-03-09" in got["OLD"].message
    assert svc.redeem(P, "ONE", "one-1").ok
    out = svc.redeem(P, "ONE", "one-2").refusal
    assert out is not None and out.code == "out_of_stock" and "all 1 units of ONE are taken" in out.message
    assert svc.redeem(P, "LIM", "lim-1").ok
    lim = svc.redeem(P, "LIM", "lim-2").refusal
    assert lim is not None and lim.code == "limit_reached" and "1 redeemed in 2026-03" in lim.message
    # next month the limit starts again
    assert service(s, tier="Silver", now=dt.datetime(2026, 4, 2, tzinfo=dt.UTC)).redeem(P, "LIM", "lim-3").ok
    assert service(s, tier="Gold").redeem(P, "GOLD", "gold-1").ok


def test_same_request_id_is_replayed_other_content_is_a_conflict() -> None:
    s = world()
    s.put_reward(reward("MUG", 500))
    s.put_reward(reward("CAP", 100))
    svc = service(s)
    first = svc.redeem(P, "MUG", "R1")
    again = svc.redeem(P, "MUG", "R1")
    assert again.replayed and again.redemption == first.redemption
    head = s.points_head(P)
    assert head is not None and head.spent == 500
    clash = svc.redeem(P, "CAP", "R1")
    assert clash.refusal is not None and clash.refusal.code == "request_conflict"
    assert "R1 was already used for reward MUG" in clash.refusal.message
    svc.cancel(P, "R1", "olga", "changed mind")
    late = svc.redeem(P, "MUG", "R1")
    assert late.replayed and late.redemption is not None and late.redemption.state == R_CANCELLED


def test_cancel_recredits_the_very_lots_and_gives_the_unit_back() -> None:
    s = world()
    s.put_reward(reward("SPEAKER", 700, stock=3, limit_per_period=1))
    svc = service(s)
    before = remaining(s)
    svc.redeem(P, "SPEAKER", "R1")
    res = svc.cancel(P, "R1", "olga", "out of colour")
    assert res.ok and res.redemption is not None and res.redemption.state == R_CANCELLED
    assert res.redemption.note == "cancelled by olga: out of colour"
    assert remaining(s) == before
    head = s.points_head(P)
    assert head is not None and head.active == 1800 and head.spent == 0 and head.expired == 0
    invariant(head, s.lots(P))
    rew = s.reward("SPEAKER")
    assert rew is not None and rew.taken == 0 and s.limit_used(P, "SPEAKER", "2026-03") == 0
    (recredit,) = [m for m in s.moves(P) if m.kind == RECREDIT]
    assert recredit.move_id == "redeem:R1:cancel" and recredit.points == 700
    redeem_p, cancel_p = sorted(s.points_postings(partner_id=P), key=lambda p: p.reverses)
    assert cancel_p.reverses == redeem_p.entry_id and cancel_p.amount == redeem_p.amount
    assert (cancel_p.debit, cancel_p.credit) == (redeem_p.credit, redeem_p.debit)
    again = svc.cancel(P, "R1", "olga", "again")
    assert again.replayed and again.redemption == res.redemption
    assert svc.redeem(P, "SPEAKER", "R2").ok  # the limit is free again


def test_cancel_after_a_drawn_lot_expired_expires_its_share_at_once() -> None:
    s = world()
    s.put_reward(reward("SPEAKER", 700))
    svc = service(s)
    svc.redeem(P, "SPEAKER", "R1")  # 500 from bonus:c, 200 from bonus:a
    expire_lot(s, P, "bonus:c")
    res = svc.cancel(P, "R1", "olga", "late")
    assert res.ok
    assert remaining(s) == {"bonus:c": 0, "bonus:a": 300, "bonus:b": 1000, "month:2026-02": 400}
    assert next(x for x in s.lots(P) if x.lot_id == "bonus:c").state == EXPIRED
    head = s.points_head(P)
    assert head is not None and head.active == 1300 and head.expired == 500 and head.spent == 0
    invariant(head, s.lots(P))
    (exp,) = [m for m in s.moves(P) if m.kind == EXPIRE]
    assert exp.points == -500 and exp.draws == (Draw("bonus:c", 500),)
    breakage = [p for p in s.points_postings(partner_id=P) if p.credit == "income:points-breakage"]
    assert [p.amount for p in breakage] == [Decimal("5.00")]


def test_fulfil_moves_the_value_out_of_rewards_due_and_ends_cancelling() -> None:
    s = world()
    s.put_reward(reward("MUG", 500))
    svc = service(s)
    svc.redeem(P, "MUG", "R1")
    res = svc.fulfil(P, "R1", "ops")
    assert res.ok and res.redemption is not None and res.redemption.state == R_FULFILLED
    assert svc.fulfil(P, "R1", "ops").replayed
    no = svc.cancel(P, "R1", "olga", "too late")
    assert no.refusal is not None and no.refusal.code == "not_cancellable"
    assert "is fulfilled" in no.refusal.message
    delivered = [p for p in s.points_postings(partner_id=P) if p.credit == "expense:rewards-delivered"]
    assert [(p.debit, p.amount) for p in delivered] == [("liability:rewards", Decimal("5.00"))]
    svc.redeem(P, "MUG", "R2")
    svc.cancel(P, "R2", "olga", "no")
    nf = svc.fulfil(P, "R2", "ops").refusal
    assert nf is not None and nf.code == "not_fulfillable"
    unknown = svc.cancel(P, "R9", "olga", "?").refusal
    assert unknown is not None and unknown.code == "unknown_request"
    head = s.points_head(P)
    assert head is not None and head.spent == 500
    invariant(head, s.lots(P))


def test_a_plan_needing_more_than_max_draws_lots_is_refused() -> None:
    s = MemoryStore()
    grant(s, P, [lot(f"bonus:{i:03d}", 1, "2026-12-31") for i in range(MAX_DRAWS + 1)])
    s.put_reward(reward("BIG", MAX_DRAWS + 1))
    res = service(s).redeem(P, "BIG", "R1")
    assert res.refusal is not None and res.refusal.code == "too_many_lots"


def test_plan_redeem_spends_nothing_of_pending_lots() -> None:
    lots = [lot("m", 900, "2027-01-31", state=PENDING)]
    got = plan_redeem(
        P,
        reward("MUG", 100),
        "R1",
        PointsHead(P, 1, pending=900, earned=900),
        lots,
        "Bronze",
        TIER_RANK,
        0,
        "2026-03-10T09:30:00Z",
        Decimal("0.01"),
    )
    assert (
        isinstance(got, Refusal) and got.message == "insufficient points: 100 needed, 0 active (900 pending)"
    )


def test_redeemed_notice() -> None:
    s = world()
    s.put_reward(reward("MUG", 500))
    n = MemoryNotifier()
    service(s, notifier=n).redeem(P, "MUG", "R1")
    service(s, notifier=n).redeem(P, "MUG", "R1")
    (msg,) = n.of_type("reward_redeemed")
    assert msg.message["partner_id"] == P and msg.message["balance"] == 1700


def test_balance_and_expiring_soon() -> None:
    s = world()
    head = s.points_head(P)
    today = dt.date(2026, 3, 10)
    soon = expiring(s.lots(P), today, 60)
    assert [x.lot_id for x in soon] == ["bonus:c"]
    b = balance_of(head, s.lots(P), today, 60)
    assert (b.pending, b.active, b.balance, b.expiring_soon, b.expiring_on) == (
        400,
        1800,
        2200,
        500,
        dt.date(2026, 4, 30),
    )
    assert b.to_json()["expiring_on"] == "2026-04-30" and b.lifetime_earned == 2200
    assert balance_of(None, [], today, 60).balance == 0
    assert balance_of(head, s.lots(P), today, 120).expiring_soon == 800


def test_fulfilment_list_is_formula_safe() -> None:
    s = world()
    s.put_reward(reward("MUG", 100))
    svc = service(s)
    svc.redeem(P, "MUG", "R1")
    svc.redeem(P, "MUG", "R2")
    svc.cancel(P, "R2", "olga", '=HYPERLINK("http://x")')
    rows = list(csv.reader(io.StringIO(fulfilment_csv(svc.fulfilment_rows("2026-03")).decode())))
    assert rows[0][:4] == ["period", "partner_id", "request_id", "reward_id"]
    assert [r[2] for r in rows[1:]] == ["R1", "R2"]
    assert rows[1][6] == "12.50" and rows[1][7] == R_PENDING and rows[1][5] == "100"
    assert rows[2][10].startswith("'cancelled by olga") or rows[2][10].startswith("cancelled by olga")
    assert svc.fulfilment_rows("2026-04") == []
    s2 = world()
    s2.put_reward(reward("MUG", 100))
    service(s2).redeem(P, "MUG", "=R3")
    r3 = list(csv.reader(io.StringIO(fulfilment_csv(s2.redemptions("2026-03")).decode())))[1]
    assert r3[2] == "'=R3"
    assert NOW.isoformat()[:7] == "2026-03" and ACTIVE


REWARDS = [reward("A", 150, stock=3), reward("B", 400, limit_per_period=2), reward("C", 900)]
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("redeem"), st.sampled_from("ABC"), st.integers(0, 6)),
        st.tuples(st.just("cancel"), st.just(""), st.integers(0, 6)),
        st.tuples(st.just("fulfil"), st.just(""), st.integers(0, 6)),
        st.tuples(st.just("expire"), st.sampled_from(["bonus:a", "bonus:c"]), st.just(0)),
    ),
    max_size=25,
)


@settings(max_examples=60, deadline=None)
@given(OPS)
def test_any_sequence_keeps_points_stock_and_limits_exact(ops: list[tuple[str, str, int]]) -> None:
    s = world()
    for r in REWARDS:
        s.put_reward(r)
    svc = service(s)
    for op, arg, k in ops:
        rid = f"R{k}"
        if op == "redeem":
            res = svc.redeem(P, arg, rid)
            assert res.ok or res.refusal is not None
        elif op == "cancel":
            svc.cancel(P, rid, "olga", "test")
        elif op == "fulfil":
            svc.fulfil(P, rid, "ops")
        elif next(x for x in s.lots(P) if x.lot_id == arg).state == ACTIVE:
            expire_lot(s, P, arg)
        head = s.points_head(P)
        assert head is not None
        invariant(head, s.lots(P))
        held = [r for r in s.partner_redemptions(P) if r.state != R_CANCELLED]
        assert head.spent == sum(r.points for r in held)
        for r in REWARDS:
            n_held = sum(x.reward_id == r.reward_id for x in held)
            stored = s.reward(r.reward_id)
            assert stored is not None and stored.taken == n_held
            assert r.stock is None or n_held <= r.stock
            assert s.limit_used(P, r.reward_id, "2026-03") == n_held
        for r in s.partner_redemptions(P):
            assert sum(d.points for d in r.draws) == r.points
