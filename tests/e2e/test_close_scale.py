"""One close of 4 000 partners in the local cloud (9 batches): the Distributed Map keeps the parent
execution's history and every payload small whatever the partner count. `make bench` (d) runs
the same close for 10 000 partners and records its history and payload sizes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal

import pytest
from loyalty_factories.scale import scale_registry, scale_sales
from loyalty_factories.small import RATES, RULES
from loyalty_local.cloud import LocalCloud


def run_close(cloud: LocalCloud, partners: int, sellers: int) -> dict[str, float]:
    t0 = time.perf_counter()
    cloud.upload("rules/default-program.yaml", RULES)
    cloud.upload("registry/partners.csv", scale_registry(partners, sellers))
    cloud.upload("rates/fx.csv", RATES)
    cloud.run_until_idle()
    for key, body in scale_sales(sellers).items():  # distributors report for their sellers
        cloud.upload(key, body)
    cloud.settle()
    t1 = time.perf_counter()
    run = cloud.fire_schedule("CloseStarterFunction", {"period": "2026-08"})["run"]
    cloud.wait_execution(
        run,
        until=lambda c: (
            c.api("GET", "/closes/2026-08", "anna", "finance")[1]["status"] == "awaiting_approval"
        ),
        timeout=3600,
    )
    t2 = time.perf_counter()
    shown = cloud.api("GET", "/closes/2026-08", "anna", "finance")[1]
    ask = {"comment": "scale", "run": shown["run"], "digest": shown["proposal_digest"]}
    code, body = cloud.api("POST", "/closes/2026-08/approve", "frank", "finance", ask)
    if code == 200 and body["status"] == "pending_second":  # above the dual-approval total
        code, body = cloud.api("POST", "/closes/2026-08/approve", "fiona", "finance", ask)
    assert code == 200 and body["status"] == "approved", body
    ex = cloud.wait_execution(run, timeout=3600)
    t3 = time.perf_counter()
    assert ex["status"] == "SUCCEEDED", ex
    return {"setup_s": t1 - t0, "to_approval_s": t2 - t1, "after_approval_s": t3 - t2, "close_s": t3 - t1}


def history_stats(cloud: LocalCloud, name: str) -> tuple[int, int]:
    sfn = cloud.client("stepfunctions")
    arn = cloud.state_machine("CloseStateMachine").replace(":stateMachine:", ":execution:") + f":{name}"
    events: list[dict[str, object]] = []
    token = None
    while True:
        page = sfn.get_execution_history(
            executionArn=arn, maxResults=1000, **({"nextToken": token} if token else {})
        )
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            break
    biggest = 0
    for e in events:
        for v in e.values():
            if isinstance(v, dict):
                for k in ("input", "output"):
                    if isinstance(v.get(k), str):
                        biggest = max(biggest, len(v[k].encode()))
    return len(events), biggest


@pytest.mark.e2e
def test_close_of_four_thousand_partners(new_cloud: Callable[..., LocalCloud]) -> None:
    cloud = new_cloud(program=False)
    timings = run_close(cloud, partners=4_000, sellers=600)
    events, biggest = history_stats(cloud, "close-2026-08")
    shown = cloud.api("GET", "/closes/2026-08", "frank", "finance")[1]
    proposal = shown["proposal"]
    assert proposal["partners"] == 4_003  # and the three distributors
    assert proposal["dormant"] == 4_003 - 600
    assert shown["status"] == "paid"
    payees = cloud.read_bytes("payouts/2026-08/close-2026-08/payouts.csv").decode().splitlines()[1:]
    assert len(payees) == 400  # 600 sellers earned EUR 100; a third have no bank details (held)
    assert sum(Decimal(r.split(",")[2]) for r in payees) == Decimal("40000.00")
    assert proposal["totals"]["carried_out"] == "20000.00"
    assert events < 25_000 and biggest < 256 * 1024
    print(json.dumps({**timings, "history_events": events, "largest_payload_bytes": biggest}))
