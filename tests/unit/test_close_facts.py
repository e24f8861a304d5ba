"""The analytics facts the close's Statements step writes for each batch (issue 13): a row for
every partner (quiet ones too), the month's lines summed by segment, country, category and
currency, money once rounded - and the Analytics step's Parquet parts from them, re-written
identically by a re-run, stale parts removed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
from loyalty.adapters.memory.facts import MemoryFacts
from loyalty.adapters.memory.kernel import MemoryNotifier
from loyalty.analytics.parquet import write_parquet
from loyalty.analytics.publish import AnalyticsPublisher
from loyalty.analytics.schema import LINE_MONTH, PARTNER_MONTH

from tests.unit.close_world import close_run, program, sale, statement_rows, upload


def _facts(period: str = "2026-02") -> tuple[dict[str, dict[str, object]], list[dict[str, object]]]:
    c = program()
    upload(
        c, [sale("S1", "2026-01-10", 2, "150.00"), sale("S2", "2026-01-20", 1, "80.00", category="services")]
    )
    upload(c, [sale("S3", "2026-02-03", 1, "1000.00"), sale("S4", "2026-02-04", -1, "150.00", original="S1")])
    close_run(c, "2026-01")
    done = close_run(c, period)
    files = c.close().files
    partners: dict[str, dict[str, object]] = {}
    lines: list[dict[str, object]] = []
    for batch in done.batches:
        facts = files.facts(batch)
        partners |= {r["partner_id"]: r for r in facts[PARTNER_MONTH.name]}
        lines += facts[LINE_MONTH.name]
    rows = statement_rows(c, period)
    commission = sum(Decimal(rows[s][-2]) for s in ("S3", "S4"))
    assert partners["P00001"]["commission"] == str(commission)
    return partners, lines


def test_every_partner_gets_a_row_with_the_schema_s_columns() -> None:
    partners, _ = _facts()
    assert set(partners) == {"P00001", "P00002"}
    for row in partners.values():
        assert list(row) == PARTNER_MONTH.names
    active, quiet = partners["P00001"], partners["P00002"]
    assert (active["net_sales"], active["lines"], active["returns"]) == ("850.00", 2, 1)
    assert (active["country"], active["joined"], active["segment"]) == ("DE", "2026-01", "smb")
    assert active["rule_version"] == "2026.1"
    assert (quiet["lines"], quiet["net_sales"], quiet["commission"]) == (0, "0.00", "0.00")


def test_lines_are_summed_by_segment_country_category_and_currency() -> None:
    _, lines = _facts()
    assert [list(r) for r in lines] == [LINE_MONTH.names]
    (hw,) = lines
    assert (hw["segment"], hw["country"], hw["category"], hw["currency"]) == ("smb", "DE", "hardware", "EUR")
    assert (hw["partners"], hw["lines"], hw["returns"], hw["net_sales"]) == (1, 2, 1, "850.00")


def _row(pid: str, net: str) -> dict[str, object]:
    row: dict[str, object] = {c: 0 for c in PARTNER_MONTH.names}
    row.update(
        partner_id=pid, segment="smb", country="DE", cohort="", joined="2026-01", rule_version="2026.1",
        tier_before="Bronze", tier_after="Bronze", tier_change="hold", state="paid", net_sales=net,
        commission="1.00", bonuses="0", overrides="0", points_cost="0", points_liability="0", payout="1",
        carried="0", schema_version=1,
    )  # fmt: skip
    return row


def _publisher(files: MemoryFacts, topic: MemoryNotifier) -> AnalyticsPublisher:
    return AnalyticsPublisher(
        files,
        topic,
        lambda engine, period, versions, at: {"period": period, "warnings": [], "pilots": []},
        lambda report: b"<html></html>",
        lambda report: [("partners", "2")],
    )


def test_the_analytics_step_writes_a_part_per_batch_and_a_re_run_the_same_and_no_more(tmp_path: Path) -> None:
    files, topic = MemoryFacts(), MemoryNotifier()
    pub = _publisher(files, topic)
    batches = [
        {PARTNER_MONTH.name: [_row("P1", "10.00"), _row("P2", "20.50")], LINE_MONTH.name: []},
        {PARTNER_MONTH.name: [_row("P3", "5.25")], LINE_MONTH.name: []},
        {PARTNER_MONTH.name: [_row("P4", "1.00")], LINE_MONTH.name: []},
    ]
    now = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    first = pub.publish("2026-02", "close-2026-02", batches, [], now)
    assert (first.partners, first.parts, first.removed, first.notified) == (4, 3, 0, True)
    before = dict(files.objects)
    again = pub.publish("2026-02", "close-2026-02", batches, [], now)
    assert (again.partners, again.removed, again.notified) == (4, 0, False)  # announced once
    assert {k: v[0] for k, v in files.objects.items()} == {k: v[0] for k, v in before.items()}
    assert len(topic.published) == 1
    # a re-run with fewer batches (a partner left the registry) leaves no stale part behind
    rerun = pub.publish("2026-02", "close-2026-02-r2", batches[:2], [], now)
    assert (rerun.partners, rerun.parts, rerun.removed, rerun.notified) == (3, 2, 2, True)
    assert files.keys(PARTNER_MONTH.partition("2026-02")) == [
        PARTNER_MONTH.part_key("2026-02", 0),
        PARTNER_MONTH.part_key("2026-02", 1),
    ]
    for key in files.keys("analytics/v1/"):
        (tmp_path / key).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / key).write_bytes(files.get(key))
    total = duckdb.sql(
        f"SELECT count(*), sum(net_sales) FROM read_parquet('{tmp_path}/analytics/v1/partner_month/*/*.parquet')"
    ).fetchall()
    assert total == [(3, Decimal("35.75"))]


def test_a_row_missing_a_column_is_refused_by_name(tmp_path: Path) -> None:
    row = _row("P1", "1.00")
    del row["cohort"]
    try:
        write_parquet(PARTNER_MONTH, [row], tmp_path / "x.parquet")
    except ValueError as exc:
        assert "partner_month row without cohort" in str(exc)
    else:
        raise AssertionError("a row without a column was written")


def test_the_analytics_step_of_a_closed_month_reports_it_and_announces_it_once() -> None:
    import json

    from loyalty.analytics.schema import report_key

    c = program()
    upload(
        c, [sale("S1", "2026-01-10", 2, "150.00"), sale("S2", "2026-01-20", 1, "80.00", category="services")]
    )
    first = close_run(c, "2026-01")
    now = dt.datetime(2026, 2, 1, 3, tzinfo=dt.UTC)
    done = c.publish_analytics("2026-01", first.run, first.manifest, now)
    assert (done.partners, done.parts, done.notified) == (2, len(first.batches), True)
    report = json.loads(c.blobs.get(report_key("2026-01", "json")))
    month = report["kpis"]["month"]
    assert (month["partners"], month["active_partners"], month["net_sales"]) == (2, 1, "380.00")
    assert b"<svg" in c.blobs.get(report_key("2026-01", "html"))
    (message,) = c.program_topic.published
    assert message.message["period"] == "2026-01" and message.message["report"] == report_key(
        "2026-01", "html"
    )
    again = c.publish_analytics("2026-01", first.run, first.manifest, now)
    assert not again.notified and len(c.program_topic.published) == 1
