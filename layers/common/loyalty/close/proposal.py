"""The payout proposal's summary: totals, top payouts, tier moves, anomalies."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from loyalty.close.review import CloseLine
from loyalty.kernel.money import ZERO, to_cents


def summarize(period: str, run: str, lines: Iterable[CloseLine], top: int = 20) -> dict[str, Any]:
    by_tier: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    by_segment: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    moves: Counter[str] = Counter()
    tops: list[tuple[Decimal, str, str]] = []
    anomalies: list[dict[str, str]] = []
    partners = 0
    dormant = 0
    total = {"payout": ZERO, "carried_out": ZERO, "matured_now": ZERO, "net_sales": ZERO}
    payees = 0
    for ln in lines:
        partners += 1
        dormant += ln.dormant
        for key, bucket in ((ln.tier_after, by_tier), (ln.segment, by_segment)):
            b = bucket[key]
            b["partners"] += 1
            b["payout"] += ln.payout
            b["net_sales"] += ln.net_sales
        total["payout"] += ln.payout
        total["carried_out"] += ln.carried_out
        total["matured_now"] += ln.matured_now
        total["net_sales"] += ln.net_sales
        payees += ln.payout > 0
        moves[ln.tier_change] += 1
        if ln.payout > 0:
            tops.append((ln.payout, ln.partner_id, ln.name))
            tops.sort(key=lambda t: (-t[0], t[1]))
            del tops[top:]
        for a in ln.anomalies:
            anomalies.append({"partner_id": ln.partner_id, "anomaly": a})

    def plain(d: Mapping[str, Mapping[str, Decimal]]) -> dict[str, dict[str, Any]]:
        return {
            k: {kk: int(vv) if kk == "partners" else str(to_cents(vv)) for kk, vv in sorted(v.items())}
            for k, v in sorted(d.items())
        }

    return {
        "period": period,
        "run": run,
        "partners": partners,
        "payees": payees,
        "dormant": dormant,
        "totals": {k: str(v) for k, v in total.items()},
        "by_currency": {"EUR": str(total["payout"])},
        "by_tier": plain(by_tier),
        "by_segment": plain(by_segment),
        "tier_moves": dict(sorted(moves.items())),
        "top": [{"partner_id": p, "name": n, "payout": str(a)} for a, p, n in tops],
        "anomalies": anomalies[:200],
        "anomaly_count": len(anomalies),
    }
