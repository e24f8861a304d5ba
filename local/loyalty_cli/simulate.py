"""`loyalty simulate --rules FILE [--targets FILE] --from YYYY-MM --to YYYY-MM [--json]`: what
candidate rules would have accrued and paid over closed months, against what was (docs/simulation.md).

The stack's table is only read; the replay runs here, in memory, batch by batch. `--json` streams
one JSON document (partners one by one, then the summary); text mode prints the totals, the cost
per segment and cohort, and the partners with the largest differences."""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from loyalty.adapters.memory.simworld import MemorySimWorld
from loyalty.kernel.money import fmt_eur
from loyalty.program.rules import RuleVersion, parse_rules
from loyalty.simulation.ports import HistorySource
from loyalty.simulation.report import MONEY, Summary
from loyalty.simulation.service import BATCH, Progress, SimulationError, Simulator, Targets

from loyalty_cli.console import Progress as Bar
from loyalty_cli.console import stdout_console, table
from loyalty_cli.stack import Target


def _rules(path: str) -> RuleVersion:
    try:
        return parse_rules(Path(path).read_text())
    except (OSError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        raise SimulationError(f"rules file {path}: {exc}") from None


def run(history: HistorySource, args: argparse.Namespace, out: TextIO) -> int:
    """The command over any history (the stack's table; the in-memory store in tests)."""
    try:
        rules = _rules(args.rules)
        targets = Targets(Path(args.targets).name, Path(args.targets).read_bytes()) if args.targets else None
        sim = Simulator(history, MemorySimWorld, batch_size=args.batch_size)
        sim.check(args.start, args.end)
    except (SimulationError, OSError) as exc:
        print(f"cannot simulate: {exc}", file=sys.stderr)
        return 2
    bar = Bar(f"simulating {args.start}..{args.end} under {rules.version}")

    def progress(p: Progress) -> None:
        bar.update(p.partners_done, p.partners, f"partners (batch {p.batches_done}/{p.batches})")

    summary = Summary()
    head = {"from": args.start, "to": args.end, "rules": rules.version, "targets": args.targets or None}
    try:
        if args.json:
            out.write(json.dumps(head)[:-1] + ', "partners": [')
        for i, result in enumerate(sim.run(rules, args.start, args.end, targets, progress)):
            summary.add(result)
            if args.json:
                out.write(("," if i else "") + "\n " + json.dumps(result.to_json()))
    except SimulationError as exc:
        print(f"cannot simulate: {exc}", file=sys.stderr)
        return 2
    finally:
        bar.close()
    if args.json:
        out.write('\n], "summary": ' + json.dumps(summary.to_json()) + "}\n")
    else:
        print_text(head, summary)
    return 0


def _eur(v: str | Decimal) -> str:
    return fmt_eur(Decimal(v))


def print_text(head: dict[str, Any], summary: Summary) -> None:
    s = summary.to_json()
    console = stdout_console()
    console.print(
        f"simulation {head['from']}..{head['to']} under rules {head['rules']}: {s['partners']} partners, "
        f"{s['partners_changed']} with different figures, {s['partners_tier_moved_differently']} with other tier moves"
    )
    totals = table("EUR", "actual", "simulated", "delta", title="Totals")
    for k in MONEY:
        totals.add_row(k, _eur(s["actual"][k]), _eur(s["simulated"][k]), _eur(s["delta"][k]))
    for k in ("tier_ups", "tier_downs"):
        a, b = s["actual"][k], s["simulated"][k]
        totals.add_row(k, str(a), str(b), str(b - a))
    console.print(totals)
    for name, key in (("segment", "cost_by_segment"), ("cohort", "cost_by_cohort")):
        t = table(name, "partners", "actual cost", "simulated cost", "delta", title=f"Program cost by {name}")
        for g, v in s[key].items():
            t.add_row(
                g, str(v["partners"]), _eur(v["actual_cost"]), _eur(v["simulated_cost"]), _eur(v["delta"])
            )
        console.print(t)
    top = summary.largest()
    if top:
        t = table(
            "partner",
            "commission",
            "bonus",
            "override",
            "cost",
            "payout",
            "tier (actual -> sim)",
            title=f"Largest differences ({len(top)} of {s['partners_changed']})",
        )
        for r in top:
            d = r.to_json()["delta"]
            t.add_row(
                r.partner_id,
                _eur(d["commission"]),
                _eur(d["bonus"]),
                _eur(d["override"]),
                _eur(d["cost"]),
                _eur(d["payout"]),
                f"{r.actual.tier} -> {r.simulated.tier}",
            )
        console.print(t)
    if s["approximate_lines"]:
        console.print(
            f"{s['approximate_lines']} lines were corrected after their month closed: replayed as corrected "
            "(see docs/simulation.md, Exactness)"
        )


def cmd_simulate(args: argparse.Namespace) -> int:
    target = Target.from_args(args)
    return run(target.store(), args, sys.stdout)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "simulate",
        help="what candidate rules would have accrued and paid over closed months, against what was",
    )
    p.add_argument("--rules", required=True, help="the candidate rules file (YAML or JSON)")
    p.add_argument("--targets", help="a candidate targets file (CSV or YAML)")
    p.add_argument("--from", dest="start", required=True, help="first period, YYYY-MM")
    p.add_argument("--to", dest="end", required=True, help="last period, YYYY-MM (closed)")
    p.add_argument("--batch-size", type=int, default=BATCH, help="partners per isolated world")
    p.add_argument("--json", action="store_true", help="machine-readable, streamed")
    p.set_defaults(func=cmd_simulate)
