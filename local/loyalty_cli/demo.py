"""`loyalty demo` (`make demo`): a realistic program run end to end through the local cloud.

Generates a partner program and three months of sales files (`loyalty_factories`), uploads
everything through S3, waits with a progress bar, prints per-segment totals and the
reconciliation (rows in = accepted + rejected), then closes the three months: an operator starts
each run, a finance controller approves it.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from loyalty.adapters.dynamo import DynamoStore
from loyalty.adapters.s3sqs import S3Blobs
from loyalty.analytics.report import key_figures
from loyalty.analytics.schema import report_key
from loyalty.close.ledger import Ledger
from loyalty.earning.balances import BalanceService
from loyalty.ingest.keys import report_base
from loyalty.kernel.money import ZERO, fmt_eur
from loyalty.kernel.ports import MissingBlob
from loyalty_factories.incentives import demo_rules, pilot_rules, proposed_rules, targets_csv
from loyalty_factories.program import MONTHS, DemoPartner, make_partners, rates_csv, registry_csv
from loyalty_factories.sales import DemoFile, make_sales
from loyalty_factories.small import RULES
from loyalty_local.cloud import LocalCloud
from loyalty_local.env import REGION
from loyalty_local.mail import captured_emails

from loyalty_cli import demo_engagement as engagement
from loyalty_cli import simulate
from loyalty_cli.console import Progress, stdout_console, table
from loyalty_cli.demo_export import export_artifacts, print_exported

STACK = "loyalty-demo"
CLOSE_MACHINE = "CloseStateMachine"  # the template's state machine of the monthly close


@dataclass
class Segment:
    partners: int = 0
    net: Decimal = ZERO
    comm: Decimal = ZERO
    lines: int = 0


def run_demo(partners: int = 200, rows: int = 51_000, seed: int = 7) -> int:
    started = time.monotonic()
    rnd = random.Random(seed)
    people = make_partners(partners, rnd)
    files = make_sales(people, rows, rnd)
    print(
        f"generated {len(people)} partners in {len({p.segment for p in people})} segments, "
        f"{sum(1 for p in people if p.distributor_for)} distributors, {sum(f.rows for f in files)} sales rows in {len(files)} files"
    )
    with LocalCloud(stack_name=STACK) as cloud:
        print(f"local cloud up in {time.monotonic() - started:.1f}s: bucket {cloud.bucket}")
        _load_program(cloud, people, rnd)
        summaries = _ingest(cloud, files)
        store = DynamoStore(cloud.outputs["TableName"], REGION)
        lines, q3_net = _segments(store, people)
        if not _reconciliation(cloud, files, summaries, lines, started):
            return 1
        _targets(cloud, q3_net, {p.pid: p.segment for p in people}, rnd)
        star = engagement.load_training(cloud, people, q3_net, rnd)
        engagement.load_catalog(cloud)
        after = {MONTHS[-2]: lambda: engagement.redeem(store, MONTHS[-2])}
        if not monthly_closes(cloud, store, started, after):
            return 1
        if not engagement.report(cloud, store, people, star):
            print("\nENGAGEMENT INCOMPLETE: no certificate, no Platinum through training or nothing expired")
            return 1
        code = _what_if(store, started)
        # issue 12: everything the demo mentions, to demo-output/ (statements, bank files, reports...)
        exported = export_artifacts(S3Blobs(cloud.bucket, REGION), emails=captured_emails)
        print_exported(exported)
        # issue 13: what the October close's analytics step reported, and where its page is
        if not program_analytics(S3Blobs(cloud.bucket, REGION), MONTHS[-1], exported.root):
            return 1
        return code


def _what_if(store: DynamoStore, started: float) -> int:
    """The program manager tries a rules change on the closed months before publishing it."""
    print(
        "\nwhat if Gold started at EUR 80 000 at 4.5 % (rules 2026.3-proposed)? `loyalty simulate` replays"
        " August..October through it, isolated from the live table and bucket:"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "proposed.yaml"
        path.write_bytes(proposed_rules(RULES))
        ask = argparse.Namespace(
            rules=str(path), targets=None, start=MONTHS[0], end=MONTHS[-1], batch_size=200, json=False
        )
        code = simulate.run(store, ask, sys.stdout)
    print(f"\n{'SIMULATED' if code == 0 else 'SIMULATION FAILED'} in {time.monotonic() - started:.0f}s")
    return code


def _load_program(cloud: LocalCloud, people: list[DemoPartner], rnd: random.Random) -> None:
    cloud.upload("rules/demo-program.yaml", demo_rules(RULES))
    cloud.upload("rules/pilot-2026-09.yaml", pilot_rules(RULES))
    cloud.run_until_idle()
    cloud.upload("registry/partners.csv", registry_csv(people))
    cloud.upload("rates/ecb-2026-q3.csv", rates_csv(rnd))
    cloud.run_until_idle()
    reg = cloud.read_json("reports/config/registry/partners.csv.report.json")
    print(f"registry: {reg['accepted']} partners loaded, {reg['rejected']} rejected")
    pilot = cloud.read_json("reports/config/rules/pilot-2026-09.yaml.report.json")
    cohort = sum(1 for p in people if p.cohort == "pilot")
    print(
        f"pilot: rules {pilot['version']} from {pilot['effective_from']} for the {cohort} partners of cohort"
        " 'pilot' (+0.5 pp, Silver from 20 000, 20-day holding, EUR 25 minimum)"
    )
    sponsored = sum(1 for p in people if p.sponsor)
    print(
        f"sponsors: {sponsored} partners were recruited by another (overrides 1 % on level 1, 0.5 % on level 2)"
    )


def _targets(
    cloud: LocalCloud, q3_net: dict[str, Decimal], segments: dict[str, str], rnd: random.Random
) -> None:
    """Quarterly SMART goals agreed with the most active partners (from their run rate)."""
    cloud.upload("targets/2026-h2.csv", targets_csv(q3_net, segments, rnd))
    cloud.run_until_idle()
    rep = cloud.read_json("reports/config/targets/2026-h2.csv.report.json")
    print(
        f"\ntargets: {rep['accepted']} goals loaded ({rep['rejected']} rejected): Q3 and Q4 net sales per"
        " partner with accelerators (flat, step, interpolated), new customers for retail in October"
    )


def _ingest(cloud: LocalCloud, files: list[DemoFile]) -> list[dict[str, Any]]:
    bar = Progress("uploading and processing", len(files))
    for i, f in enumerate(files, 1):
        cloud.upload(f.key, f.body)
        cloud.run_until_idle()
        bar.update(i, note=f.key.split("/", 1)[1][:40])
    cloud.settle()
    bar.close()
    return [cloud.read_json(report_base(f.key) + ".summary.json") for f in files]


def _segments(store: DynamoStore, people: list[DemoPartner]) -> tuple[int, dict[str, Decimal]]:
    """Per-segment totals from the partners' balances; returns the accrual lines counted and each
    partner's Q3 net sales (the run rate its targets are set from)."""
    seg: dict[str, Segment] = defaultdict(Segment)
    q3: dict[str, Decimal] = {}
    svc = BalanceService(store)
    bar = Progress("reading balances", len(people))
    for i, p in enumerate(people, 1):
        t = seg[p.segment]
        t.partners += 1
        for month, b in svc.balances(p.pid, MONTHS).items():
            t.net += b.net_sales_eur
            t.comm += b.commission
            t.lines += b.lines
            if month in ("2026-07", "2026-08", "2026-09"):
                q3[p.pid] = q3.get(p.pid, ZERO) + b.net_sales_eur
        bar.update(i)
    bar.close()
    out = table("segment", "partners", "lines", "net sales EUR", "commission EUR")
    for name in sorted(seg):
        t = seg[name]
        out.add_row(name, str(t.partners), str(t.lines), fmt_eur(t.net), fmt_eur(t.comm))
    total = Segment(
        len(people),
        sum((t.net for t in seg.values()), ZERO),
        sum((t.comm for t in seg.values()), ZERO),
        sum(t.lines for t in seg.values()),
    )
    out.add_section()
    out.add_row("total", str(total.partners), str(total.lines), fmt_eur(total.net), fmt_eur(total.comm))
    print()
    stdout_console().print(out)
    return total.lines, q3


def _reconciliation(
    cloud: LocalCloud, files: list[DemoFile], summaries: list[dict[str, Any]], lines: int, started: float
) -> bool:
    rows_in = sum(f.rows for f in files)
    n = {
        k: sum(s[k] for s in summaries)
        for k in ("rows", "accepted", "rejected", "new", "replaced", "superseded")
    }
    print("\nreconciliation")
    print(f"  rows in files            {rows_in}")
    print(f"  rows reported            {n['rows']}  = accepted {n['accepted']} + rejected {n['rejected']}")
    print(
        f"  accepted                 {n['accepted']}  = new {n['new']} + replaced {n['replaced']} + superseded {n['superseded']}"
    )
    print(f"  accrual lines stored     {lines}  = new {n['new']}")
    print(
        f"  bad rows planted         {sum(f.bad for f in files)}; rejected rows listed in reports/ingest/**.errors.csv"
    )
    dlq_reports = (
        cloud.client("s3").list_objects_v2(Bucket=cloud.bucket, Prefix="reports/dlq/").get("KeyCount", 0)
    )
    print(f"  dead-lettered chunks     {cloud.pending()} pending, DLQ reports: {dlq_reports}")
    ok = (
        rows_in == n["rows"] == n["accepted"] + n["rejected"]
        and n["accepted"] == n["new"] + n["replaced"] + n["superseded"]
        and lines == n["new"]
        and all(s["reconciled"] for s in summaries)
    )
    print(f"\n{'RECONCILED' if ok else 'NOT RECONCILED'} in {time.monotonic() - started:.0f}s")
    return ok


def _close_month(cloud: LocalCloud, period: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """Operator olga starts the run, finance controller frank approves it: (execution, close)."""
    code, body = cloud.api("POST", "/closes", "olga", "operator", {"period": period})
    if code != 200:
        print(f"  {period}: could not start: {body}")
        return None
    run = body["run"]
    cloud.wait_execution(
        run,
        until=lambda c: (
            c.api("GET", f"/closes/{period}", "olga", "operator")[1]["status"] == "awaiting_approval"
        ),
        machine=CLOSE_MACHINE,
    )
    code, refused = cloud.api("POST", f"/closes/{period}/approve", "olga", "operator", {})
    assert code == 403, refused  # maker-checker: an operator cannot approve
    shown = cloud.api("GET", f"/closes/{period}", "frank", "finance")[1]
    ask = {"comment": "checked", "run": shown["run"], "digest": shown.get("proposal_digest", "")}
    code, body = cloud.api("POST", f"/closes/{period}/approve", "frank", "finance", ask)
    if code == 200 and body.get("status") == "pending_second":  # a payout total that needs two
        code, body = cloud.api("POST", f"/closes/{period}/approve", "fiona", "finance", ask)
    if code != 200:
        print(f"  {period}: approval refused: {body}")
        return None
    ex = cloud.wait_execution(run, machine=CLOSE_MACHINE)
    return ex, cloud.api("GET", f"/closes/{period}", "frank", "finance")[1]


def monthly_closes(
    cloud: LocalCloud,
    store: DynamoStore,
    started: float,
    after: Mapping[str, Callable[[], None]] | None = None,
) -> bool:
    """Close the demo months in order; print tier movements, payouts and where the files are."""
    print("\nmonthly closes (operator olga starts, finance controller frank approves)")
    out = table(
        "period",
        "partners",
        "active",
        "up",
        "down",
        "grace",
        "payees",
        "bonus EUR",
        "override EUR",
        "payout EUR",
        "carried EUR",
        "anomalies",
        "",
    )
    pilots = table(
        "period", "cohort", "partners", "rule versions", "net sales EUR", "bonus EUR", "payout EUR"
    )
    paid_total = ZERO
    ok = True
    bar = Progress("closing months", len(MONTHS))
    for i, period in enumerate(MONTHS, 1):
        closed = _close_month(cloud, period)
        bar.update(i, note=period)
        if closed is None:
            ok = False
            break
        ex, meta = closed
        prop = meta["proposal"]
        moves = prop["tier_moves"]
        out.add_row(
            period,
            *(str(v) for v in (prop["partners"], prop["partners"] - prop["dormant"], moves.get("up", 0))),
            *(str(v) for v in (moves.get("down", 0), moves.get("grace", 0), prop["payees"])),
            fmt_eur(Decimal(prop["totals"]["bonus"])),
            fmt_eur(Decimal(prop["totals"]["override"])),
            fmt_eur(Decimal(prop["totals"]["payout"])),
            fmt_eur(Decimal(prop["totals"]["carried_out"])),
            str(prop["anomaly_count"]),
            ex["status"],
        )
        if ex["status"] != "SUCCEEDED":
            ok = False
            break
        paid_total += Decimal(meta.get("paid_total", "0"))
        if after and period in after:
            after[period]()
        for cohort, b in prop.get("by_cohort", {}).items():
            pilots.add_row(
                period,
                cohort or "(none)",
                str(b["partners"]),
                ", ".join(b["rule_versions"]),
                *(fmt_eur(Decimal(b[k])) for k in ("net_sales", "bonus", "payout")),
            )
    bar.close()
    stdout_console().print(out)
    print("\npilot vs control: each cohort's partners under the rules version that governs them")
    stdout_console().print(pilots)
    return ok and _ledger(cloud, store, paid_total, started)


def _ledger(cloud: LocalCloud, store: DynamoStore, paid_total: Decimal, started: float) -> bool:
    entries = [e for p in MONTHS for e in store.ledger_entries(period=p)]
    ledger = Ledger(entries)
    bank = -ledger.balances().get("asset:bank", ZERO)
    last = MONTHS[-1]
    print(
        f"\n  ledger: {len(entries)} immutable entries, trial balance {ledger.trial_balance()}, paid out EUR {fmt_eur(bank)}"
    )
    listed = cloud.client("s3").list_objects_v2(Bucket=cloud.bucket, Prefix="statements/", MaxKeys=2)
    sample = sorted(k["Key"] for k in listed["Contents"])
    print(
        f"  bank files:  s3://{cloud.bucket}/payouts/<period>/<run>/payouts.csv and pain001.xml"
        f" (e.g. payouts/{last}/close-{last}/; immutable, one per run)"
    )
    print(f"  statements:  s3://{cloud.bucket}/statements/<partner>/<period>.html|.csv (e.g. {sample[0]})")
    print(f"  audit trail: loyalty approvals show {last}   (who started, approved, when, why)")
    ok = ledger.trial_balance() == 0 and bank == paid_total
    print(
        f"\n{'CLOSED' if ok else 'NOT CLOSED'}: {len(MONTHS)} months closed, approved and paid in {time.monotonic() - started:.0f}s"
    )
    return ok


def program_analytics(blobs: S3Blobs, period: str, exported: Path) -> bool:
    """The key figures of the period's program analytics report (written by the close's
    Analytics step) and the path of its HTML page, exported locally."""
    key = report_key(period, "json")
    try:
        report = json.loads(blobs.get(key))
    except MissingBlob:
        print(f"\nNO PROGRAM ANALYTICS: {key} was not written by the {period} close")
        return False
    out = table("figure", f"{period}")
    for label, value in key_figures(report):
        out.add_row(label, value)
    print(f"\nprogram analytics {period} (the close's Analytics step: DuckDB over the Parquet facts)")
    stdout_console().print(out)
    for pilot in report.get("pilots", []):
        print(
            f"  pilot {pilot['version']} ({pilot['cohort'] or ', '.join(pilot['segments'])}) from {pilot['start']}: "
            f"uplift {pilot['uplift_pct']} % [{pilot['pct_ci_low']}, {pilot['pct_ci_high']}], ROI {pilot['roi']}"
        )
        for warning in pilot.get("warnings", []):
            print(f"    warning: {warning}")
    for warning in report.get("warnings", []):
        print(f"  warning: {warning}")
    print(f"  report: s3://{blobs.bucket}/{report_key(period, 'html')}")
    print(f"  exported: {exported / report_key(period, 'html')}")
    print(f"  the same queries on Athena: loyalty report --period {period} --aws")
    return True


def cmd_demo(args: argparse.Namespace) -> int:
    return run_demo(partners=args.partners, rows=args.rows, seed=args.seed)


def register(sub: Any) -> None:
    demo = sub.add_parser("demo", help="generate a program, run it through the local cloud, print totals")
    demo.add_argument("--partners", type=int, default=200)
    demo.add_argument("--rows", type=int, default=51_000)
    demo.add_argument("--seed", type=int, default=7)
    demo.set_defaults(func=cmd_demo)
