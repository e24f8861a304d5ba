"""(f) Program analytics at scale: the report's queries on DuckDB over generated facts, what each
would cost on Athena, and the facts writer's speed.

(a) partner_month / line_month Parquet for `partners` x `months` ending with `last` is generated
    (loyalty_factories.analytics, DuckDB SQL; in a child process: its wall time and peak RSS);
(b) every query file of `loyalty/analytics/queries/` runs on `DuckDBEngine` in a fresh child
    process, 3 times: wall time (view creation +
    query + fetch; median) and peak RSS (the child's VmHWM); then the whole report (`build_report`, the
    pilot included) in a fresh child, 3 times;
(c) the bytes each query would scan on Athena (loyalty_local.athena: its columns, in the
    partitions its period predicates select, from the files' column-chunk sizes), billed with
    Athena's 10 MB minimum at $5 per TB; a report run = every query once;
(d) `write_parquet` of 10 000 partner_month rows (dicts, money as Decimal, as the close emits
    them): time per 10 000 partners, median of 5.

Parameters are given by name (`param_values`; docs/analytics-bench.md): the report's own
`report_params(period)` when it exists, else `period` the last month, `period_prev`,
`period_m2`, `period_m3` the three before, `period_from` the first of the trailing 12 months,
`period_base` the month 12 before; other `*_from` / `*_to` the trailing 12 months' ends; the
pilot panel query gets the pilot's panel parameters (`panel_params`). A parameter no rule names stops the bench.

Usage: python bench/analytics.py [partners] [months] [last_period]   -> one JSON line
"""

from __future__ import annotations

import datetime as dt
import importlib
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REPS = 3
WRITER_ROWS = 10_000
WRITER_REPS = 5
PILOT_SHARE = 0.1
PLANTED_UPLIFT = 0.05
# the writer's layer-size comparison measured by the lead (docs/analytics.md): pyarrow is not a
# dependency of the project, so the bench cannot time it
LEAD_LAYER_MB = {
    "duckdb_2.0.1": {"zipped": 25, "unzipped": 62},
    "pyarrow_26.0.1": {"zipped": 55, "unzipped": 151},
    "measured": "arm64 wheels, by the lead (docs/analytics.md)",
}


def _rss_mb(field: str) -> float:
    """VmHWM (peak) or VmRSS (now) of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    raise SystemExit(f"no {field} in /proc/self/status (Linux only)")


# -- parameters ------------------------------------------------------------------------------------
def param_values(period: str, pilot: Mapping[str, str]) -> dict[str, str]:
    """Every parameter value by name for a report of `period`: the report's own `report_params`
    (the month, the three before, the first of the trailing 12, the month 12 before), and the
    pilot's cohort, version and start."""
    from loyalty.analytics.report import report_params

    return report_params(period) | {
        "period_to": period,
        "cohort": pilot.get("cohort", ""),
        "version": pilot.get("version", ""),
        "start": pilot.get("start", ""),
    }


def params_for(
    name: str, wanted: tuple[str, ...], known: Mapping[str, str], panel: Mapping[str, str]
) -> dict[str, str]:
    """The query's parameters by name; the pilot panel gets the pilot's panel parameters; `*_from` /
    `*_to` not named above are the trailing 12 months' ends."""
    out = {}
    for p in wanted:
        if name == "pilot_panel" and p in panel:
            out[p] = panel[p]
        elif p in known:
            out[p] = known[p]
        elif p.endswith("_from"):
            out[p] = known["period_from"]
        elif p.endswith("_to"):
            out[p] = known["period"]
        else:
            raise SystemExit(
                f"no value for parameter {p!r} of query {name} (bench/analytics.py param_values)"
            )
    return out


def pilot_versions(first: str, pilot: Mapping[str, str]) -> list[Any]:
    """The default rules from the first month, and the pilot version scoped to the cohort."""
    from loyalty.program.rules import Scope, parse_rules

    base = parse_rules((ROOT / "rules/default-program.yaml").read_text())
    base = base.model_copy(update={"effective_from": dt.date.fromisoformat(f"{first}-01")})
    if not pilot.get("version"):
        return [base]
    tiers = [t.model_copy(update={"commission_pct": t.commission_pct + 1}) for t in base.tiers]
    version = base.model_copy(
        update={
            "version": pilot["version"],
            "effective_from": dt.date.fromisoformat(f"{pilot['start']}-01"),
            "scope": Scope(cohort=pilot["cohort"]),
            "tiers": tiers,
        }
    )
    return [base, version]


def panel_for(period: str, first: str, pilot: Mapping[str, str]) -> dict[str, str]:
    """The pilot panel's parameters (`panel_params`, as the report asks: its window, the last
    month before the start, the start), else every month with the last one as the start."""
    from loyalty.analytics.panel import panel_params
    from loyalty.kernel.periods import previous_period

    if not pilot.get("version"):
        return {"period_from": first, "period_to": period, "pre_to": previous_period(period), "start": period}
    return panel_params(pilot_versions(first, pilot)[-1], period)


# -- the queries -----------------------------------------------------------------------------------
def queries() -> list[Any]:
    """Every query file of the report (loyalty/analytics/queries/*.sql)."""
    from loyalty.analytics.engine import load_query, query_names

    return [load_query(n) for n in query_names()]


def child_query(name: str, root: str, params: str) -> None:
    from loyalty.analytics.engine import DuckDBEngine

    base = _rss_mb("VmRSS")  # Python, DuckDB and the project imported
    (query,) = [q for q in queries() if q.name == name]
    t = time.perf_counter()
    engine = DuckDBEngine(Path(root))
    rows = engine.run(query, json.loads(params))
    engine.close()
    seconds = time.perf_counter() - t
    print(
        json.dumps(
            {"seconds": seconds, "rows": len(rows.rows), "peak_rss_mb": _rss_mb("VmHWM"), "base_rss_mb": base}
        )
    )


def child_report(root: str, period: str, spec: str) -> None:
    from loyalty.analytics.engine import DuckDBEngine
    from loyalty.analytics.report import build_report

    base = _rss_mb("VmRSS")
    s = json.loads(spec)
    t = time.perf_counter()
    engine = DuckDBEngine(Path(root))
    built = build_report(engine, period, pilot_versions(s["first"], s["pilot"]), "2026-11-01T00:00:00Z")
    size = len(json.dumps(built.to_json()))
    engine.close()
    seconds = time.perf_counter() - t
    print(
        json.dumps(
            {
                "seconds": seconds,
                "mode": "build_report",
                "report_json_bytes": size,
                "peak_rss_mb": _rss_mb("VmHWM"),
                "base_rss_mb": base,
            }
        )
    )


def child_generate(root: str, partners: str, months: str, last: str) -> None:
    from loyalty_factories.analytics import generate_facts

    t = time.perf_counter()
    s = generate_facts(
        Path(root), int(partners), int(months), last, pilot_share=PILOT_SHARE, planted_uplift=PLANTED_UPLIFT
    )
    seconds = time.perf_counter() - t
    print(
        json.dumps(
            {
                "seconds": round(seconds, 2),
                "partner_month_rows": s.partner_month_rows,
                "line_month_rows": s.line_month_rows,
                "files": s.files,
                "mb": round(s.bytes / 2**20, 1),
                "part_partners": s.part_partners,
                "peak_rss_mb": _rss_mb("VmHWM"),
                "periods": [s.periods[0], s.periods[-1]],
                "pilot": {"cohort": s.pilot_cohort, "version": s.pilot_version, "start": s.pilot_start,
                          "partners": s.pilot_partners, "planted_uplift": PLANTED_UPLIFT},
            }
        )
    )  # fmt: skip


def _child(*args: str) -> dict[str, Any]:
    run = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=False)
    if run.returncode:
        raise SystemExit(f"bench/analytics.py {args[0]} failed:\n{run.stderr[-4000:]}")
    out = json.loads(run.stdout.splitlines()[-1])
    assert isinstance(out, dict)
    return out


def _repeat(*args: str) -> dict[str, Any]:
    runs = [_child(*args) for _ in range(REPS)]
    return {
        "seconds_median": round(statistics.median(r["seconds"] for r in runs), 3),
        "seconds_runs": [round(r["seconds"], 3) for r in runs],
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "base_rss_mb": round(statistics.median(r["base_rss_mb"] for r in runs), 1),
        **{k: v for k, v in runs[-1].items() if k not in ("seconds", "peak_rss_mb", "base_rss_mb")},
    }


# -- (d) the writer --------------------------------------------------------------------------------
def bench_writer(root: Path, period: str) -> dict[str, Any]:
    import duckdb
    from loyalty.analytics.parquet import write_parquet
    from loyalty.analytics.schema import PARTNER_MONTH

    src = (root / PARTNER_MONTH.partition(period)).as_posix() + "/*.parquet"
    cur = duckdb.connect().execute(f"SELECT * FROM read_parquet('{src}') LIMIT {WRITER_ROWS}")
    names = [d[0] for d in cur.description or ()]
    rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]  # fewer in a small trial run
    assert isinstance(rows[0]["net_sales"], Decimal)
    times, size = [], 0
    with tempfile.TemporaryDirectory(prefix="bench-writer-") as tmp:
        for i in range(WRITER_REPS):
            dest = Path(tmp) / f"part-{i:05d}.parquet"
            t = time.perf_counter()
            write_parquet(PARTNER_MONTH, rows, dest)
            times.append(time.perf_counter() - t)
            size = dest.stat().st_size
        out: dict[str, Any] = {
            "rows": len(rows),
            "seconds_per_10k_partners_median": round(statistics.median(times) * 10_000 / len(rows), 3),
            "seconds_runs": [round(t, 3) for t in times],
            "file_kb": round(size / 1024, 1),
            "pyarrow_importable": importlib.util.find_spec("pyarrow") is not None,
            "layer_unzipped_mb": LEAD_LAYER_MB,
        }
        if out["pyarrow_importable"]:
            out["pyarrow_seconds_per_10k_partners_median"] = _pyarrow_time(rows, Path(tmp))
    return out


def _pyarrow_time(rows: list[dict[str, Any]], tmp: Path) -> float:
    pa = importlib.import_module("pyarrow")
    pq = importlib.import_module("pyarrow.parquet")
    times = []
    for i in range(WRITER_REPS):
        t = time.perf_counter()
        pq.write_table(pa.Table.from_pylist(rows), str(tmp / f"pa-{i}.parquet"), compression="zstd")
        times.append(time.perf_counter() - t)
    return round(statistics.median(times) * 10_000 / len(rows), 3)


# -- the bench -------------------------------------------------------------------------------------
def bench(partners: int, months: int, last: str) -> dict[str, Any]:
    from loyalty.analytics.schema import TABLES
    from loyalty_local.athena import MB, column_bytes, estimate_scan

    with tempfile.TemporaryDirectory(prefix="bench-analytics-") as tmp:
        root = Path(tmp)
        gen = _child("--child-generate", tmp, str(partners), str(months), last)
        first, pilot = gen["periods"][0], gen["pilot"]
        known = param_values(last, pilot)
        panel = panel_for(last, first, pilot)
        found = queries()
        sizes = column_bytes(root, {t.name: t.prefix() for t in TABLES.values()})
        schema = {t.name: t.names for t in TABLES.values()}
        results: dict[str, Any] = {}
        for q in found:
            params = params_for(q.name, q.params, known, panel)
            est = estimate_scan(q.sql, q.values(params), schema, sizes)
            results[q.name] = {
                "params": params,
                **_repeat("--child-query", q.name, tmp, json.dumps(params)),
                "athena": {
                    "scanned_mb": round(est.bytes / MB, 2),
                    "billed_mb": round(est.billed_bytes / MB),
                    "usd": round(est.usd, 6),
                    "scans": [
                        {"table": s.table, "columns": list(s.columns), "partitions": len(s.partitions),
                         "mb": round(s.bytes / MB, 2)}
                        for s in est.scans
                    ],
                },
            }  # fmt: skip
            print(
                f"  {q.name}: {results[q.name]['seconds_median']} s, {results[q.name]['peak_rss_mb']} MB",
                file=sys.stderr,
            )
        spec = json.dumps({"first": first, "pilot": pilot})
        report = _repeat("--child-report", tmp, last, spec)
        bare = _repeat("--child-report", tmp, last, json.dumps({"first": first, "pilot": {}}))
        writer = bench_writer(root, last)
    scanned = sum(r["athena"]["scanned_mb"] for r in results.values())
    billed = sum(r["athena"]["billed_mb"] for r in results.values())
    usd = sum(r["athena"]["usd"] for r in results.values())
    return {
        "partners": partners,
        "months": months,
        "cpu_count": os.cpu_count(),
        "duckdb": importlib.import_module("duckdb").__version__,
        "generate": gen,
        "queries_source": "layers/common/loyalty/analytics/queries",
        "param_values": {k: v for k, v in known.items() if v} | {"pilot_panel": panel},
        "queries": results,
        "report": report,  # with the pilot: its panel aggregated per partner and side in SQL
        "report_without_pilots": bare,
        "athena_per_report_run": {
            "queries": len(results),
            "scanned_mb": round(scanned, 1),
            "billed_mb": billed,
            "usd": round(usd, 5),
            "usd_per_year_monthly_closes": round(12 * usd, 4),
        },
        "writer": writer,
        "notes": (
            "Wall times and peak RSS of fresh child processes (Python + DuckDB imported, the views "
            "created over every file, the query run and fetched), DuckDB's default threads "
            "(the machine's cores) and memory limit, on a shared 2-core machine. Athena bytes: the "
            "compressed column chunks of the columns each query uses, in the partitions its period "
            "predicates select (Parquet footers not counted; no row-group skipping credited): an "
            "upper bound; billed at least 10 MB per query, rounded up to the MB, $5 per TB. "
            "Facts: generated (loyalty_factories.analytics), partner_month in parts of "
            f"{gen['part_partners']} partners per period, zstd."
        ),
    }


def main(argv: list[str]) -> int:
    children: dict[str, Callable[..., None]] = {
        "--child-query": child_query,
        "--child-report": child_report,
        "--child-generate": child_generate,
    }
    if argv and argv[0] in children:
        children[argv[0]](*argv[1:])
        return 0
    partners = int(argv[0]) if argv else 100_000
    months = int(argv[1]) if len(argv) > 1 else 24
    last = argv[2] if len(argv) > 2 else "2026-10"
    if not re.match(r"^\d{4}-\d{2}$", last):
        raise SystemExit("usage: python bench/analytics.py [partners] [months] [YYYY-MM]")
    print(json.dumps(bench(partners, months, last)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
