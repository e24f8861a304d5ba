"""Every report query runs on DuckDB over Parquet with the answers worked out by hand
(tests/unit/analytics_world.py), and is in the SQL subset Athena (Trino) runs too."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlglot
from loyalty.analytics.engine import DuckDBEngine, Query, load_query, query_names
from loyalty.analytics.report import REPORT_QUERIES, report_params

from tests.unit.analytics_world import write_world
from tests.unit.sql_subset import subset_problems

# the report's parameters, and a pilot panel's (loyalty.analytics.panel.panel_params) for a pilot from 2026-10
PARAMS = {**report_params("2026-10"), "period_to": "2026-10", "pre_to": "2026-09", "start": "2026-10"}
D = Decimal


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> DuckDBEngine:
    return DuckDBEngine(write_world(tmp_path_factory.mktemp("facts")))


def run(engine: DuckDBEngine, name: str, **params: str) -> list[dict[str, Any]]:
    return engine.run(load_query(name), {**PARAMS, **params}).dicts()


# -- the dialect ----------------------------------------------------------------------------------
def test_the_report_runs_every_query_file_but_the_pilot_panel() -> None:
    assert sorted(REPORT_QUERIES) == sorted(n for n in query_names() if n != "pilot_panel")


@pytest.mark.parametrize("name", query_names())
def test_query_parses_as_trino_and_is_in_the_subset(name: str) -> None:
    sql = load_query(name).sql
    sqlglot.parse_one(sql, read="trino")  # raises on anything Athena's parser would not take
    # DuckDB's reading, written as Trino, parses as Trino again (the transpiled round trip)
    sqlglot.parse_one(sqlglot.transpile(sql, read="duckdb", write="trino")[0], read="trino")
    assert subset_problems(sql) == []


@pytest.mark.parametrize("name", query_names())
def test_query_runs_on_duckdb_with_its_declared_params(name: str, engine: DuckDBEngine) -> None:
    query = load_query(name)
    assert query.params, f"{name}: first line must be `-- params: ...`"
    assert set(query.params) <= set(PARAMS)
    rows = engine.run(query, PARAMS)
    assert rows.columns  # a result shape, even when empty


@pytest.mark.parametrize(
    ("sql", "why"),
    [
        ("SELECT net_sales::INTEGER FROM partner_month", "`::` cast"),
        ("SELECT SUM(net_sales) / COUNT(*) FROM partner_month", "division"),
        ("SELECT list_sum(x) FROM partner_month", "function list_sum"),
        ("SELECT strftime(period, '%Y') FROM partner_month", "function strftime"),
        ("SELECT partner_id FROM partner_month WHERE segment ILIKE 's%'", "not Trino as written"),
        ("FROM partner_month SELECT partner_id", "not Trino as written"),
        ("SELECT * EXCLUDE (period) FROM partner_month", "not Trino as written"),
        ("SELECT partner_id FROM partner_month QUALIFY ROW_NUMBER() OVER () = 1", "does not parse as Trino"),
    ],
)
def test_the_subset_check_catches_duckdb_only_sql(sql: str, why: str) -> None:
    problems = subset_problems(sql)
    assert any(why in p for p in problems), problems


def test_a_query_file_with_a_duckdb_cast_is_caught(tmp_path: Path) -> None:
    # the same check the query files go through, on a file that would run on DuckDB only
    good = load_query("tier_distribution").sql
    bad = good.replace("COUNT(*) AS partners", "COUNT(*)::INTEGER AS partners")
    assert bad != good
    path = tmp_path / "tier_distribution.sql"
    path.write_text(bad, encoding="utf-8")
    problems = subset_problems(path.read_text(encoding="utf-8"))
    assert any("`::`" in p for p in problems)
    # and yet DuckDB runs it: only the check stops it from reaching Athena
    engine = DuckDBEngine(tmp_path)
    assert engine.run(Query("bad", bad, ("period",)), PARAMS).columns == ("tier", "partners")


# -- the answers ----------------------------------------------------------------------------------
def test_kpis_month_and_trailing_12(engine: DuckDBEngine) -> None:
    rows = {r["scope"]: r for r in run(engine, "kpis")}
    month, t12 = rows["month"], rows["t12"]
    # 2026-10: A B C D E F in the facts; C quiet; active in 09: A B C D F, of them active in 10: A B D F
    assert (month["partners"], month["active_partners"]) == (6, 5)
    assert (month["retained"], month["retention_base"]) == (4, 5)
    # the 12 months 2025-11..2026-10: G (only in 2025-10) is outside; C was active in 09
    assert (t12["partners"], t12["active_partners"]) == (6, 6)
    # active in 2025-10: A B G; of them active in 2026-10: A B
    assert (t12["retained"], t12["retention_base"]) == (2, 3)
    assert month["net_sales"] == D("2520.00")  # 1000 + 600 + 0 + 700 + 250 - 30
    assert t12["net_sales"] == D("15040.00")  # 5200 + 4190 + 3130 + 2520
    assert (month["commission"], t12["commission"]) == (D("51.00"), D("91.00"))
    assert (month["bonuses"], month["overrides"], month["points_cost"]) == (D("100.00"), D("3.25"), D("1.50"))
    assert (t12["bonuses"], t12["overrides"], t12["points_cost"]) == (D("100.00"), D("3.25"), D("1.50"))
    assert month["payouts"] == t12["payouts"] == D("560.00")
    # balances are the month's in both scopes
    assert month["carried"] == t12["carried"] == D("40.00")
    assert month["points_liability"] == t12["points_liability"] == D("13.00")


def test_activity_counts_retained_against_the_month_before(engine: DuckDBEngine) -> None:
    rows = {r["period"]: (r["partners"], r["active"], r["retained"]) for r in run(engine, "activity")}
    assert rows == {
        "2025-10": (4, 3, 0),  # A B C G; C quiet; nothing the month before
        "2026-07": (5, 3, 0),  # A B C D F; C and F quiet; 2026-06 has no facts
        "2026-08": (5, 4, 3),  # F returns; A B D active both months
        "2026-09": (5, 5, 4),  # C sells; A B D F both months
        "2026-10": (6, 5, 4),  # C quiet again, E new; A B D F both months
    }


def test_tier_distribution_and_movement(engine: DuckDBEngine) -> None:
    dist = {r["tier"]: r["partners"] for r in run(engine, "tier_distribution")}
    assert dist == {"Bronze": 3, "Silver": 2, "Gold": 1}
    moves = {(r["tier_before"], r["tier_after"]): r["partners"] for r in run(engine, "tier_movement")}
    assert moves == {
        ("Bronze", "Bronze"): 3,
        ("Silver", "Silver"): 1,
        ("Silver", "Gold"): 1,
        ("Gold", "Silver"): 1,
    }


def test_sales_by_segment_country_and_category(engine: DuckDBEngine) -> None:
    def table(name: str, key: str) -> list[tuple[str, Decimal, Decimal]]:
        return [(r[key], r["net_sales"], r["t12"]) for r in run(engine, name)]

    assert table("sales_by_segment", "segment") == [
        ("smb", D("1700.00"), D("13200.00")),  # A 10000 + C 100 + D 3100
        ("enterprise", D("850.00"), D("1900.00")),  # B 1650 + E 250
        ("public", D("-30.00"), D("-60.00")),  # F's returns
    ]
    assert table("sales_by_country", "country") == [
        ("DE", D("970.00"), D("10040.00")),
        ("AT", D("700.00"), D("3100.00")),
        ("FR", D("850.00"), D("1900.00")),
    ]
    # 2025-10's 999 is before the 12 months; both currencies of hardware count
    assert table("sales_by_category", "category") == [
        ("hardware", D("1500.00"), D("4500.00")),
        ("software", D("800.00"), D("800.00")),
        ("services", D("220.00"), D("220.00")),
    ]


def test_program_cost_and_payouts_per_month(engine: DuckDBEngine) -> None:
    cost = {r["period"]: r for r in run(engine, "program_cost")}
    assert list(cost) == ["2026-07", "2026-08", "2026-09", "2026-10"]  # 2025-10 is before the window
    oct_ = cost["2026-10"]
    assert (oct_["commission"], oct_["bonuses"], oct_["overrides"], oct_["points_cost"]) == (
        D("51.00"),
        D("100.00"),
        D("3.25"),
        D("1.50"),
    )
    assert oct_["program_cost"] == D("155.75")
    assert oct_["net_sales"] == D("2520.00")
    assert (cost["2026-09"]["program_cost"], cost["2026-09"]["net_sales"]) == (D("40.00"), D("3130.00"))
    pays = {r["period"]: (r["payout"], r["carried"], r["paid_partners"]) for r in run(engine, "payouts")}
    assert pays["2026-10"] == (D("560.00"), D("40.00"), 2)
    assert pays["2026-09"] == (D("0.00"), D("0.00"), 0)


def test_top_movers_against_the_month_before(engine: DuckDBEngine) -> None:
    rows = run(engine, "top_movers")
    up = [(r["partner_id"], r["previous"], r["delta"]) for r in rows if r["direction"] == "up"]
    down = [(r["partner_id"], r["delta"]) for r in rows if r["direction"] == "down"]
    # B +250 and E +250 (new: from 0) tie and go by id; D did not move
    assert up == [("B", D("350.00"), D("250.00")), ("E", D("0.00"), D("250.00"))]
    assert down == [("A", D("-1000.00")), ("C", D("-100.00")), ("F", D("-10.00"))]


def test_top_movers_keep_ten_each_way(tmp_path: Path) -> None:
    from tests.unit.analytics_world import partner_row, write_facts

    ids = [f"P{i:02d}" for i in range(24)]
    prev = [partner_row(p, "2026-09", 1000) for p in ids]
    cur = [partner_row(p, "2026-10", 1000 + (i - 12) * 10) for i, p in enumerate(ids)]  # -120 .. +110
    rows = DuckDBEngine(write_facts(tmp_path, {"2026-09": prev, "2026-10": cur})).run(
        load_query("top_movers"), PARAMS
    )
    got = rows.dicts()
    up = [r["partner_id"] for r in got if r["direction"] == "up"]
    down = [r["partner_id"] for r in got if r["direction"] == "down"]
    assert up == [f"P{i:02d}" for i in range(23, 13, -1)]  # +110 .. +20
    assert down == [f"P{i:02d}" for i in range(10)]  # -120 .. -30
    assert [r["place"] for r in got if r["direction"] == "up"] == list(range(1, 11))


def test_at_risk_falls_three_months_in_a_row_and_was_active(engine: DuckDBEngine) -> None:
    rows = run(engine, "at_risk")
    # A falls 4000 > 3000 > 2000 > 1000; D's 700 = 700 is not a fall; F falls but was quiet at m-3
    assert [
        (r["partner_id"], r["segment"], r["sales_m3"], r["sales_m2"], r["sales_m1"], r["sales_m0"])
        for r in rows
    ] == [("A", "smb", D("4000.00"), D("3000.00"), D("2000.00"), D("1000.00"))]
    assert rows[0]["at_risk_total"] == 1


def test_at_risk_lists_the_50_largest_falls_and_counts_all(tmp_path: Path) -> None:
    from tests.unit.analytics_world import partner_row, write_facts

    months = ["2026-07", "2026-08", "2026-09", "2026-10"]
    facts = {
        m: [partner_row(f"P{i:02d}", m, 1000 - k * (i + 1)) for i in range(55)] for k, m in enumerate(months)
    }
    rows = DuckDBEngine(write_facts(tmp_path, facts)).run(load_query("at_risk"), PARAMS).dicts()
    assert len(rows) == 50
    assert {r["at_risk_total"] for r in rows} == {55}
    assert rows[0]["partner_id"] == "P54"  # fell by 3 x 55, the most
    assert rows[-1]["partner_id"] == "P05"


def test_pilot_panel_sums_each_partner_s_months_before_and_after_the_start(engine: DuckDBEngine) -> None:
    # a pilot from 2026-09-15: 2026-09 is mixed (on neither side), 2026-10 the start; the window
    # 2026-07..2026-10 leaves 2025-10 (and G) out; before = 2026-07 (t = -3) and 2026-08 (t = -2)
    params = {"period_from": "2026-07", "pre_to": "2026-08", "start": "2026-10", "period_to": "2026-10"}
    rows = run(engine, "pilot_panel", **params)
    keys = ("partner_id", "side", "months", "net_sales", "cost", "t_sum", "t2_sum", "t_sales")
    got = [tuple(r[k] for k in keys) for r in rows]
    assert got == [
        ("A", "post", 1, D("1000.00"), D("21.50"), 0, 0, D("0.00")),  # commission 20 + points 1.50
        ("A", "pre", 2, D("7000.00"), D("0.00"), -5, 13, D("-18000.00")),  # -3 x 4000 - 2 x 3000
        ("B", "post", 1, D("600.00"), D("112.00"), 0, 0, D("0.00")),  # commission 12 + bonuses 100
        ("B", "pre", 2, D("700.00"), D("0.00"), -5, 13, D("-1700.00")),
        ("C", "post", 1, D("0.00"), D("0.00"), 0, 0, D("0.00")),
        ("C", "pre", 2, D("0.00"), D("0.00"), -5, 13, D("0.00")),
        ("D", "post", 1, D("700.00"), D("17.25"), 0, 0, D("0.00")),  # commission 14 + overrides 3.25
        ("D", "pre", 2, D("1700.00"), D("0.00"), -5, 13, D("-4300.00")),
        ("E", "post", 1, D("250.00"), D("5.00"), 0, 0, D("0.00")),  # new in 2026-10: no pre row
        ("F", "post", 1, D("-30.00"), D("0.00"), 0, 0, D("0.00")),
        ("F", "pre", 2, D("-10.00"), D("0.00"), -5, 13, D("20.00")),  # 0 in 07, -10 x -2 in 08
    ]
    # A's 2026-09 (commission 40) is in no row; the sides' months over all partners
    assert {(r["side"], r["side_months"]) for r in rows} == {("pre", 2), ("post", 1)}
    assert {(r["partner_id"], r["segment"], r["cohort"]) for r in rows if r["side"] == "post"} >= {
        ("E", "enterprise", "")
    }
