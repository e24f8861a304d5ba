"""The generated analytics facts (loyalty_factories.analytics): the schema and layout the close
writes, read by the engine the report uses, row counts, consistency and determinism."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest
from loyalty.analytics.engine import DuckDBEngine, Query
from loyalty.analytics.schema import LINE_MONTH, PARTNER_MONTH, TABLES
from loyalty.kernel.periods import months_back
from loyalty_factories.analytics import PILOT_COHORT, PILOT_VERSION, generate_facts


def _files(root: Path, table: str) -> str:
    return (root / TABLES[table].prefix()).as_posix() + "/period=*/*.parquet"


def _digest(root: Path) -> str:
    """Every row of both tables, in a fixed order."""
    con = duckdb.connect()
    h = hashlib.sha256()
    for table in TABLES:
        for row in con.execute(
            f"SELECT * FROM read_parquet('{_files(root, table)}', hive_partitioning = true) ORDER BY ALL"
        ).fetchall():
            h.update(repr(row).encode())
    return h.hexdigest()


def test_files_land_where_the_engine_reads_them(tmp_path: Path) -> None:
    summary = generate_facts(tmp_path, partners=25, months=5, last_period="2026-10", part_partners=10)
    engine = DuckDBEngine(tmp_path)
    count = Query(
        "count", "SELECT period, count(*) AS n FROM partner_month GROUP BY period ORDER BY period", ()
    )
    got = engine.run(count, {}).rows
    assert [r[0] for r in got] == months_back("2026-10", 5) == list(summary.periods)
    assert {r[1] for r in got} == {25}
    lines = Query("lines", "SELECT count(DISTINCT period) AS n, count(*) AS rows FROM line_month", ())
    n, rows = engine.run(lines, {}).rows[0]
    assert n == 5
    assert rows == summary.line_month_rows > 0
    assert summary.partner_month_rows == 25 * 5


def test_layout_is_the_schemas_part_files(tmp_path: Path) -> None:
    """analytics/v1/<table>/period=YYYY-MM/part-NNNNN.parquet, partner_month in parts of
    part_partners partners (here 10, 10 and 5), line_month one part a period."""
    summary = generate_facts(tmp_path, partners=25, months=3, last_period="2026-01", part_partners=10)
    made = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.parquet"))
    expected = sorted(
        [PARTNER_MONTH.part_key(p, n) for p in summary.periods for n in range(3)]
        + [LINE_MONTH.part_key(p, 0) for p in summary.periods]
    )
    assert made == expected
    assert summary.periods == ("2025-11", "2025-12", "2026-01")
    assert summary.files == len(expected)
    con = duckdb.connect()
    sizes = con.execute(
        f"SELECT count(*) FROM read_parquet('{_files(tmp_path, 'partner_month')}', filename = true) "
        "WHERE filename LIKE '%period=2026-01%' GROUP BY filename ORDER BY 1"
    ).fetchall()
    assert [s[0] for s in sizes] == [5, 10, 10]


@pytest.mark.parametrize("table", sorted(TABLES))
def test_columns_and_types_are_the_schemas_exactly(tmp_path: Path, table: str) -> None:
    generate_facts(tmp_path, partners=12, months=2, last_period="2026-10")
    described = (
        duckdb.connect()
        .execute(
            f"DESCRIBE SELECT * FROM read_parquet('{_files(tmp_path, table)}', hive_partitioning = false)"
        )
        .fetchall()
    )
    assert [(r[0], r[1]) for r in described] == [(c.name, c.sql) for c in TABLES[table].columns]


def test_deterministic_for_a_seed(tmp_path: Path) -> None:
    a = generate_facts(tmp_path / "a", partners=30, months=4, last_period="2026-10", seed=3, pilot_share=0.3)
    b = generate_facts(tmp_path / "b", partners=30, months=4, last_period="2026-10", seed=3, pilot_share=0.3)
    generate_facts(tmp_path / "c", partners=30, months=4, last_period="2026-10", seed=4, pilot_share=0.3)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b") != _digest(tmp_path / "c")
    assert (a.partner_month_rows, a.line_month_rows, a.pilot_partners) == (
        b.partner_month_rows,
        b.line_month_rows,
        b.pilot_partners,
    )


def test_regenerating_replaces_the_facts(tmp_path: Path) -> None:
    generate_facts(tmp_path, partners=20, months=6, last_period="2026-10", part_partners=5)
    summary = generate_facts(tmp_path, partners=8, months=2, last_period="2026-10")
    assert summary.files == len(list(tmp_path.rglob("*.parquet"))) == 2 + 2
    assert DuckDBEngine(tmp_path).run(Query("n", "SELECT count(*) FROM partner_month", ()), {}).rows == (
        (16,),
    )


def test_line_month_adds_up_to_partner_month(tmp_path: Path) -> None:
    generate_facts(tmp_path, partners=60, months=3, last_period="2026-10", pilot_share=0.5)
    con = duckdb.connect()
    totals = (
        "SELECT period, segment, country, sum(net_sales), sum(commission), sum(lines) FROM read_parquet("
        "'{}', hive_partitioning = true) GROUP BY ALL HAVING sum(lines) > 0 ORDER BY ALL"
    )
    pm = con.execute(totals.format(_files(tmp_path, "partner_month"))).fetchall()
    lm = con.execute(totals.format(_files(tmp_path, "line_month"))).fetchall()
    assert pm == lm
    assert len({r[1] for r in pm}) == 3  # dealer, reseller, distributor


def test_money_points_and_tiers_are_plausible(tmp_path: Path) -> None:
    generate_facts(tmp_path, partners=300, months=12, last_period="2026-10")
    con = duckdb.connect()
    row = con.execute(
        "SELECT min(payout), min(carried), min(points_balance), min(points_expired), "
        "count(*) FILTER (WHERE lines = 0), count(DISTINCT country), count(DISTINCT tier_after), "
        "count(*) FILTER (WHERE tier_change = 'up'), count(*) FILTER (WHERE tier_change = 'down'), "
        "count(*) FILTER (WHERE state = 'paid' AND payout < 50), "
        "count(*) FILTER (WHERE (payout > 0) <> (state = 'paid')) "
        f"FROM read_parquet('{_files(tmp_path, 'partner_month')}')"
    ).fetchone()
    assert row is not None
    payout, carried, balance, expired, inactive, countries, tiers, ups, downs, small, odd = row
    assert min(payout, carried, balance, expired) >= 0
    assert inactive > 0
    assert countries >= 10
    assert tiers == 4
    assert ups > 0
    assert downs > 0
    assert small == 0  # the EUR 50 minimum payout
    assert odd == 0


def test_pilot_cohort_runs_the_pilot_version_from_its_start(tmp_path: Path) -> None:
    summary = generate_facts(
        tmp_path, partners=200, months=8, last_period="2026-10", pilot_share=0.25, planted_uplift=0.08
    )
    assert summary.pilot_cohort == PILOT_COHORT
    assert summary.pilot_start == "2026-07"  # the middle of the 8 months
    con = duckdb.connect()
    rows = con.execute(
        "SELECT cohort = ? AS pilot, period >= ? AS post, list(DISTINCT rule_version), count(DISTINCT partner_id) "
        f"FROM read_parquet('{_files(tmp_path, 'partner_month')}', hive_partitioning = true) "
        "GROUP BY ALL ORDER BY ALL",
        [PILOT_COHORT, summary.pilot_start],
    ).fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (False, False, [summary.base_version]),
        (False, True, [summary.base_version]),
        (True, False, [summary.base_version]),
        (True, True, [PILOT_VERSION]),
    ]
    assert rows[2][3] == summary.pilot_partners
    assert 25 <= summary.pilot_partners <= 75
    none = generate_facts(tmp_path / "none", partners=50, months=4, last_period="2026-10")
    assert (none.pilot_cohort, none.pilot_start, none.pilot_partners) == ("", "", 0)


def test_the_planted_uplift_raises_the_pilots_sales_after_its_start(tmp_path: Path) -> None:
    kw = {"partners": 400, "months": 6, "last_period": "2026-10", "pilot_share": 0.5, "seed": 11}
    flat = generate_facts(tmp_path / "flat", planted_uplift=0.0, **kw)  # type: ignore[arg-type]
    generate_facts(tmp_path / "up", planted_uplift=0.08, **kw)  # type: ignore[arg-type]
    con = duckdb.connect()
    q = (
        "SELECT sum(net_sales) FILTER (WHERE cohort = '{c}' AND period >= '{s}'), "
        "sum(net_sales) FILTER (WHERE cohort <> '{c}' OR period < '{s}') "
        "FROM read_parquet('{f}', hive_partitioning = true)"
    )
    fmt = {"c": PILOT_COHORT, "s": flat.pilot_start}
    base = con.execute(q.format(f=_files(tmp_path / "flat", "partner_month"), **fmt)).fetchone()
    up = con.execute(q.format(f=_files(tmp_path / "up", "partner_month"), **fmt)).fetchone()
    assert base is not None
    assert up is not None
    assert up[1] == base[1]  # everyone else and the pilot before its start: unchanged
    assert float(up[0] / base[0]) == pytest.approx(1.08, abs=0.001)  # rounding to cents per row


def test_rejects_what_it_cannot_make(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_facts(tmp_path, partners=0, months=3, last_period="2026-10")
    with pytest.raises(ValueError):
        generate_facts(tmp_path, partners=3, months=3, last_period="2026-13")
    with pytest.raises(ValueError):
        generate_facts(tmp_path, partners=1_000_000, months=1, last_period="2026-10")
