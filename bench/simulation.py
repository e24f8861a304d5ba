"""(e) what-if simulation of 12 months x 10 000 partners: replay speed (rows/s, partner-closes/s)
and peak memory, in a fresh process.

The program's history is built first on the in-memory adapters the way production builds it:
each month's sales through the accrual writer, then the month's close with finance's approval
(`loyalty.simulation.replay`, the same steps the state machine runs). Then the whole window is
simulated under a candidate (every tier one point more). Memory: the process's peak RSS after
building the history (the live program, all of it in memory here: on AWS it is the table) and
after the simulation; the growth is what the simulation needs (bounded by a batch)."""

from __future__ import annotations

import gc
import json
import random
import resource
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

NOTES = (
    "History built in memory first (the writer and an approved close per month, as production does; "
    "2 lines per partner and month, sponsor chains of ten), then the whole window simulated under a "
    "candidate (+1 point on every tier) in isolated in-memory worlds, one per batch of 200 partners "
    "(whole sponsor trees). rows/s = replayed sales lines per second of simulation (writer, 12 closes "
    "with approval, comparison). The process's peak RSS grows by what the simulation needs on top of "
    "the history (which on AWS is the table, not memory); simulation_traced_peak_mb is the peak of "
    "memory allocated by a second, identical run under tracemalloc: one batch's world at a time "
    "(28.4 MB at 1 000 and at 3 000 partners too: bounded by a batch, not by the program)."
)


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def child(partners: int, months: int, per_month: int, batch: int) -> dict[str, Any]:
    import datetime as dt

    from loyalty.adapters.memory.container import MemoryContainer
    from loyalty.adapters.memory.simworld import IndexedMemoryStore, MemorySimWorld
    from loyalty.ingest.chunks import Chunk
    from loyalty.ingest.sales.block import SaleBlock
    from loyalty.ingest.sales.contract import SaleRow
    from loyalty.program.registry import Partner
    from loyalty.program.rules import parse_rules
    from loyalty.simulation.replay import close_period
    from loyalty.simulation.report import Summary
    from loyalty.simulation.service import Simulator, periods

    rules_text = (ROOT / "rules/default-program.yaml").read_text()
    live = MemoryContainer()
    live.store = IndexedMemoryStore()  # the whole program in memory: indexed by partner
    live.store.put_rule_version(parse_rules(rules_text), "rules/default-program.yaml")
    segments = ("smb", "enterprise", "public")
    live.store.put_partners(
        [
            Partner(
                f"P{i:05d}",
                f"Partner {i}",
                "x@x.example",
                segments[i % 3],
                "DE",
                f"P{i - 1:05d}" if i % 10 else "",  # sponsor chains of ten
                dt.date(2025, 1, 1),
                "pilot" if i % 4 == 0 else "",
                iban="DE89370400440532013000",
                bic="COBADEFFXXX",
            )
            for i in range(partners)
        ]
    )
    rnd = random.Random(7)
    window = periods("2026-01", "2026-12")[:months]
    writer = live.accruals()
    rows = 0
    t0 = time.perf_counter()
    for m in window:
        lines = []
        for i in range(partners):
            for k in range(per_month):
                qty = -1 if k and rnd.random() < 0.05 else rnd.choice((1, 1, 2, 5))
                price = Decimal(rnd.randint(2_000, 400_000)) / 100
                cat = "services" if rnd.random() < 0.2 else "hardware"
                lines.append(
                    SaleRow(
                        0,
                        f"{m}-{i}-{k}",
                        f"P{i:05d}",
                        f"{m}-{1 + rnd.randrange(28):02d}",
                        "SKU-1",
                        qty,
                        price,
                        "EUR",
                        cat,
                        f"C{i}-{rnd.randrange(50)}",
                        "",
                    )
                )
        for j in range(0, len(lines), 500):
            part = [r._replace(line=n) for n, r in enumerate(lines[j : j + 500], start=1)]
            chunk = Chunk(
                f"u-{m}-{j}",
                "0000-000001",
                "bench",
                "bench",
                f"2026-11-01T00:00:00.000Z~{m}~{j:09d}",
                SaleBlock.from_rows(part),
            )
            writer.handle(chunk)
        rows += len(lines)
        close_period(live, m)  # type: ignore[arg-type]
    build_s = time.perf_counter() - t0
    rss_history = _rss_mb()
    gc.collect()
    gc.freeze()  # the history stays: collections after each simulated batch need not scan it

    base = parse_rules(rules_text)
    candidate = base.model_copy(
        update={
            "version": "2027.1",
            "tiers": [t.model_copy(update={"commission_pct": t.commission_pct + 1}) for t in base.tiers],
        }
    )
    sim = Simulator(live.store, MemorySimWorld, batch_size=batch)
    summary = Summary()
    t0 = time.perf_counter()
    for r in sim.run(candidate, window[0], window[-1]):
        summary.add(r)
    sim_s = time.perf_counter() - t0
    rss_after = _rss_mb()
    out = summary.to_json()
    # again under tracemalloc: the simulation's own peak of allocated memory (slower, not timed),
    # and the same report
    again = Summary()
    tracemalloc.start()
    for r in sim.run(candidate, window[0], window[-1]):
        again.add(r)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {
        "partners": partners,
        "months": len(window),
        "rows": rows,
        "batch_size": batch,
        "history_build_seconds": round(build_s, 1),
        "simulation_seconds": round(sim_s, 1),
        "rows_per_s": round(rows / sim_s),
        "partner_closes_per_s": round(partners * len(window) / sim_s),
        "peak_rss_mb_after_history": rss_history,
        "peak_rss_mb_after_simulation": rss_after,
        "simulation_rss_growth_mb": round(rss_after - rss_history, 1),
        "simulation_traced_peak_mb": round(traced_peak / 2**20, 1),
        "rerun_identical": again.to_json() == out,
        "cost_delta_eur": out["delta"]["cost"],
        "partners_changed": out["partners_changed"],
        "notes": NOTES,
    }


if __name__ == "__main__":
    print(json.dumps(child(*(int(a) for a in sys.argv[1:5]))))
