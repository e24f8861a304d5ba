"""One close of 10 000 partners in the local cloud: the Distributed Map keeps the parent
execution's history and every payload small whatever the partner count."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal

import pytest
from loyalty_local.cloud import LocalCloud

from tests.conftest import RATES, RULES, sales_csv

IBAN = "DE89370400440532013000"
PER_DISTRIBUTOR = 250


def registry(n: int, sellers: int) -> bytes:
    head = "partner_id,name,email,segment,country,sponsor_id,joined_on,cohort,distributor_for,starting_tier,certified,iban,bic\n"
    segs = ["smb", "enterprise", "public", "retail"]
    rows = [  # sellers come first; two in three of them have bank details
        f"P{i:06d},Partner {i},p{i}@example.com,{segs[i % 4]},DE,,2026-01-01,,,,,{IBAN if i < sellers and i % 3 else ''},\n"
        for i in range(n)
    ]
    for d, start in enumerate(range(0, sellers, PER_DISTRIBUTOR)):
        sold_for = "|".join(f"P{i:06d}" for i in range(start, min(sellers, start + PER_DISTRIBUTOR)))
        rows.append(
            f"D{d:06d},Distributor {d},ops{d}@dist.example,distribution,DE,,2026-01-01,,{sold_for},,,,\n"
        )
    return (head + "".join(rows)).encode()


def run_close(cloud: LocalCloud, partners: int, sellers: int) -> dict[str, float]:
    t0 = time.perf_counter()
    cloud.upload("rules/default-program.yaml", RULES)
    cloud.upload("registry/partners.csv", registry(partners, sellers))
    cloud.upload("rates/fx.csv", RATES)
    cloud.run_until_idle()
    for d, start in enumerate(range(0, sellers, PER_DISTRIBUTOR)):  # distributors report for their sellers
        rows = [
            [f"S{i}", f"P{i:06d}", "2026-08-01", "SKU", 1, "5000.00", "EUR", "", f"C{i}", ""]
            for i in range(start, min(sellers, start + PER_DISTRIBUTOR))
        ]
        cloud.upload(f"incoming/D{d:06d}/aug.csv", sales_csv(rows))
    cloud.settle()
    t1 = time.perf_counter()
    run = cloud.fire_schedule("CloseStarterFunction", {"period": "2026-08"})["run"]
    cloud.wait_execution(
        run, until=lambda c: c.api("GET", "/approvals", "a", "finance")[1]["approvals"], timeout=3600
    )
    t2 = time.perf_counter()
    code, body = cloud.api("POST", "/closes/2026-08/approve", "frank", "finance", {"comment": "scale"})
    assert code == 200, body
    ex = cloud.wait_execution(run, timeout=3600)
    t3 = time.perf_counter()
    assert ex["status"] == "SUCCEEDED", ex
    return {"setup_s": t1 - t0, "to_approval_s": t2 - t1, "after_approval_s": t3 - t2, "close_s": t3 - t1}


def history_stats(cloud: LocalCloud, name: str) -> tuple[int, int]:
    sfn = cloud.client("stepfunctions")
    arn = cloud.close_machine.replace(":stateMachine:", ":execution:") + f":{name}"
    events, token, biggest = [], None, 0
    while True:
        page = sfn.get_execution_history(
            executionArn=arn, maxResults=1000, **({"nextToken": token} if token else {})
        )
        events += page["events"]
        token = page.get("nextToken")
        if not token:
            break
    for e in events:
        for v in e.values():
            if isinstance(v, dict):
                for k in ("input", "output"):
                    if isinstance(v.get(k), str):
                        biggest = max(biggest, len(v[k].encode()))
    return len(events), biggest


@pytest.mark.e2e
def test_close_of_ten_thousand_partners(new_cloud: Callable[..., LocalCloud]) -> None:
    cloud = new_cloud(parameters={"CloseBatchSize": "500"}, program=False)
    timings = run_close(cloud, partners=10_000, sellers=1_500)
    events, biggest = history_stats(cloud, "close-2026-08")
    summary = cloud.api("GET", "/closes/2026-08", "frank", "finance")[1]
    assert summary["proposal"]["partners"] == 10_006  # and the six distributors
    assert summary["proposal"]["dormant"] == 10_006 - 1_500
    assert summary["status"] == "paid"
    payees = [r for r in cloud.read_bytes("payouts/2026-08/payouts.csv").decode().splitlines()[1:]]
    assert len(payees) == 1_000  # 1 500 sellers earned EUR 100; a third have no bank details (held)
    assert sum(Decimal(r.split(",")[2]) for r in payees) == Decimal("100000.00")
    assert events < 25_000 and biggest < 256 * 1024
    print(json.dumps({**timings, "history_events": events, "largest_payload_bytes": biggest}))
