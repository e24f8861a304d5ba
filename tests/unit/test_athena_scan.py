"""The Athena bytes-scanned estimate (loyalty_local.athena): the columns a query reads, the
partitions its predicates prune, every scan of a table counted, and Athena's 10 MB floor."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from loyalty_local.athena import (
    MB,
    MIN_BILLED_BYTES,
    TB,
    USD_PER_TB,
    bind,
    column_bytes,
    estimate_scan,
)

SCHEMA = {"sales": ["partner_id", "segment", "net_sales", "note"], "lines": ["category", "amount"]}
PERIODS = ["2026-07", "2026-08", "2026-09", "2026-10"]


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, dict[str, dict[str, dict[str, int]]]]:
    """Two Hive-partitioned tables over four periods; `note` is wide, the others small."""
    con = duckdb.connect()
    for k, period in enumerate(PERIODS):
        for table, select in (
            (
                "sales",
                f"SELECT 'P' || i AS partner_id, ['a', 'b'][i % 2 + 1] AS segment, (i * {k + 1})::DECIMAL(18,2) "
                "AS net_sales, repeat(md5(i::VARCHAR), 8) AS note FROM range(2000) t(i)",
            ),
            (
                "lines",
                "SELECT ['x', 'y', 'z'][i % 3 + 1] AS category, i::DECIMAL(18,2) AS amount FROM range(300) t(i)",
            ),
        ):
            folder = tmp_path / table / f"period={period}"
            folder.mkdir(parents=True)
            for part in range(2):
                con.execute(f"COPY ({select}) TO '{folder}/part-{part:05d}.parquet' (FORMAT parquet)")
    return tmp_path, column_bytes(tmp_path, {"sales": "sales", "lines": "lines"})


def _bytes(
    sizes: dict[str, dict[str, dict[str, int]]], table: str, columns: list[str], periods: list[str]
) -> int:
    return sum(sizes[table][p][c] for p in periods for c in columns)


def test_column_bytes_are_the_chunks_compressed_sizes(
    world: tuple[Path, dict[str, dict[str, dict[str, int]]]],
) -> None:
    root, sizes = world
    assert sorted(sizes["sales"]) == PERIODS
    assert sorted(sizes["sales"]["2026-09"]) == sorted(SCHEMA["sales"])
    (expected,) = duckdb.connect().execute(
        "SELECT sum(total_compressed_size) FROM parquet_metadata(?) WHERE path_in_schema = 'note'",
        [f"{root}/sales/period=2026-09/*.parquet"],
    ).fetchone() or (None,)
    assert sizes["sales"]["2026-09"]["note"] == expected
    assert sizes["sales"]["2026-09"]["note"] > 20 * sizes["sales"]["2026-09"]["segment"]
    assert column_bytes(root, {"empty": "nothing-here"}) == {"empty": {}}


def test_only_the_columns_the_query_uses(world: tuple[Path, dict[str, dict[str, dict[str, int]]]]) -> None:
    _, sizes = world
    est = estimate_scan("SELECT segment, sum(net_sales) FROM sales GROUP BY segment", [], SCHEMA, sizes)
    assert est.bytes == _bytes(sizes, "sales", ["net_sales", "segment"], PERIODS)
    (scan,) = est.scans
    assert (scan.table, scan.columns, scan.partitions) == ("sales", ("net_sales", "segment"), tuple(PERIODS))
    star = estimate_scan("SELECT * FROM sales", [], SCHEMA, sizes)
    assert star.bytes == _bytes(sizes, "sales", SCHEMA["sales"], PERIODS)
    # a CTE's unused columns are not read, and count(*) reads no column at all
    cte = estimate_scan(
        "WITH s AS (SELECT * FROM sales) SELECT count(*), max(s.segment) FROM s", [], SCHEMA, sizes
    )
    assert cte.bytes == _bytes(sizes, "sales", ["segment"], PERIODS)
    assert estimate_scan("SELECT count(*) FROM sales", [], SCHEMA, sizes).bytes == 0


@pytest.mark.parametrize(
    ("where", "values", "read"),
    [
        ("period = ?", ["2026-09"], ["2026-09"]),
        ("period BETWEEN ? AND ?", ["2026-08", "2026-09"], ["2026-08", "2026-09"]),
        ("period >= ? AND segment = 'a'", ["2026-09"], ["2026-09", "2026-10"]),
        ("? > period", ["2026-09"], ["2026-07", "2026-08"]),
        ("period IN (?, '2026-07')", ["2026-10"], ["2026-07", "2026-10"]),
        # a constant expression of the parameter is evaluated (here: the three months to 2026-10)
        (
            "period > date_format(date_add('month', -3, date(? || '-01')), '%Y-%m')",
            ["2026-10"],
            ["2026-08", "2026-09", "2026-10"],
        ),
        ("segment = ?", ["a"], PERIODS),  # not the partition key: every partition
        ("period = ? OR segment = 'b'", ["2026-09"], PERIODS),  # a disjunction prunes nothing
    ],
)
def test_partitions_pruned_by_the_period_predicates(
    world: tuple[Path, dict[str, dict[str, dict[str, int]]]], where: str, values: list[str], read: list[str]
) -> None:
    _, sizes = world
    est = estimate_scan(f"SELECT sum(net_sales) FROM sales WHERE {where}", values, SCHEMA, sizes)
    (scan,) = est.scans
    assert list(scan.partitions) == read
    used = ["net_sales", "segment"] if "segment" in where else ["net_sales"]
    assert est.bytes == _bytes(sizes, "sales", used, read)


def test_every_scan_is_counted_with_its_own_pruning(
    world: tuple[Path, dict[str, dict[str, dict[str, int]]]],
) -> None:
    """A CTE referenced twice is scanned twice (Trino inlines it), each reference pruned by its
    own predicates, a join's ON included; another table and a subquery add their own scans."""
    _, sizes = world
    sql = """-- params: period, previous
    WITH s AS (SELECT partner_id, net_sales, period FROM sales)
    SELECT a.partner_id, a.net_sales - b.net_sales AS change,
           (SELECT sum(amount) FROM lines WHERE lines.period = ?) AS line_total
    FROM s AS a
    JOIN s AS b ON b.partner_id = a.partner_id AND b.period = ?
    WHERE a.period = ?"""
    est = estimate_scan(sql, ["2026-10", "2026-09", "2026-10"], SCHEMA, sizes)
    got = sorted((s.table, s.columns, s.partitions) for s in est.scans)
    assert got == [
        ("lines", ("amount",), ("2026-10",)),
        ("sales", ("net_sales", "partner_id"), ("2026-09",)),
        ("sales", ("net_sales", "partner_id"), ("2026-10",)),
    ]
    assert est.bytes == (
        _bytes(sizes, "sales", ["net_sales", "partner_id"], ["2026-09", "2026-10"])
        + _bytes(sizes, "lines", ["amount"], ["2026-10"])
    )


def test_athenas_ten_megabyte_minimum_and_the_price(
    world: tuple[Path, dict[str, dict[str, dict[str, int]]]],
) -> None:
    _, sizes = world
    small = estimate_scan("SELECT segment FROM sales WHERE period = ?", ["2026-10"], SCHEMA, sizes)
    assert 0 < small.bytes < MB
    assert small.billed_bytes == MIN_BILLED_BYTES == 10 * 1024 * 1024
    assert small.usd == pytest.approx(10 * MB / TB * USD_PER_TB)
    assert estimate_scan("SELECT count(*) FROM sales", [], SCHEMA, sizes).billed_bytes == MIN_BILLED_BYTES
    # above the floor: rounded up to the next megabyte, $5 a TB
    big = {"sales": {p: {"note": 700 * MB + 1, "segment": 5} for p in PERIODS}, "lines": {}}
    est = estimate_scan("SELECT note FROM sales", [], SCHEMA, big)
    assert est.bytes == 4 * (700 * MB + 1)
    assert est.billed_bytes == 2801 * MB
    assert est.usd == pytest.approx(2801 * MB / TB * 5)


def test_bind_replaces_only_real_placeholders() -> None:
    sql = "-- params: a, b  (what?)\nSELECT '?' AS q, x FROM t WHERE a = ? AND b = ? /* ? */"
    assert bind(sql, ["1", "it's"]) == (
        "-- params: a, b  (what?)\nSELECT '?' AS q, x FROM t WHERE a = '1' AND b = 'it''s' /* ? */"
    )
    with pytest.raises(ValueError, match="2 placeholders, 1 values"):
        bind(sql, ["1"])
