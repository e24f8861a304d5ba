"""The pilot panel aggregated in SQL (issue 13, docs/analytics-uplift.md): `pilot_panel` on DuckDB
over Parquet answers exactly what `panel_groups` makes of the same partner-months (gaps, a mid-month
start, a partner changing segment, a duplicated month), and `rows_of` reads its answer."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from loyalty.analytics.engine import DuckDBEngine, Rows, load_query
from loyalty.analytics.panel import PanelGroup, PanelRow, panel_groups, panel_params, rows_of

from tests.unit.analytics_world import partner_row, write_facts
from tests.unit.uplift_world import panel, version

D = Decimal


def facts(rows: list[PanelRow]) -> dict[str, list[dict[str, Any]]]:
    """partner_month rows of the panel rows, the cost split over the four cost columns."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        quarter = (r.cost / 4).quantize(D("0.01"))
        out[r.period].append(
            partner_row(
                r.partner_id,
                r.period,
                r.net_sales,
                segment=r.segment,
                cohort=r.cohort,
                commission=str(quarter),
                bonuses=str(quarter),
                overrides=str(quarter),
                points_cost=str(r.cost - 3 * quarter),
            )
        )
    return out


def test_the_query_answers_what_panel_groups_makes_of_the_same_partner_months(tmp_path: Path) -> None:
    v = version(effective_from="2026-01-15")  # start 2026-02, 2026-01 mixed
    world = panel(8, 12, first="2024-11", last="2026-06", seed=31)
    rng = np.random.default_rng(31)
    rows = [r for r in world.rows if rng.random() > 0.2]  # gaps
    moved = PanelRow("M1", "2025-06", "enterprise", "", D("700.10"), D("35.00"))
    rows += [moved, PanelRow("M1", "2026-03", "smb", "", D("810.00"), D("40.50"))]
    rows += [PanelRow("C00008", "2026-03", "smb", "", D("-12.34"), D("0.66"))]  # a second row of a month
    answer = DuckDBEngine(write_facts(tmp_path, facts(rows))).run(
        load_query("pilot_panel"), panel_params(v, "2026-05")
    )
    got = rows_of(answer)
    assert got == panel_groups(v, rows, "2026-05")
    assert {(g.side, g.side_months) for g in got} == {("pre", 11), ("post", 4)}  # 2025-02..12, 02..05
    m1 = [(g.segment, g.side, g.months, g.t_sum, g.t_sales) for g in got if g.partner_id == "M1"]
    assert m1 == [("smb", "post", 1, 1, D("810.00")), ("enterprise", "pre", 1, -8, D("-5600.80"))]


def test_panel_params_leave_a_mid_month_start_s_month_out() -> None:
    assert panel_params(version(effective_from="2026-01-01"), "2026-10") == {
        "period_from": "2025-01",
        "period_to": "2026-10",
        "pre_to": "2025-12",
        "start": "2026-01",
    }
    assert panel_params(version(effective_from="2026-03-15"), "2026-10") == {
        "period_from": "2025-04",
        "period_to": "2026-10",
        "pre_to": "2026-02",
        "start": "2026-04",
    }


def test_rows_of_reads_the_pilot_panel_query_s_answer() -> None:
    rows = Rows(
        ("partner_id", "segment", "cohort", "side", "months", "net_sales", "cost", "t_sum", "t2_sum",
         "t_sales", "side_months"),
        (
            ("P1", "smb", "pilot", "pre", 2, D("1200.50"), D("60.03"), -3, 5, D("-2000.00"), 12),
            # Athena answers in strings; a missing cohort and cost
            ("P2", "enterprise", None, "post", "3", "-15.10", None, "3", "5", "-30.20", "4"),
        ),
    )  # fmt: skip
    assert rows_of(rows) == [
        PanelGroup("P1", "smb", "pilot", "pre", 2, D("1200.50"), D("60.03"), -3, 5, D("-2000.00"), 12),
        PanelGroup("P2", "enterprise", "", "post", 3, D("-15.10"), D(0), 3, 5, D("-30.20"), 4),
    ]
