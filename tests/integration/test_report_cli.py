"""`loyalty report` over a bucket in moto: the facts' Parquet comes down to a temporary folder and
DuckDB runs the report (text, --json, --csv); with --aws the same query files go to Athena (moto's,
which runs no SQL: an empty answer, so the report of no facts)."""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from loyalty.adapters.facts_s3 import S3Facts
from loyalty.adapters.memory import MemoryStore
from loyalty.adapters.memory.facts import MemoryFacts
from loyalty.analytics.report import REPORT_QUERIES
from loyalty_cli import main as cli
from loyalty_cli import report as report_cli
from loyalty_cli.stack import Target
from loyalty_local.env import REGION
from moto.athena.models import athena_backends
from moto.core import DEFAULT_ACCOUNT_ID

from tests.unit.analytics_world import default_rules, partner_row, world_rows, write_facts, write_world

_n = itertools.count(1)


def _upload(root: Path, files: Any) -> None:
    for path in sorted(root.rglob("*.parquet")):
        files.put(path.relative_to(root).as_posix(), path.read_bytes(), "application/vnd.apache.parquet")


@pytest.fixture()
def stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Target:
    name = f"report-{next(_n)}"
    s3 = boto3.client("s3", region_name=REGION)
    where = {} if REGION == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": REGION}}
    s3.create_bucket(Bucket=name, **where)
    _upload(write_world(tmp_path / "facts"), S3Facts(name, REGION))
    workgroup = f"analytics-{name}"
    boto3.client("athena", region_name=REGION).create_work_group(
        Name=workgroup, Configuration={"ResultConfiguration": {"OutputLocation": f"s3://{name}/athena/"}}
    )
    outputs = {
        "UploadBucketName": name,
        "AnalyticsWorkgroup": workgroup,
        "AnalyticsDatabase": "loyalty_facts",
    }
    target = Target(boto3.session.Session(region_name=REGION), None, "loyalty", outputs)
    store = MemoryStore()
    store.put_rule_version(default_rules(), "rules/default-program.yaml")
    monkeypatch.setattr(Target, "from_args", classmethod(lambda cls, args: target))
    monkeypatch.setattr(Target, "store", lambda self: store)
    return target


def test_json_from_the_buckets_facts(stack: Target, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", "--period", "2026-10", "--json"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    assert (doc["period"], doc["from"]) == ("2026-10", "2025-11")
    assert doc["kpis"]["month"]["net_sales"] == "2520.00"
    assert doc["kpis"]["t12"]["retention_pct"] == "66.7"  # 2025-10 came down too (the base month)
    assert [r["partner_id"] for r in doc["at_risk"]] == ["A"]
    assert "bytes of Parquet read from the bucket" in captured.err


def test_text_shows_key_figures_and_sections(stack: Target, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", "--period", "2026-10"]) == 0
    out = capsys.readouterr().out
    assert "Program report 2026-10 (12 months from 2025-11)" in out
    assert "Active partners" in out and "5 of 6" in out
    assert "2 520.00" in out  # net sales of the month
    for title in (
        "Activity and retention",
        "Tier movement",
        "Net sales by category",
        "Program cost",
        "At risk",
    ):
        assert title in out
    assert "warning: only 4 of the 12 months" in out


def test_csv_one_formula_safe_file_per_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pm, lm = world_rows()
    pm["2026-10"].append(partner_row('=HYPERLINK("http://x")', "2026-10", 9000, segment="@sum(A1)"))
    files = MemoryFacts()
    _upload(write_facts(tmp_path / "facts", pm, lm), files)
    args = argparse.Namespace(json=False, csv=str(tmp_path / "csv"))
    code = report_cli.report_locally(files, "2026-10", [default_rules()], args, io.StringIO())
    assert code == 0
    written = sorted(p.name for p in (tmp_path / "csv").iterdir())
    assert written == sorted(
        f"report-2026-10-{n}.csv"
        for n in (
            "kpis",
            "activity",
            "tier_distribution",
            "tier_movement",
            "sales_by_segment",
            "sales_by_category",
            "sales_by_country",
            "cost",
            "payouts",
            "top_movers",
            "at_risk",
            "pilots",
            "warnings",
        )
    )
    with (tmp_path / "csv" / "report-2026-10-top_movers.csv").open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["direction", "partner_id", "segment", "net_sales", "previous", "change"]
    assert rows[1] == ["up", '\'=HYPERLINK("http://x")', "'@sum(A1)", "9000.00", "0.00", "9000.00"]
    with (tmp_path / "csv" / "report-2026-10-sales_by_segment.csv").open(encoding="utf-8") as f:
        segments = list(csv.reader(f))
    assert ["public", "-30.00", "-60.00"] in segments  # a negative amount stays a number


def test_aws_runs_the_same_query_files_on_athena(stack: Target, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", "--period", "2026-10", "--aws", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert any(w.startswith("no facts for 2026-10") for w in doc["warnings"])  # moto's Athena answers nothing
    backend = athena_backends[DEFAULT_ACCOUNT_ID][REGION]
    ran = [
        e
        for e in backend.executions.values()
        if e.workgroup and e.workgroup.name == stack.outputs["AnalyticsWorkgroup"]
    ]
    assert len(ran) == len(REPORT_QUERIES)
    assert {e.context["Database"] for e in ran} == {"loyalty_facts"}
    assert any(e.query.startswith("-- params: period, period_prev") for e in ran)  # kpis.sql as it is


def test_aws_without_the_analytics_outputs_says_what_is_missing(stack: Target) -> None:
    del stack.outputs["AnalyticsDatabase"]
    with pytest.raises(SystemExit, match="no output AnalyticsDatabase"):
        cli.main(["report", "--period", "2026-10", "--aws"])


def test_a_bad_period_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["report", "--period", "2026-13"]) == 2
    assert "YYYY-MM" in capsys.readouterr().err
