"""`loyalty report --period YYYY-MM [--json] [--csv DIR] [--aws]`: the program report of a closed
month (docs/analytics-report.md): KPIs of the month and the trailing 12 months, activity and
retention, tiers, net sales by segment, category and country, program cost and cost per EUR,
payouts, top movers, partners at risk, pilots.

Locally the facts' Parquet of the months the report reads comes down from the stack's bucket to
a temporary folder and DuckDB runs the query files; with `--aws` the very same files run on
Athena (the stack's AnalyticsWorkgroup over its AnalyticsDatabase), reading the bucket in place.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from loyalty.adapters.athena import AthenaEngine, AthenaQueryError
from loyalty.adapters.facts_s3 import S3Facts
from loyalty.analytics.engine import DuckDBEngine, QueryEngine
from loyalty.analytics.figures import COST_COLUMNS
from loyalty.analytics.files import download_facts
from loyalty.analytics.ports import FactsFiles
from loyalty.analytics.report import build_report, key_figures, report_periods
from loyalty.analytics.sections import iso_now
from loyalty.kernel.periods import check_period
from loyalty.kernel.reports import safe_cell
from loyalty.program.rules import RuleVersion
from rich.console import Console

from loyalty_cli.console import table
from loyalty_cli.stack import Target


def register(sub: Any) -> None:
    p = sub.add_parser(
        "report",
        help="the program report of a closed month: KPIs, retention, tiers, sales, cost, payouts, risk, pilots",
    )
    p.add_argument("--period", required=True, help="YYYY-MM (a closed month)")
    p.add_argument("--json", action="store_true", help="the report's JSON (as the close stores it)")
    p.add_argument("--csv", metavar="DIR", default=None, help="also write one CSV per table to DIR")
    p.set_defaults(func=cmd)


def cmd(args: argparse.Namespace) -> int:
    try:
        period = check_period(args.period)
    except ValueError as exc:
        print(f"loyalty report: {exc}", file=sys.stderr)
        return 2
    target = Target.from_args(args)
    versions = target.store().rule_versions()
    try:
        if args.aws or args.profile:  # the stack on AWS: Athena over the bucket in place
            return run(athena_engine(target), period, versions, args, sys.stdout)
        files = S3Facts(target.bucket, target.session.region_name, target.endpoint)
        return report_locally(files, period, versions, args, sys.stdout)
    except AthenaQueryError as exc:
        print(f"loyalty report: {exc}", file=sys.stderr)
        return 1


def athena_engine(target: Target) -> AthenaEngine:
    missing = [k for k in ("AnalyticsWorkgroup", "AnalyticsDatabase") if k not in target.outputs]
    if missing:
        raise SystemExit(
            f"stack {target.stack!r} has no output {', '.join(missing)}: deploy the template with analytics"
        )
    return AthenaEngine(
        target.client("athena"), target.outputs["AnalyticsWorkgroup"], target.outputs["AnalyticsDatabase"]
    )


def report_locally(
    files: FactsFiles, period: str, versions: Sequence[RuleVersion], args: argparse.Namespace, out: TextIO
) -> int:
    """Download the months the report reads to a temporary folder and run it on DuckDB there."""
    with tempfile.TemporaryDirectory(prefix="loyalty-report-") as tmp:
        root = Path(tmp)
        copied = download_facts(files, report_periods(period, versions), root)
        print(f"facts: {copied} bytes of Parquet read from the bucket", file=sys.stderr)
        engine = DuckDBEngine(root)
        try:
            return run(engine, period, versions, args, out)
        finally:
            engine.close()


def run(
    engine: QueryEngine,
    period: str,
    versions: Sequence[RuleVersion],
    args: argparse.Namespace,
    out: TextIO,
    generated_at: str | None = None,
) -> int:
    """The command over any engine (DuckDB on a folder in tests)."""
    report = build_report(engine, period, versions, generated_at or iso_now())
    doc = report.to_json()
    if args.csv:
        written = write_csv(report.tables(), Path(args.csv), period)
        print(f"wrote {len(written)} CSV files to {args.csv}", file=sys.stderr)
    if args.json:
        json.dump(doc, out, ensure_ascii=False, indent=1)
        out.write("\n")
    else:
        print_report(doc, out)
    return 0


def write_csv(
    tables: Mapping[str, tuple[list[str], list[list[str]]]], folder: Path, period: str
) -> list[Path]:
    """`report-<period>-<table>.csv` per table; no cell is ever a spreadsheet formula."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (headers, rows) in tables.items():
        path = folder / f"report-{period}-{name}.csv"
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow([safe_cell(h) for h in headers])
            w.writerows([safe_cell(c) for c in row] for row in rows)
        written.append(path)
    return written


# -- the terminal ----------------------------------------------------------------------------------
def _text(value: Any) -> str:
    return "-" if value is None else str(value)


def _section(console: Console, title: str, rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> None:
    if not rows:
        console.print(f"{title}: none")
        return
    t = table(*keys, title=title)
    for r in rows:
        t.add_row(*(_text(r.get(k)) for k in keys))
    console.print(t)


def _movement(console: Console, moves: Sequence[Mapping[str, Any]]) -> None:
    tiers = list(dict.fromkeys([m["from"] for m in moves] + [m["to"] for m in moves]))
    if not tiers:
        return
    counts = {(m["from"], m["to"]): m["partners"] for m in moves}
    t = table("from \\ to", *tiers, title="Tier movement (tier during the month -> tier from the next)")
    for a in tiers:
        t.add_row(a, *(str(counts.get((a, b), "")) for b in tiers))
    console.print(t)


def print_report(doc: Mapping[str, Any], out: TextIO) -> None:
    console = Console(file=out, highlight=False, width=140)
    console.print(
        f"Program report {doc['period']} (12 months from {doc['from']}), generated {doc['generated_at']}"
    )
    figures = table("Key figure", "Value")
    for label, value in key_figures(doc):
        figures.add_row(label, value)
    console.print(figures)
    k = doc["kpis"]
    kpis = table("KPI", "Month", "12 months", title="KPIs (EUR)")
    for key in k["month"]:
        kpis.add_row(key, _text(k["month"][key]), _text(k["t12"][key]))
    console.print(kpis)
    _section(
        console,
        "Activity and retention",
        doc["activity"],
        ("period", "partners", "active", "retained", "retention_pct"),
    )
    _section(
        console, "Tier distribution (after the month)", doc["tiers"]["distribution"], ("tier", "partners")
    )
    _movement(console, doc["tiers"]["movement"])
    for dim in ("segment", "category", "country"):
        _section(console, f"Net sales by {dim} (EUR)", doc["sales"][f"by_{dim}"], (dim, "net_sales", "t12"))
    _section(console, "Program cost (EUR)", doc["cost"], COST_COLUMNS)
    _section(console, "Payouts (EUR)", doc["payouts"], ("period", "payout", "carried", "paid_partners"))
    for way in ("up", "down"):
        _section(
            console,
            f"Top movers {way} (vs the month before, EUR)",
            doc["top_movers"][way],
            ("partner_id", "segment", "net_sales", "previous", "change"),
        )
    risk = [
        {
            "partner_id": r["partner_id"],
            "segment": r["segment"],
            **{m["period"]: m["net_sales"] for m in r["months"]},
        }
        for r in doc["at_risk"]
    ]
    months = [m["period"] for m in doc["at_risk"][0]["months"]] if doc["at_risk"] else []
    _section(
        console,
        "At risk (net sales falling 3 months in a row, EUR)",
        risk,
        ("partner_id", "segment", *months),
    )
    _section(
        console,
        "Pilots (difference-in-differences vs control)",
        doc["pilots"],
        (
            "version",
            "start",
            "pilot_partners",
            "control_partners",
            "uplift_pct",
            "pct_ci_low",
            "pct_ci_high",
            "roi",
        ),
    )
    for p in doc["pilots"]:
        for w in p.get("warnings") or []:
            console.print(f"  pilot {p.get('version')}: {w}")
    for w in doc["warnings"]:
        console.print(f"warning: {w}")
