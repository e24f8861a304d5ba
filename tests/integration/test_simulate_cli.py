"""`loyalty simulate` against a local cloud (moto, in-process): two months uploaded and closed
through the real state machine with finance's approval, then simulated. The stack's table and
bucket are byte-identical afterwards."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from contextlib import redirect_stdout
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from loyalty_cli import main as cli
from loyalty_cli import simulate
from loyalty_cli.stack import Target
from loyalty_factories.small import RATES, RULES, sales_csv
from loyalty_local.cloud import REGION, LocalCloud

REGISTRY = (
    b"partner_id,name,email,segment,country,sponsor_id,joined_on,cohort,distributor_for,starting_tier,certified,iban,bic\n"
    b"P00001,Acme Systems,finance@acme.example,smb,DE,,2026-01-01,,,,,DE89 3704 0044 0532 0130 00,COBADEFFXXX\n"
    b"P00002,Beta IT,finance@beta.example,enterprise,FR,,2026-01-01,pilot,,Silver,,FR1420041010050500013M02606,\n"
)


def sale(sid: str, partner: str, day: str, amount: str, qty: int = 1, orig: str = "") -> list[Any]:
    return [sid, partner, day, "SKU-1", qty, amount, "EUR", "hardware", f"C-{sid}", orig]


def close(cloud: LocalCloud, period: str) -> None:
    cloud.fire_schedule("CloseStarterFunction", {"period": period})
    run = f"close-{period}"
    cloud.wait_execution(
        run,
        until=lambda c: (
            c.api("GET", f"/closes/{period}", "frank", "finance")[1]["status"] == "awaiting_approval"
        ),
    )
    shown = cloud.api("GET", f"/closes/{period}", "frank", "finance")[1]
    body = {"run": shown["run"], "digest": shown["proposal_digest"], "comment": "ok"}
    code, answer = cloud.api("POST", f"/closes/{period}/approve", "frank", "finance", body)
    assert code == 200, answer
    assert cloud.wait_execution(run)["status"] == "SUCCEEDED"


def live_state(cloud: LocalCloud) -> str:
    """A digest of every item of the table and every object version of the bucket."""
    h = hashlib.sha256()
    ddb = cloud.client("dynamodb")
    for page in ddb.get_paginator("scan").paginate(TableName=cloud.outputs["TableName"]):
        for item in sorted(json.dumps(i, sort_keys=True) for i in page["Items"]):
            h.update(item.encode())
    s3 = cloud.client("s3")
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=cloud.bucket):
        for v in page.get("Versions", []):
            body = s3.get_object(Bucket=cloud.bucket, Key=v["Key"], VersionId=v["VersionId"])["Body"].read()
            h.update(f"{v['Key']}|{v['VersionId']}|".encode() + body)
    return h.hexdigest()


@pytest.fixture()
def closed(new_cloud: Callable[..., LocalCloud]) -> LocalCloud:
    cloud = new_cloud(program=False)
    cloud.upload("rules/default-program.yaml", RULES)
    cloud.run_until_idle()
    cloud.upload("registry/partners.csv", REGISTRY)
    cloud.upload("rates/fx.csv", RATES)
    cloud.run_until_idle()
    months = {
        "2026-08": {
            "P00001": [
                sale("A1", "P00001", "2026-08-01", "30000.00"),
                sale("A2", "P00001", "2026-08-20", "900.00"),
            ],
            "P00002": [sale("B1", "P00002", "2026-08-02", "2000.00")],
        },
        "2026-09": {
            "P00001": [
                sale("A3", "P00001", "2026-09-03", "1500.00"),
                sale("A4", "P00001", "2026-09-10", "900.00", qty=-1, orig="A2"),
            ],
            "P00002": [
                sale("B2", "P00002", "2026-08-30", "700.00"),
                sale("B3", "P00002", "2026-09-05", "400.00"),
            ],
        },
    }
    for period, files in months.items():
        for partner, rows in files.items():
            cloud.upload(f"incoming/{partner}/{period}.csv", sales_csv(rows))
            cloud.settle()
        close(cloud, period)
    return cloud


def cli_run(cloud: LocalCloud, monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    target = Target(boto3.session.Session(region_name=REGION), None, cloud.stack_name, cloud.outputs)
    monkeypatch.setattr(simulate.Target, "from_args", classmethod(lambda cls, a: target))
    out = io.StringIO()
    with redirect_stdout(out):
        code = cli.main(["simulate", *args])
    return code, out.getvalue()


def test_simulate_on_the_local_cloud(
    closed: LocalCloud, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    before = live_state(closed)
    in_force = tmp_path / "in-force.yaml"
    in_force.write_bytes(RULES)
    code, text = cli_run(
        closed, monkeypatch, "--rules", str(in_force), "--from", "2026-08", "--to", "2026-09", "--json"
    )
    assert code == 0, text
    report = json.loads(text)
    assert [p["partner_id"] for p in report["partners"]] == ["P00001", "P00002"]
    assert report["summary"]["partners_changed"] == 0
    assert all(Decimal(v) == 0 for v in report["summary"]["delta"].values())
    acme = report["partners"][0]["actual"]
    assert acme["tier_moves"] == ["2026-08 up Silver"] and Decimal(acme["payout"]) > 0

    data = yaml.safe_load(RULES)
    data["version"], data["effective_from"] = "2027.1", "2027-01-01"  # a future version
    for t in data["tiers"]:
        t["commission_pct"] = str(Decimal(t["commission_pct"]) + 1)
    richer = tmp_path / "richer.yaml"
    richer.write_text(yaml.safe_dump(data))
    code, text = cli_run(
        closed, monkeypatch, "--rules", str(richer), "--from", "2026-08", "--to", "2026-09", "--json"
    )
    out = json.loads(text)["summary"]
    # one point more on every line: 1 % of the two months' net sales (32 900 + 1 700 EUR)
    assert Decimal(out["delta"]["commission_accrued"]) == Decimal("346.00")
    assert set(out["cost_by_cohort"]) == {"(none)", "pilot"}
    code, table = cli_run(closed, monkeypatch, "--rules", str(richer), "--from", "2026-08", "--to", "2026-09")
    assert code == 0 and "Totals" in table and "Program cost by segment" in table and "P00001" in table

    code, _ = cli_run(closed, monkeypatch, "--rules", str(richer), "--from", "2026-09", "--to", "2026-10")
    assert code == 2  # October is not closed
    assert live_state(closed) == before
