"""build_report over DuckDB and hand-made facts: the JSON shape SPEC13 fixes, the figures worked
out by hand (tests/unit/analytics_world.py), the warnings, the CSV tables and the key figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from loyalty.analytics.engine import DuckDBEngine
from loyalty.analytics.figures import key_figures, pct, per_eur
from loyalty.analytics.report import Report, build_report, report_params, report_periods

from tests.unit.analytics_world import default_rules, partner_row, write_facts, write_world

STAMP = "2026-11-01T02:30:00Z"
K_KEYS = {
    "partners",
    "active_partners",
    "retention_pct",
    "net_sales",
    "commission",
    "bonuses",
    "overrides",
    "points_cost",
    "program_cost",
    "cost_per_eur",
    "payouts",
    "carried",
    "points_liability",
}


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    engine = DuckDBEngine(write_world(tmp_path_factory.mktemp("facts")))
    return build_report(engine, "2026-10", [default_rules()], STAMP)


def test_the_json_has_spec13s_shape_and_is_plain_json(report: Report) -> None:
    doc = report.to_json()
    assert json.loads(json.dumps(doc)) == doc  # strings, ints, None: no Decimal, no float
    assert set(doc) == {
        "period",
        "from",
        "schema_version",
        "generated_at",
        "kpis",
        "activity",
        "tiers",
        "sales",
        "cost",
        "payouts",
        "top_movers",
        "at_risk",
        "pilots",
        "warnings",
    }
    assert (doc["period"], doc["from"], doc["schema_version"], doc["generated_at"]) == (
        "2026-10",
        "2025-11",
        1,
        STAMP,
    )
    assert set(doc["kpis"]) == {"month", "t12"}
    assert set(doc["kpis"]["month"]) == set(doc["kpis"]["t12"]) == K_KEYS
    assert set(doc["tiers"]) == {"distribution", "movement"}
    assert set(doc["sales"]) == {"by_segment", "by_category", "by_country"}
    assert set(doc["top_movers"]) == {"up", "down"}
    assert {frozenset(r) for r in doc["activity"]} == {
        frozenset({"period", "partners", "active", "retained", "retention_pct"})
    }
    assert set(doc["cost"][0]) == {
        "period",
        "commission",
        "bonuses",
        "overrides",
        "points_cost",
        "program_cost",
        "net_sales",
        "cost_per_eur",
    }
    assert set(doc["payouts"][0]) == {"period", "payout", "carried", "paid_partners"}
    assert set(doc["top_movers"]["up"][0]) == {"partner_id", "segment", "net_sales", "previous", "change"}
    assert set(doc["at_risk"][0]) == {"partner_id", "segment", "months"}
    assert doc["pilots"] == []  # the default program has no pilot scope


def test_kpis_of_the_month_and_the_12_months(report: Report) -> None:
    k = report.to_json()["kpis"]
    assert k["month"] == {
        "partners": 6,
        "active_partners": 5,
        "retention_pct": "80.0",  # A B D F of A B C D F
        "net_sales": "2520.00",
        "commission": "51.00",
        "bonuses": "100.00",
        "overrides": "3.25",
        "points_cost": "1.50",
        "program_cost": "155.75",
        "cost_per_eur": "0.0618",  # 155.75 / 2520 = 0.06180...
        "payouts": "560.00",
        "carried": "40.00",
        "points_liability": "13.00",
    }
    t12 = k["t12"]
    assert (t12["partners"], t12["active_partners"], t12["retention_pct"]) == (6, 6, "66.7")  # A B of A B G
    assert (t12["net_sales"], t12["commission"], t12["program_cost"]) == ("15040.00", "91.00", "195.75")
    assert t12["cost_per_eur"] == "0.0130"  # 195.75 / 15040 = 0.01301...
    assert (t12["carried"], t12["points_liability"]) == ("40.00", "13.00")


def test_activity_lists_the_months_with_facts_and_their_retention(report: Report) -> None:
    assert report.to_json()["activity"] == [
        {"period": "2026-07", "partners": 5, "active": 3, "retained": 0, "retention_pct": None},
        {"period": "2026-08", "partners": 5, "active": 4, "retained": 3, "retention_pct": "100.0"},
        {"period": "2026-09", "partners": 5, "active": 5, "retained": 4, "retention_pct": "100.0"},
        {"period": "2026-10", "partners": 6, "active": 5, "retained": 4, "retention_pct": "80.0"},
    ]


def test_tiers_in_the_rules_order(report: Report) -> None:
    tiers = report.to_json()["tiers"]
    assert tiers["distribution"] == [
        {"tier": "Bronze", "partners": 3},
        {"tier": "Silver", "partners": 2},
        {"tier": "Gold", "partners": 1},
    ]
    assert [(m["from"], m["to"], m["partners"]) for m in tiers["movement"]] == [
        ("Bronze", "Bronze", 3),
        ("Silver", "Silver", 1),
        ("Silver", "Gold", 1),
        ("Gold", "Silver", 1),
    ]


def test_sales_cost_payouts_movers_and_risk(report: Report) -> None:
    doc = report.to_json()
    assert doc["sales"]["by_segment"][0] == {"segment": "smb", "net_sales": "1700.00", "t12": "13200.00"}
    assert doc["sales"]["by_category"][0] == {
        "category": "hardware",
        "net_sales": "1500.00",
        "t12": "4500.00",
    }
    assert [c["country"] for c in doc["sales"]["by_country"]] == ["DE", "AT", "FR"]
    oct_ = doc["cost"][-1]
    assert (oct_["period"], oct_["program_cost"], oct_["cost_per_eur"]) == ("2026-10", "155.75", "0.0618")
    assert doc["cost"][0] == {
        "period": "2026-07",
        "commission": "0.00",
        "bonuses": "0.00",
        "overrides": "0.00",
        "points_cost": "0.00",
        "program_cost": "0.00",
        "net_sales": "5200.00",
        "cost_per_eur": "0.0000",
    }
    assert doc["payouts"][-1] == {
        "period": "2026-10",
        "payout": "560.00",
        "carried": "40.00",
        "paid_partners": 2,
    }
    assert doc["top_movers"]["up"][0] == {
        "partner_id": "B",
        "segment": "enterprise",
        "net_sales": "600.00",
        "previous": "350.00",
        "change": "250.00",
    }
    assert [m["partner_id"] for m in doc["top_movers"]["down"]] == ["A", "C", "F"]
    assert doc["at_risk"] == [
        {
            "partner_id": "A",
            "segment": "smb",
            "months": [
                {"period": "2026-07", "net_sales": "4000.00"},
                {"period": "2026-08", "net_sales": "3000.00"},
                {"period": "2026-09", "net_sales": "2000.00"},
                {"period": "2026-10", "net_sales": "1000.00"},
            ],
        }
    ]


def test_a_partial_history_is_a_warning(report: Report) -> None:
    warnings = report.to_json()["warnings"]
    assert len(warnings) == 1
    assert "only 4 of the 12 months 2025-11..2026-10 have facts" in warnings[0]
    assert "2025-11" in warnings[0] and "2026-06" in warnings[0]


def test_a_full_history_has_no_warning(tmp_path: Path) -> None:
    months = report_periods("2026-10", [])
    assert months[0] == "2025-10" and len(months) == 13
    facts = {m: [partner_row("A", m, 100 + i), partner_row("B", m, 50)] for i, m in enumerate(months)}
    doc = build_report(
        DuckDBEngine(write_facts(tmp_path, facts)), "2026-10", [default_rules()], STAMP
    ).to_json()
    assert doc["warnings"] == []
    assert len(doc["activity"]) == 12 and doc["activity"][0]["period"] == "2025-11"
    assert doc["kpis"]["t12"]["retention_pct"] == "100.0"
    assert doc["at_risk"] == []


def test_no_facts_for_the_month_says_so_and_shows_nothing(tmp_path: Path) -> None:
    doc = build_report(DuckDBEngine(tmp_path), "2026-10", [default_rules()], STAMP).to_json()
    month = doc["kpis"]["month"]
    assert (month["partners"], month["net_sales"], month["retention_pct"], month["cost_per_eur"]) == (
        0,
        "0.00",
        None,
        None,
    )
    assert doc["activity"] == doc["cost"] == doc["payouts"] == doc["at_risk"] == []
    assert doc["top_movers"] == {"up": [], "down": []}
    assert any(w.startswith("no facts for 2026-10") for w in doc["warnings"])
    assert any("only 0 of the 12 months" in w for w in doc["warnings"])
    assert any("no 12-month retention" in w for w in doc["warnings"])


def test_without_the_month_before_there_are_no_movers(tmp_path: Path) -> None:
    facts = {"2026-08": [partner_row("A", "2026-08", 10)], "2026-10": [partner_row("A", "2026-10", 500)]}
    doc = build_report(
        DuckDBEngine(write_facts(tmp_path, facts)), "2026-10", [default_rules()], STAMP
    ).to_json()
    assert doc["top_movers"] == {"up": [], "down": []}
    assert any("no facts for 2026-09: no top movers" in w for w in doc["warnings"])
    assert any("no facts for 2026-09: no month retention" in w for w in doc["warnings"])


def test_more_partners_at_risk_than_listed_is_a_warning(tmp_path: Path) -> None:
    months = ["2026-07", "2026-08", "2026-09", "2026-10"]
    facts = {
        m: [partner_row(f"P{i:02d}", m, 1000 - k * (i + 1)) for i in range(53)] for k, m in enumerate(months)
    }
    doc = build_report(
        DuckDBEngine(write_facts(tmp_path, facts)), "2026-10", [default_rules()], STAMP
    ).to_json()
    assert len(doc["at_risk"]) == 50
    assert "53 partners at risk; the 50 with the largest fall are listed" in doc["warnings"]


def test_report_params_and_periods() -> None:
    assert report_params("2026-02") == {
        "period": "2026-02",
        "period_prev": "2026-01",
        "period_m2": "2025-12",
        "period_m3": "2025-11",
        "period_from": "2025-03",
        "period_base": "2025-02",
    }
    with pytest.raises(ValueError, match="YYYY-MM"):
        report_params("2026-13")
    assert report_periods("2026-02", [default_rules()]) == [
        f"{y}-{m:02d}" for y, m in [(2025, m) for m in range(2, 13)] + [(2026, 1), (2026, 2)]
    ]


def test_ratios_are_none_without_a_base() -> None:
    assert pct(1, 0) is None and per_eur(5, 0) is None and per_eur(5, -10) is None
    assert pct(2, 3) == "66.7" and pct(1, 8) == "12.5"
    assert per_eur("0.00005", 1) == "0.0000" and per_eur("0.00015", 1) == "0.0002"  # half-even


def test_tables_one_per_section_with_rows_as_long_as_headers(report: Report) -> None:
    tables = report.tables()
    assert set(tables) == {
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
    }
    for name, (headers, rows) in tables.items():
        assert all(len(r) == len(headers) for r in rows), name
        assert all(isinstance(c, str) for r in rows for c in r), name
    headers, rows = tables["kpis"]
    assert headers == ["figure", "month", "t12"]
    assert ["net_sales", "2520.00", "15040.00"] in rows
    assert ["retention_pct", "80.0", "66.7"] in rows
    assert tables["at_risk"] == (
        ["partner_id", "segment", "2026-07", "2026-08", "2026-09", "2026-10"],
        [["A", "smb", "4000.00", "3000.00", "2000.00", "1000.00"]],
    )
    assert tables["top_movers"][1][0] == ["up", "B", "enterprise", "600.00", "350.00", "250.00"]
    assert tables["activity"][1][0] == ["2026-07", "5", "3", "0", ""]


def test_key_figures(report: Report) -> None:
    figures = dict(key_figures(report.to_json()))
    assert figures["Period"] == "2026-10 (trailing 12 months from 2025-11)"
    assert figures["Active partners"] == "5 of 6"
    assert figures["Retention, month"] == "80.0 %"
    assert figures["Net sales EUR"] == "2 520.00"
    assert figures["Net sales EUR, 12 months"] == "15 040.00"
    assert figures["Program cost EUR"] == "155.75"
    assert figures["Cost per EUR of sales"] == "0.0618"
    assert figures["Points liability EUR"] == "13.00"
    assert figures["Partners at risk (listed)"] == "1"
    assert figures["Warnings"] == "1"


def test_key_figures_of_a_pilot() -> None:
    doc: dict[str, Any] = {
        "period": "2026-10",
        "from": "2025-11",
        "kpis": {
            s: dict.fromkeys(K_KEYS, None) | {"partners": 0, "active_partners": 0} for s in ("month", "t12")
        },
        "at_risk": [],
        "pilots": [
            {
                "version": "2026.2-pilot",
                "cohort": "north",
                "segments": [],
                "start": "2026-05",
                "uplift_pct": "8.1",
                "pct_ci_low": "3.2",
                "pct_ci_high": "13.0",
                "roi": "1.45",
                "warnings": ["fewer than 30 pilot partners"],
            },
            {"version": "v3", "cohort": None, "segments": ["smb"], "start": "2026-09", "uplift_pct": None},
        ],
        "warnings": [],
    }
    figures = key_figures(doc)
    assert ("Pilot 2026.2-pilot (north, from 2026-05)", "8.1 % [3.2; 13.0], ROI 1.45 (1 warning)") in figures
    assert ("Pilot v3 (smb, from 2026-09)", "no estimate") in figures
    assert ("Net sales EUR", "-") in figures


def test_key_figures_load_without_duckdb() -> None:
    # the finance API reads a stored report's key figures; its layers ship no DuckDB
    import subprocess
    import sys

    code = "import sys, loyalty.analytics.figures; print('duckdb' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_pilot_is_estimated_from_the_panel_query(tmp_path: Path) -> None:
    # +8 % planted on the pilot cohort from 2026-05 (tests/unit/uplift_world.py); the facts go
    # through Parquet, pilot_panel.sql and loyalty.analytics.uplift
    from tests.unit.uplift_world import panel, version

    world = panel(40, 40, first="2025-05", last="2026-10", start="2026-05", uplift=1.08, seed=7)
    facts: dict[str, list[dict[str, Any]]] = {}
    for r in world.rows:
        facts.setdefault(r.period, []).append(
            partner_row(
                r.partner_id,
                r.period,
                r.net_sales,
                segment=r.segment,
                cohort=r.cohort,
                commission=str(r.cost),
            )
        )
    pilot = version("2026-05-01", cohort="pilot", name="2026.5-pilot")
    versions = [default_rules(), pilot]
    assert report_periods("2026-10", versions)[0] == "2025-05"  # the pilot's pre-period, before the 13 months
    doc = build_report(DuckDBEngine(write_facts(tmp_path, facts)), "2026-10", versions, STAMP).to_json()
    [result] = doc["pilots"]
    assert (result["version"], result["start"], result["pilot_partners"], result["control_partners"]) == (
        "2026.5-pilot",
        "2026-05",
        40,
        40,
    )
    assert float(result["pct_ci_low"]) < 8 < float(result["pct_ci_high"])
    assert json.loads(json.dumps(doc)) == doc
    figures = dict(key_figures(doc))
    assert figures["Pilot 2026.5-pilot (pilot, from 2026-05)"].startswith(f"{result['uplift_pct']} % [")
    headers, rows = build_report(DuckDBEngine(tmp_path), "2026-10", versions, STAMP).tables()["pilots"]
    assert rows[0][headers.index("uplift_pct")] == result["uplift_pct"]
