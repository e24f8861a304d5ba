"""(g) Redemption throughput under concurrency on the local cloud (issue 11).

Partners are given points (one bonus lot each, through the points ledger as a close would), a
catalog holds a limited and an unlimited reward, and worker threads redeem with their own
request ids through `loyalty.points.redemptions.Redemptions` on the stack's DynamoDB table:

- `spread`: every thread redeems for its own partners (few conflicts);
- `hot`: all threads redeem for the same few partners and the last units of one reward (every
  commit races: conflicts are retried on fresh state, stock and balances must stay exact).

Prints and returns requests/s, redemptions won, refusals by reason and conflicts retried
(attempts beyond the first). Run: `python bench/redemption.py [partners] [threads] [requests]`.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

CATALOG = b"""version: bench
rewards:
  - id: R-CAP
    name: Cap
    points: 10
    fmv_eur: "5"
  - id: R-LAST
    name: Last units
    points: 50
    stock: 25
    fmv_eur: "40"
"""


def run(partners: int = 200, threads: int = 8, requests: int = 1600) -> dict[str, Any]:
    from loyalty.adapters.dynamo import DynamoStore
    from loyalty.points.redemptions import Redemptions
    from loyalty.points.service import PointsLedger
    from loyalty.program.rules import RuleBook
    from loyalty_local.cloud import LocalCloud
    from loyalty_local.env import REGION

    root = Path(__file__).resolve().parents[1]

    out: dict[str, Any] = {"partners": partners, "threads": threads, "requests": requests}
    with LocalCloud(stack_name="bench-redeem") as cloud:
        cloud.upload("rules/default-program.yaml", (root / "rules/default-program.yaml").read_bytes())
        cloud.run_until_idle()
        cloud.upload("catalog/bench.yaml", CATALOG)
        cloud.run_until_idle()
        store = DynamoStore(cloud.outputs["TableName"], REGION)
        rules = RuleBook(store.rule_versions()).in_effect(dt.date(2026, 9, 1))
        ledger = PointsLedger(store)
        ids = [f"P{i:05d}" for i in range(1, partners + 1)]
        for pid in ids:
            ledger.award_bonus(
                pid,
                "bonus:bench",
                1_000,
                "bench",
                "2026-08",
                rules.version,
                rules.points.liability_eur_per_point,
                "2026-08-31T23:59:59Z",
            )
        service = Redemptions(
            store,
            lambda pid: "Gold",
            lambda pid: rules,
            lambda: dt.datetime(2026, 9, 15, 12, 0, tzinfo=dt.UTC),
        )
        for scenario, pick in (
            ("spread", lambda t, i: (ids[(t * 7919 + i) % len(ids)], "R-CAP")),
            ("hot", lambda t, i: (ids[i % 3], "R-LAST" if i % 4 == 0 else "R-CAP")),
        ):
            out[scenario] = _scenario(service, scenario, pick, threads, requests)
        # exact: every partner's balance and the stock add up to what was redeemed
        taken = store.reward("R-LAST")
        won = sum(
            1
            for pid in ids
            for r in store.partner_redemptions(pid)
            if r.reward_id == "R-LAST" and r.state != "cancelled"
        )
        spent = sum(h.spent for h in store.points_heads(ids).values())
        redeemed_points = sum(r.points for pid in ids for r in store.partner_redemptions(pid))
        out["exact"] = {
            "stock_taken": taken.taken if taken else None,
            "stock_redemptions": won,
            "points_spent": spent,
            "points_redeemed": redeemed_points,
            "ok": taken is not None and taken.taken == won <= 25 and spent == redeemed_points,
        }
    return out


def _scenario(service: Any, name: str, pick: Any, threads: int, requests: int) -> dict[str, Any]:
    results: Counter[str] = Counter()
    attempts = Counter[str]()
    lock = threading.Lock()
    per_thread = requests // threads

    def work(t: int) -> None:
        for i in range(per_thread):
            pid, reward = pick(t, i)
            got = service.redeem(pid, reward, f"{name}-{t}-{i}")
            with lock:
                attempts["extra"] += max(got.attempts - 1, 0)
                results[
                    "won"
                    if got.redemption is not None and not got.replayed
                    else f"refused:{got.refusal.code}"
                    if got.refusal
                    else "replayed"
                ] += 1

    t0 = time.perf_counter()
    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()
    wall = time.perf_counter() - t0
    done = per_thread * threads
    return {
        "requests": done,
        "wall_seconds": round(wall, 2),
        "requests_per_s": round(done / wall, 1),
        "conflicts_retried": attempts["extra"],
        "results": dict(sorted(results.items())),
    }


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    print(json.dumps(run(*args)))  # one line: bench/run.py reads the last line
