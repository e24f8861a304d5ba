"""Thirteen monthly closes on the local cloud (issue 11): points earned at each close, course
points from a training import (once per person and course, re-import changes nothing), a
partner reaching Platinum through its certification, a redemption drawing from the oldest lot,
a return taking points back, leaderboards and partners of the month with their certificates,
and the January lots expiring at the close of the next January with exactly what is left."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest
from loyalty.adapters.dynamo import DynamoStore
from loyalty_factories.small import RULES, sales_csv
from loyalty_local.cloud import REGION, LocalCloud

from tests.e2e.test_close import awaiting, decide, start

# thirteen closed months ending before today (a close never runs before its month is over)
PERIODS = [f"2025-{m:02d}" for m in (10, 11, 12)] + [f"2026-{m:02d}" for m in range(1, 11)]
FIRST, SECOND, LAST = PERIODS[0], PERIODS[1], PERIODS[-1]
REGISTRY = (
    "partner_id,name,email,segment,country,sponsor_id,joined_on,cohort,distributor_for,starting_tier,recognition\n"
    "P10001,ООО «Ёлка-Юг»,a@elka.example,smb,RU,,2025-12-01,,,,\n"
    "P10002,Beta IT,b@beta.example,smb,DE,,2025-12-01,,,,\n"
    "P10003,Gamma Trade,g@gamma.example,smb,DE,,2025-12-01,,,,opt-out\n"
    "P10004,Delta Corp,d@delta.example,enterprise,NL,,2025-12-01,,,,\n"
    "D10000,Omega Distribution,o@omega.example,distribution,NL,,2025-12-01,,P10001|P10002|P10003|P10004,,\n"
).encode()
TRAINING = (
    b"partner_id,person_id,course,completed_on,certificate_id\n"
    b"P10001,ivan,CERT-SALES,2025-11-10,CS-0001\n"
    b"P10002,anna,PRODUCT-101,2025-12-05,\n"
)
CATALOG = b"""version: "2026.1"
rewards:
  - id: R-MUG
    name: Branded mug
    points: 100
    stock: 5
    fmv_eur: "8.50"
  - id: R-TRIP
    name: Partner trip
    points: 1000000
    stock: 1
    fmv_eur: "2500"
"""
# monthly net sales per partner (EUR); P10002 returns January's big sale in February
NET = {"P10001": 100_000, "P10002": 20_000, "P10003": 150_000, "P10004": 40_000}


def _sales(period: str) -> bytes:
    rows: list[list[object]] = []
    for pid, net in NET.items():
        rows.append(
            [f"{pid}-{period}", pid, f"{period}-05", "SKU-1", 1, net, "EUR", "hardware", f"C-{pid}", ""]
        )
    if period == "2026-01":
        rows.append(
            ["P10002-big", "P10002", "2026-01-10", "SKU-2", 1, 30_000, "EUR", "hardware", "C-P10002", ""]
        )
    if period == "2026-02":  # January's big sale comes back: February's net is -10 000
        rows.append(
            [
                "P10002-ret",
                "P10002",
                "2026-02-20",
                "SKU-2",
                -1,
                30_000,
                "EUR",
                "hardware",
                "C-P10002",
                "P10002-big",
            ]
        )
    return sales_csv(rows)


def _close(cloud: LocalCloud, period: str) -> None:
    run = start(cloud, period)["run"]
    awaiting(cloud, run)
    code, body = decide(cloud, period, "frank", "approve", comment="year run")
    assert code == 200, body
    assert cloud.wait_execution(run)["status"] == "SUCCEEDED"


@pytest.mark.e2e
def test_a_year_of_points_ends_with_the_first_lots_expiring(new_cloud: Callable[..., LocalCloud]) -> None:
    from loyalty.points.redemptions import from_program

    cloud = new_cloud(program=False)
    # the default program, in effect from the first month closed here
    rules = RULES.replace(b"effective_from: 2026-01-01", b"effective_from: 2025-01-01")
    cloud.upload("rules/default-program.yaml", rules)
    cloud.run_until_idle()
    cloud.upload("registry/partners.csv", REGISTRY)
    cloud.upload("catalog/rewards.yaml", CATALOG)
    cloud.run_until_idle()
    store = DynamoStore(cloud.outputs["TableName"], REGION)
    redemptions = from_program(store, store, lambda: dt.datetime(2026, 1, 15, 10, 0, tzinfo=dt.UTC))
    for period in PERIODS:
        cloud.upload(f"incoming/D10000/{period}.csv", _sales(period))
        if period == "2025-12":
            cloud.upload("training/2025-12.csv", TRAINING)
        if period == "2026-03":  # the same file again: no new course points
            cloud.upload("training/2026-03.csv", TRAINING)
        cloud.settle()
        _close(cloud, period)
        if period == "2025-12":  # the first month's lots are active now: spend from them
            got = redemptions.redeem("P10001", "R-MUG", "mug-1")
            assert got.redemption is not None and got.refusal is None, got
            # oldest expiry first; the first month's two lots expire together: by lot id
            assert [(d.lot_id, d.points) for d in got.redemption.draws] == [(f"bonus:potm:{FIRST}", 100)]
            again = redemptions.redeem("P10001", "R-MUG", "mug-1")
            assert again.replayed and again.redemption == got.redemption
            refused = redemptions.redeem("P10004", "R-TRIP", "trip-1")
            assert refused.refusal is not None and refused.refusal.code == "insufficient_points"

    lots = {lot.lot_id: lot for lot in store.lots("P10001")}
    head = store.points_head("P10001")
    assert head is not None
    # the first month: Bronze x1 of EUR 100 000 = 10 000 points; the courses: 500 once
    assert lots[f"month:{FIRST}"].points == 10_000
    course_lots = [lot for lot in lots.values() if lot.source == "course"]
    assert sum(lot.points for lot in course_lots) == 500
    assert sum(lot.points for lot in store.lots("P10002") if lot.source == "course") == 500
    # every lot earned in the first month expired at the close twelve months later with what was left
    first = [lot for lot in lots.values() if lot.period == FIRST]
    assert first and all(lot.state == "expired" and lot.remaining == 0 for lot in first)
    expire = [m for m in store.moves("P10001", LAST) if m.kind == "expire"]
    drawn = {d.lot_id: d.points for m in expire for d in m.draws}
    assert drawn == {f"month:{FIRST}": 10_000, f"bonus:potm:{FIRST}": 1_000 - 100}
    assert head.pending + head.active - head.debt == head.earned - head.spent - head.expired - head.deducted
    assert head.expired == sum(drawn.values())
    # the second month's lot is still there (it expires one close later)
    assert lots[f"month:{SECOND}"].state == "active" and lots[f"month:{SECOND}"].remaining > 0
    # Platinum through the certification imported in December (trailing 300 000 from then on)
    assert store.tier_for("P10001", "2026-01") == "Platinum"
    # P10002's February return takes back points (net -10 000 at Silver x1.25 -> 1 250)
    deduct = [m for m in store.moves("P10002", "2026-02") if m.kind == "deduct"]
    assert sum(-m.points for m in deduct) == 1_250
    # leaderboards, partners of the month, certificates, statements
    board = cloud.read_json(f"leaderboards/{LAST}/smb.json")
    ranked = [p["partner_id"] for p in board["places"]]
    assert "P10003" not in ranked and ranked[0] == "P10001"
    for lang in ("ru", "en"):
        assert cloud.read_bytes(f"certificates/{LAST}/smb/P10001.{lang}.pdf").startswith(b"%PDF")
    statement = cloud.read_bytes(f"statements/P10001/{LAST}.csv").decode()
    assert "Points" in statement and "expired this month" in statement and "Rank in segment smb" in statement
    # the ledger values the points: earned and expired at EUR 0.01 a point
    postings = store.points_postings(partner_id="P10001")
    liability = sum(
        (p.amount if p.credit.startswith("liability:points:") else -p.amount)
        for p in postings
        if "liability:points:" in (p.credit + p.debit)
    )
    assert liability == Decimal(head.balance) * Decimal("0.01")
    _analytics(cloud, store)


def _analytics(cloud: LocalCloud, store: DynamoStore) -> None:
    """Issue 13 on the local cloud: each close's Analytics step wrote its month's Parquet facts
    and report; `loyalty report` (DuckDB over the facts read back from the bucket) gives the
    close's own figures; running the step again rewrites the same files and announces nothing."""
    import argparse
    import io
    import json

    from loyalty.adapters.facts_s3 import S3Facts
    from loyalty.analytics.schema import LINE_MONTH, PARTNER_MONTH, report_key
    from loyalty.settings import Settings
    from loyalty.wiring import Container
    from loyalty_cli.report import report_locally

    s3 = cloud.client("s3")
    facts = S3Facts(cloud.bucket, REGION)
    for period in PERIODS:
        assert facts.keys(PARTNER_MONTH.partition(period)) == [PARTNER_MONTH.part_key(period, 0)], period
        assert facts.keys(LINE_MONTH.partition(period)) == [LINE_MONTH.part_key(period, 0)], period
        assert s3.head_object(Bucket=cloud.bucket, Key=report_key(period, "html"))["ContentLength"] > 0
    versions = store.rule_versions()
    out = io.StringIO()
    args = argparse.Namespace(json=True, csv=None)
    assert report_locally(facts, LAST, versions, args, out) == 0
    cli = json.loads(out.getvalue())
    stored = cloud.read_json(report_key(LAST, "json"))
    assert {k: v for k, v in cli.items() if k != "generated_at"} == {
        k: v for k, v in stored.items() if k != "generated_at"
    }
    month = cli["kpis"]["month"]
    lines = store.close_lines(LAST, [*NET, "D10000"])
    assert month["partners"] == 5 and month["active_partners"] == len(NET)
    assert Decimal(month["net_sales"]) == sum(Decimal(n) for n in NET.values())
    assert Decimal(month["payouts"]) == sum((ln.payout for ln in lines.values()), Decimal(0))
    assert Decimal(month["carried"]) == sum((ln.carried_out for ln in lines.values()), Decimal(0))
    heads = store.points_heads([*NET, "D10000"])
    balance = sum(h.pending + h.active - h.debt for h in heads.values())
    assert Decimal(month["points_liability"]) == Decimal(balance) * Decimal("0.01")
    # the step again, as `loyalty analytics-publish` runs it: the same parts, no second announcement
    before = {
        k: s3.get_object(Bucket=cloud.bucket, Key=k)["Body"].read() for k in facts.keys("analytics/v1/")
    }
    meta = store.close_meta(LAST)
    assert meta is not None and meta.manifest
    env = {
        "TABLE_NAME": cloud.outputs["TableName"],
        "UPLOAD_BUCKET": cloud.bucket,
        "PROGRAM_TOPIC_ARN": cloud.outputs["ProgramTopicArn"],
        "AWS_REGION": REGION,
    }
    again = Container(Settings.from_env(env)).publish_analytics(
        LAST, meta.run, meta.manifest, dt.datetime.now(dt.UTC)
    )
    assert (again.partners, again.removed, again.notified) == (5, 0, False)
    after = {k: s3.get_object(Bucket=cloud.bucket, Key=k)["Body"].read() for k in facts.keys("analytics/v1/")}
    assert after == before
