"""Targets progress, points (balance, history), the catalog and redemptions, and the rank."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from loyalty.close.runs import FINISHED
from loyalty.incentives.engine import PartnerPeriod
from loyalty.incentives.targets import SoldMonths, TargetBonuses, progress
from loyalty.incentives.targets import standing as target_standing
from loyalty.kernel.i18n import Lang, number_text, percent_text
from loyalty.kernel.periods import PERIOD_RE, months_back
from loyalty.kernel.ports import BlobStore, Notifier
from loyalty.points.balances import balance_of
from loyalty.points.model import Redemption
from loyalty.points.redeem import REQUEST_CONFLICT, check_reward, n, spendable
from loyalty.points.redemptions import REQUEST_RE, from_program
from loyalty.portal.errors import PortalError
from loyalty.portal.paging import BadCursor
from loyalty.portal.ports import PortalRecords
from loyalty.portal.reads import PortalStore, Standing
from loyalty.portal.texts import day, money, period
from loyalty.recognition.leaderboard import Place
from loyalty.recognition.publish import read_board

HISTORY_MONTHS = 36  # points history goes back this far (lots expire after at most 60 months)
HISTORY_SCAN = 12  # months read per history page at most (one Query a month)


def targets(store: PortalStore, st: Standing, lang: Lang) -> dict[str, Any]:
    """Month-to-date progress on the targets whose interval includes this month (the close's own
    evaluation, `loyalty.incentives.targets`, on the month totals as they stand)."""
    pid = st.partner.partner_id
    if st.rules is None:
        return {"partner_id": pid, "targets": []}
    months = store.month_totals(pid)
    ctx = PartnerPeriod(pid, st.partner.segment, st.partner.cohort, st.month, st.rules, months, (), {})
    sold = SoldMonths(months)
    out = []
    for _, t in TargetBonuses(store.target_sets()).targets_for(ctx):
        if st.month not in t.months:
            continue
        p = progress(t, target_standing(t, sold, st.month), st.month)
        eur = t.metric == "net_sales"
        out.append(
            {
                "target_id": p.target_id,
                "interval": p.interval,
                "metric": p.metric,
                "goal": money(p.goal_total, "EUR", lang)
                if eur
                else {"value": f"{p.goal_total:f}", "text": number_text(p.goal_total, lang)},
                "actual": money(p.actual, "EUR", lang)
                if eur
                else {"value": f"{p.actual:f}", "text": number_text(p.actual, lang)},
                "attainment": {"ratio": f"{p.attainment:f}", "text": percent_text(p.attainment, lang)},
                "days_left": p.days_left,
                "projected_bonus": money(p.projected_bonus, "EUR", lang),
                "text": p.text,
            }
        )
    return {"partner_id": pid, "month": st.month, "targets": out}


def points(store: PortalStore, st: Standing, today: dt.date, lang: Lang) -> dict[str, Any]:
    pid = st.partner.partner_id
    soon = st.rules.points.expiring_soon_days if st.rules else 60
    b = balance_of(store.points_head(pid), store.lots(pid), today, soon)
    return {
        "partner_id": pid,
        "balance": b.balance,
        "active": b.active,
        "pending": b.pending,
        "debt": b.debt,
        "expiring_soon": b.expiring_soon,
        "expiring_on": day(b.expiring_on, lang),
        "expiring_within_days": soon,
        "lifetime": b.lifetime_earned,
        "spent": b.spent,
        "expired": b.expired,
        "text": number_text(b.balance, lang),
    }


def history(
    store: PortalStore, partner_id: str, cursor: str | None, today: dt.date, lang: Lang
) -> dict[str, Any]:
    """The partner's points moves, newest month first: a page is the next months that have moves
    (at most HISTORY_SCAN months read, one Query each); the cursor is the month to read next."""
    start = cursor or today.isoformat()[:7]
    if not PERIOD_RE.match(start):
        raise BadCursor("a points history cursor is a month (YYYY-MM)")
    oldest = months_back(today.isoformat()[:7], HISTORY_MONTHS)[0]
    moves: list[dict[str, Any]] = []
    month = start
    scanned = 0
    while month >= oldest and scanned < HISTORY_SCAN and not moves:
        for m in sorted(store.moves(partner_id, month), key=lambda m: (m.at, m.move_id), reverse=True):
            moves.append({**m.to_json(), "month": period(m.period, lang)})
        scanned += 1
        month = months_back(month, 2)[0]
    return {"partner_id": partner_id, "moves": moves, "cursor": month if month >= oldest else None}


def catalog(store: PortalStore, st: Standing, today: dt.date, lang: Lang) -> dict[str, Any]:
    """Every reward with whether the partner may redeem it now and, if not, why (the refusal the
    redemption would give: tier, stock, monthly limit, validity, points)."""
    pid = st.partner.partner_id
    rank = {t.name: i for i, t in enumerate(st.rules.tiers)} if st.rules else {}
    head = store.points_head(pid)
    can, _ = spendable(head, store.lots(pid))
    month = today.isoformat()[:7]
    out = []
    for r in sorted(store.rewards(), key=lambda r: (r.points, r.reward_id)):
        used = store.limit_used(pid, r.reward_id, month) if r.limit_per_period is not None else 0
        why = check_reward(r, r.reward_id, today, st.tier, rank, used)
        refusal = why.to_json() if why else None
        if refusal is None and r.points > can:
            refusal = {
                "code": "insufficient_points",
                "message": f"{n(r.points)} points needed, {n(can)} spendable",
            }
        out.append(
            {
                "reward_id": r.reward_id,
                "name": r.name,
                "description": r.description,
                "points": r.points,
                "points_text": number_text(r.points, lang),
                "stock_left": None if r.stock is None else max(r.stock - r.taken, 0),
                "min_tier": r.min_tier,
                "available": refusal is None,
                "refusal": refusal,
            }
        )
    return {"partner_id": pid, "spendable": can, "rewards": out}


def redeem(
    store: PortalStore,
    notifier: Notifier | None,
    clock: Callable[[], dt.datetime],
    partner_id: str,
    reward_id: str,
    key: str,
) -> tuple[int, dict[str, Any]]:
    """One unit of a reward under the caller's idempotency key: 201 new, 200 replayed; a refusal
    is 422 with its code and numbers (409 when the key was used for another request)."""
    if not REQUEST_RE.match(key):
        raise PortalError(
            400, "Idempotency-Key must be 1 to 128 printable characters", [{"field": "Idempotency-Key"}]
        )
    got = from_program(store, store, clock, notifier).redeem(partner_id, reward_id, key)
    if got.refusal is not None:
        status = 409 if got.refusal.code == REQUEST_CONFLICT else 422
        raise PortalError(status, got.refusal.message, [{"code": got.refusal.code}])
    assert got.redemption is not None
    return (200 if got.replayed else 201), {
        "replayed": got.replayed,
        "redemption": redemption_json(got.redemption),
    }


def redemption_json(r: Redemption) -> dict[str, Any]:
    return {
        "request_id": r.request_id,
        "reward_id": r.reward_id,
        "reward_name": r.reward_name,
        "points": r.points,
        "state": r.state,
        "requested_at": r.requested_at,
        "updated_at": r.updated_at,
        "note": r.note,
    }


def redemptions(records: PortalRecords, partner_id: str, cursor: str | None, limit: int) -> dict[str, Any]:
    page = records.redemptions_page(partner_id, cursor, limit)
    return {
        "partner_id": partner_id,
        "redemptions": [redemption_json(r) for r in page.items],
        "cursor": page.cursor,
    }


def place_json(x: Place | None, metric: str, published: set[str], lang: Lang) -> dict[str, Any] | None:
    """A place; a neighbour outside the published top keeps its name and id to itself."""
    if x is None:
        return None
    value = Decimal(x.value)
    text = money(value, "EUR", lang)["text"] if metric == "net_sales" else number_text(value, lang)
    shown = x.partner_id in published
    return {
        "rank": x.rank,
        "partner_id": x.partner_id if shown else None,
        "name": x.name if shown else None,
        "value": f"{value:f}",
        "text": text,
    }


def rank(store: PortalStore, blobs: BlobStore, st: Standing, lang: Lang) -> dict[str, Any]:
    """The partner's place on its segment's board of the latest finished close, its neighbours,
    and the published top places."""
    pid, segment = st.partner.partner_id, st.partner.segment
    finished = sorted((c.period for c in store.list_closes() if c.status == FINISHED), reverse=True)
    for p in finished[:3]:  # the latest close with a board for the segment
        pub = read_board(blobs, p, segment)
        if pub is None:
            continue
        board = pub.board
        above, own, below = board.around(pid)
        top = board.top(pub.top_n)
        shown = {x.partner_id for x in top} | {pid}
        return {
            "partner_id": pid,
            **period(p, lang),
            "segment": segment,
            "metric": board.metric,
            "ranked": own is not None,
            "of": len(board.places),
            "place": place_json(own, board.metric, shown, lang),
            "above": place_json(above, board.metric, shown, lang),
            "below": place_json(below, board.metric, shown, lang),
            "top": [place_json(x, board.metric, shown, lang) for x in top],
        }
    return {"partner_id": pid, "segment": segment, "ranked": False, "period": None, "top": []}
