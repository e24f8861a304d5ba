"""Targets files (issue 10): CSV and YAML, validated row by row; versions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from loyalty.program.targets import FLAT_100, Band, TargetSet, governing, parse_targets

HEAD = "target_id,scope,scope_value,metric,category,interval,period,goal,month_goals,bonus_eur,bands,method,version,effective_from\n"
GOOD = "T-Q3,segment,SMB,net_sales,,quarter,2026-Q3,66000,,500,80:50|100:100|120:150,step,T1,2026-01-01\n"


def csv_of(*rows: str) -> bytes:
    return (HEAD + "".join(r if r.endswith("\n") else r + "\n" for r in rows)).encode()


def row(**over: str) -> str:
    base = dict(
        target_id="T-X",
        scope="partner",
        scope_value="P00001",
        metric="net_sales",
        category="",
        interval="month",
        period="2026-09",
        goal="1000",
        month_goals="",
        bonus_eur="100",
        bands="",
        method="",
        version="T1",
        effective_from="2026-01-01",
    )
    base.update(over)
    return ",".join(base.values())


def test_a_good_csv_row_becomes_a_target() -> None:
    ts, issues, err = parse_targets(csv_of(GOOD), "targets/q3.csv")
    assert (issues, err) == ([], "")
    assert ts is not None
    assert (ts.version, ts.effective_from, ts.source) == ("T1", dt.date(2026, 1, 1), "targets/q3.csv")
    (t,) = ts.targets
    assert (t.scope, t.scope_value, t.metric, t.interval, t.period) == (
        "segment",
        "smb",
        "net_sales",
        "quarter",
        "2026-Q3",
    )
    assert t.month_goals == (Decimal("22000.00"),) * 3
    assert t.bands == (
        Band(Decimal(80), Decimal(50)),
        Band(Decimal(100), Decimal(100)),
        Band(Decimal(120), Decimal(150)),
    )
    assert t.method == "step" and t.line == 2
    assert t.months == ["2026-07", "2026-08", "2026-09"]
    assert (t.start, t.end) == (dt.date(2026, 7, 1), dt.date(2026, 9, 30))


def test_defaults_equal_split_with_the_remainder_on_the_last_month_and_flat_100() -> None:
    ts, _, _ = parse_targets(csv_of(row(interval="quarter", period="2026-Q1", goal="100")), "targets/a.csv")
    assert ts is not None
    t = ts.targets[0]
    assert t.month_goals == (Decimal("33.33"), Decimal("33.33"), Decimal("33.34"))
    assert (t.bands, t.method) == (FLAT_100, "flat")
    ts, _, _ = parse_targets(
        csv_of(row(metric="units", interval="quarter", period="2026-Q1", goal="10")), "targets/a.csv"
    )
    assert ts is not None and ts.targets[0].month_goals == (Decimal(3), Decimal(3), Decimal(4))


@pytest.mark.parametrize(
    ("over", "column", "reason"),
    [
        ({"metric": "revenue"}, "metric", "unknown metric"),
        ({"metric": "new_customers", "category": "services"}, "category", "no category"),
        ({"interval": "month", "period": "2026-Q3"}, "period", "YYYY-MM"),
        ({"interval": "quarter", "period": "2026-09"}, "period", "YYYY-Qn"),
        ({"interval": "week"}, "interval", "unknown interval"),
        ({"month_goals": "400|600"}, "month_goals", "2 month goals for a 1-month interval"),
        (
            {"interval": "quarter", "period": "2026-Q3", "month_goals": "100|200|300"},
            "month_goals",
            "sum to 600",
        ),
        ({"bands": "100:100|80:50"}, "bands", "strictly ascending"),
        ({"bands": "80:100|100:50"}, "bands", "lower bonus"),
        ({"bands": "80-50"}, "bands", "attainment_pct:bonus_pct"),
        ({"method": "linear"}, "method", "unknown method"),
        ({"scope": "region"}, "scope", "unknown scope"),
        ({"scope_value": ""}, "scope_value", "empty"),
        ({"scope": "segment", "scope_value": "=HYPERLINK(1)"}, "scope_value", "formula"),
        ({"goal": "0"}, "goal", "above 0"),
        ({"goal": "abc"}, "goal", "not a decimal"),
        ({"goal": "10.5", "metric": "units"}, "goal", "whole number"),
        ({"bonus_eur": "1.005"}, "bonus_eur", "2 decimals"),
        ({"version": "T2"}, "version", "one version"),
        ({"effective_from": "2026-02-01"}, "effective_from", "effective_from"),
        ({"target_id": ""}, "target_id", "required"),
    ],
)
def test_a_bad_row_is_rejected_with_line_column_and_reason(
    over: dict[str, str], column: str, reason: str
) -> None:
    ts, issues, err = parse_targets(csv_of(GOOD, row(**over)), "targets/x.csv")
    assert err == "" and ts is not None and [t.target_id for t in ts.targets] == ["T-Q3"]
    (issue,) = issues
    assert (issue.line, issue.column) == (3, column)
    assert reason in issue.reason


def test_a_duplicate_target_id_is_rejected_naming_the_first_line() -> None:
    ts, issues, _ = parse_targets(csv_of(GOOD, GOOD.replace("66000", "1")), "targets/x.csv")
    assert ts is not None and len(ts.targets) == 1 and ts.targets[0].goal == Decimal("66000.00")
    assert (issues[0].line, issues[0].column, issues[0].reason) == (
        3,
        "target_id",
        "T-Q3 is already on line 2",
    )


def test_a_short_row_is_rejected() -> None:
    _, issues, _ = parse_targets(csv_of(GOOD, "T-2,partner,P1"), "targets/x.csv")
    assert issues[0].line == 3 and "cells" in issues[0].reason


def test_file_errors() -> None:
    assert parse_targets(b"", "targets/x.csv")[2].startswith("the file is empty")
    assert "unknown column(s): bonus" in parse_targets(b"target_id,bonus\n", "targets/x.csv")[2]
    assert "missing column(s)" in parse_targets(b"target_id,scope\n", "targets/x.csv")[2]
    ts, issues, err = parse_targets(csv_of(row(metric="bogus")), "targets/x.csv")
    assert ts is None and len(issues) == 1 and err == "no valid target rows: nothing loaded"
    assert "version" in parse_targets(csv_of(row(version="")), "targets/x.csv")[2]
    assert "UTF-8" in parse_targets(b"\xff\xfe", "targets/x.csv")[2]


YAML = b"""version: T2
effective_from: 2026-07
targets:
  - target_id: T-UNITS
    scope: cohort
    scope_value: Pilot-A
    metric: units
    category: Services
    interval: quarter
    period: 2026-Q3
    goal: 300
    month_goals: [100, 100, 100]
    bonus_eur: 250.50
    bands: [[80, 50], [100, 100]]
    method: interpolated
  - target_id: T-BAD
    scope: partner
    scope_value: P00001
    metric: new_customers
    category: services
    interval: month
    period: 2026-09
    goal: 5
    bonus_eur: 10
  - target_id: T-NC
    scope: partner
    scope_value: P00001
    metric: new_customers
    interval: month
    period: 2026-09
    goal: 5
    bonus_eur: 10
    bands:
      - {attainment_pct: 100, bonus_pct: 100}
      - {attainment_pct: 150, bonus_pct: 200}
"""


def test_yaml_has_the_same_fields_and_the_same_row_checks() -> None:
    ts, issues, err = parse_targets(YAML, "targets/pilot.yaml")
    assert err == "" and ts is not None
    assert (ts.version, ts.effective_from) == ("T2", dt.date(2026, 7, 1))
    units, nc = ts.targets
    assert (units.scope_value, units.category, units.method) == ("pilot-a", "services", "interpolated")
    assert units.bonus_eur == Decimal("250.50") and units.month_goals == (Decimal(100),) * 3
    assert units.bands == (Band(Decimal(80), Decimal(50)), Band(Decimal(100), Decimal(100)))
    assert nc.bands[-1] == Band(Decimal(150), Decimal(200))
    (issue,) = issues
    assert (issue.line, issue.column) == (16, "category")  # the line of its `- target_id:`


def test_a_yaml_field_given_as_a_mapping_is_rejected() -> None:
    body = b"version: T1\neffective_from: 2026-01-01\ntargets:\n  - {target_id: A, scope: partner, scope_value: P1, metric: units, interval: month, period: 2026-09, goal: {x: 1}, bonus_eur: 1}\n"
    ts, issues, err = parse_targets(body, "targets/x.yaml")
    assert err == "no valid target rows: nothing loaded"
    assert ts is None and "not a mapping" in issues[0].reason and issues[0].line == 4


def test_yaml_file_errors() -> None:
    assert "not valid YAML" in parse_targets(b"version: [", "targets/x.yml")[2]
    assert "unknown top-level" in parse_targets(b"version: T1\nfoo: 1\ntargets: []\n", "targets/x.yml")[2]
    assert "list" in parse_targets(b"version: T1\neffective_from: 2026-01-01\n", "targets/x.yml")[2]


def test_the_newest_version_effective_on_or_before_an_interval_start_governs_it() -> None:
    t1 = TargetSet("T1", dt.date(2026, 1, 1), "a", ())
    t2 = TargetSet("T2", dt.date(2026, 7, 1), "b", ())
    t3 = TargetSet("T3", dt.date(2026, 8, 15), "c", ())
    sets = [t3, t1, t2]
    assert governing(sets, dt.date(2026, 4, 1)) is t1
    assert governing(sets, dt.date(2026, 7, 1)) is t2  # Q3 starts 07-01: T3 comes too late for it
    assert governing(sets, dt.date(2026, 9, 1)) is t3
    assert governing(sets, dt.date(2025, 12, 1)) is None


def test_a_target_set_round_trips_through_json() -> None:
    ts, _, _ = parse_targets(YAML, "targets/pilot.yaml")
    assert ts is not None
    back = TargetSet.from_json(ts.to_json())
    assert back == ts and back.same_content(ts)
