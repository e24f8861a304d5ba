"""Target bonuses (issue 10): scope, metrics, progress, award at the interval's close, true-up."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from loyalty.earning.records import MonthTotals
from loyalty.incentives.bands import attainment_pct, bonus_amount, bonus_pct
from loyalty.incentives.engine import IncentiveResult, Incentives, PartnerPeriod
from loyalty.incentives.lines import ProgramAccrual, TargetProgress
from loyalty.incentives.targets import TargetBonuses
from loyalty.program.rules import RuleVersion, parse_rules
from loyalty.program.targets import Band, TargetSet, parse_bands, parse_targets

from tests.conftest import RULES

BASE = parse_rules(RULES.decode())
HEAD = "target_id,scope,scope_value,metric,category,interval,period,goal,month_goals,bonus_eur,bands,method,version,effective_from\n"


def rules(**targets: Any) -> RuleVersion:
    return BASE.model_copy(update={"targets": BASE.targets.model_copy(update=targets)})


def tset(*rows: str, version: str = "T1", effective: str = "2026-01-01") -> TargetSet:
    body = HEAD + "".join(f"{r},{version},{effective}\n" for r in rows)
    ts, issues, err = parse_targets(body.encode(), f"targets/{version}.csv")
    assert ts is not None and not issues and not err, (issues, err)
    return ts


Q3 = "T-Q3,segment,SMB,net_sales,,quarter,2026-Q3,66000,20000|22000|24000,500,80:50|100:100|120:150,flat"


def mt(month: str, net: str = "0", units: int = 0, newc: int = 0, **kw: Any) -> MonthTotals:
    return MonthTotals(
        "P00001", month, D(net), D(0), 0, 0, {}, newc, units, kw.get("cats", {}), kw.get("late", {})
    )


def ctx(
    period: str, months: list[MonthTotals], awarded: dict[str, D] | None = None, **kw: Any
) -> PartnerPeriod:
    return PartnerPeriod(
        partner_id=kw.get("partner", "P00001"),
        segment=kw.get("segment", "smb"),
        cohort=kw.get("cohort", ""),
        period=period,
        rules=kw.get("rules", BASE),
        months=months,
        recruits=(),
        awarded=awarded or {},
    )


def test_progress_during_the_interval_and_the_award_at_its_last_close() -> None:
    src = TargetBonuses([tset(Q3)])
    months = [mt("2026-07", "30000"), mt("2026-08", "23625")]
    r = src.evaluate(ctx("2026-08", months))
    assert r.accruals == [] and r.awards == {}
    (p,) = r.progress
    assert (p.goal, p.goal_total, p.actual) == (D("42000.00"), D("66000.00"), D("53625"))
    assert (p.attainment, p.to_go, p.days_left, p.projected_bonus) == (
        D("0.8125"),
        D("12375.00"),
        30,
        D("250.00"),
    )
    assert p.text == "EUR 12 375.00 to go, 30 days left (81.25 % of EUR 66 000.00)"
    assert p.metric == "net_sales" and TargetProgress.from_json(p.to_json()) == p

    r = src.evaluate(ctx("2026-09", [*months, mt("2026-09", "14000")]))
    (line,) = r.accruals
    assert (line.line_id, line.kind, line.amount, line.period) == (
        "target:T-Q3:2026-Q3",
        "bonus",
        D("500.00"),
        "2026-09",
    )
    assert line.earned_on == dt.date(2026, 9, 30) and line.rule_version == BASE.version
    assert line.trace["attainment_pct"] == "102.46" and line.trace["band"] == "100:100"
    assert {"target", "interval", "metric", "goal", "actual", "method", "rule_version"} <= set(line.trace)
    assert r.awards == {"T-Q3@2026-Q3": D("500.00")}
    assert r.progress[0].days_left == 0 and r.progress[0].text.startswith("goal reached, 0 days left")
    assert ProgramAccrual.from_json(line.to_json()) == line


def test_scope_partner_segment_cohort_case_insensitive() -> None:
    rows = [
        "T-P,partner,P00001,units,,month,2026-09,10,,100,,flat",
        "T-S,segment,Smb,units,,month,2026-09,10,,100,,flat",
        "T-C,cohort,PILOT-A,units,,month,2026-09,10,,100,,flat",
        "T-O,partner,P00002,units,,month,2026-09,10,,100,,flat",
    ]
    src = TargetBonuses([tset(*rows)])
    r = src.evaluate(ctx("2026-09", [mt("2026-09", units=12)], segment="SMB", cohort="Pilot-A"))
    assert sorted(a.line_id for a in r.accruals) == [
        "target:T-C:2026-09",
        "target:T-P:2026-09",
        "target:T-S:2026-09",
    ]
    assert r.progress[0].text == "goal reached, 0 days left (120.00 % of 10 units)"


def test_metrics_units_per_category_and_new_customers() -> None:
    rows = [
        "T-U,partner,P00001,units,services,month,2026-09,10,,100,,flat",
        "T-N,partner,P00001,new_customers,,month,2026-09,4,,80,,flat",
        "T-E,partner,P00001,net_sales,services,month,2026-09,1000,,50,,flat",
    ]
    m = mt(
        "2026-09", "5000", units=40, newc=3, cats={"services": (D("900.00"), 7), "hardware": (D("4100"), 33)}
    )
    r = TargetBonuses([tset(*rows)]).evaluate(ctx("2026-09", [m]))
    assert r.accruals == []
    texts = {p.target_id: (p.metric, p.text) for p in r.progress}
    assert texts["T-U"] == ("units/services", "3 units to go, 0 days left (70.00 % of 10 units in services)")
    assert texts["T-N"] == ("new_customers", "1 new customer to go, 0 days left (75.00 % of 4 new customers)")
    assert texts["T-E"][1] == "EUR 100.00 to go, 0 days left (90.00 % of EUR 1 000.00 in services)"


def test_late_lines_count_in_the_month_they_were_sold() -> None:
    """September is closed; a September sale of EUR 2 000 lands in October: the Q3 target counts
    it (true-up at October's close), and October's own figures do not."""
    src = TargetBonuses([tset("T-M,partner,P00001,net_sales,,month,2026-09,10000,,300,,flat")])
    sep = mt("2026-09", "9000")
    r = src.evaluate(ctx("2026-09", [sep]))
    assert r.accruals == [] and r.awards == {"T-M@2026-09": D("0.00")}
    octo = mt("2026-10", "2500", late={"2026-09": (D("2000"), 3)})
    r2 = src.evaluate(ctx("2026-10", [sep, octo], r.awards))
    (line,) = r2.accruals
    assert line.line_id == "target:T-M:2026-09:trueup:2026-10"
    assert (line.amount, line.earned_on, line.trace["actual"]) == (D("300.00"), dt.date(2026, 9, 30), "11000")
    assert r2.awards == {"T-M@2026-09": D("300.00")}
    # an October target sees only October's own sales
    src2 = TargetBonuses([tset("T-O,partner,P00001,net_sales,,month,2026-10,1000,,10,,flat")])
    (p,) = src2.evaluate(ctx("2026-10", [sep, octo])).progress
    assert p.actual == D("500")


def test_trueup_down_never_edits_and_no_difference_no_line_and_the_window_closes() -> None:
    src = TargetBonuses([tset("T-M,partner,P00001,net_sales,,month,2026-09,10000,,300,,flat")])
    sep = mt("2026-09", "10500")
    awarded = src.evaluate(ctx("2026-09", [sep])).awards
    assert awarded == {"T-M@2026-09": D("300.00")}
    same = src.evaluate(ctx("2026-10", [sep, mt("2026-10", "5")], awarded))
    assert same.accruals == [] and same.awards == awarded
    back = mt("2026-11", "-800", late={"2026-09": (D("-800"), -1)})
    down = src.evaluate(ctx("2026-11", [sep, back], awarded))
    (line,) = down.accruals
    assert (line.line_id, line.amount) == ("target:T-M:2026-09:trueup:2026-11", D("-300.00"))
    assert down.awards == {"T-M@2026-09": D("0.00")}
    # 2026-12 is the third month after: still in the window (default 3); 2027-01 is not
    assert src.evaluate(ctx("2026-12", [sep, back], down.awards)).awards == {"T-M@2026-09": D("0.00")}
    assert src.evaluate(ctx("2027-01", [sep, back], down.awards)) == IncentiveResult([], [], {})
    assert src.evaluate(ctx("2026-10", [sep, back], awarded, rules=rules(trueup_months=0))).accruals == []


def test_a_version_with_targets_switched_off_awards_nothing() -> None:
    src = TargetBonuses([tset("T-M,partner,P00001,net_sales,,month,2026-09,100,,300,,flat")])
    r = src.evaluate(ctx("2026-09", [mt("2026-09", "500")], rules=rules(enabled=False)))
    assert r.accruals == [] and r.awards == {} and len(r.progress) == 1
    assert src.evaluate(ctx("2026-10", [mt("2026-09", "500")], r.awards)).accruals == []


def test_the_version_governing_an_interval_is_the_newest_effective_by_its_start() -> None:
    old = tset(
        "T-M,partner,P00001,net_sales,,month,2026-09,100,,300,,flat", version="T1", effective="2026-01-01"
    )
    new = tset(
        "T-M,partner,P00001,net_sales,,month,2026-09,100,,999,,flat", version="T2", effective="2026-09-01"
    )
    late = tset(
        "T-M,partner,P00001,net_sales,,month,2026-09,100,,5,,flat", version="T3", effective="2026-09-02"
    )
    (line,) = TargetBonuses([late, old, new]).evaluate(ctx("2026-09", [mt("2026-09", "100")])).accruals
    assert line.amount == D("999.00") and line.trace["targets_version"] == "T2"


def test_an_award_whose_target_is_gone_is_carried_while_its_window_is_open() -> None:
    r = TargetBonuses([]).evaluate(ctx("2026-10", [], {"X@2026-Q3": D("5"), "Y@2026-05": D("1")}))
    assert r.awards == {"X@2026-Q3": D("5")}


def test_incentives_compose_sources_and_refuse_one_line_id_twice() -> None:
    src = TargetBonuses([tset("T-M,partner,P00001,net_sales,,month,2026-09,100,,300,,flat")])
    r = Incentives([src]).evaluate(ctx("2026-09", [mt("2026-09", "100")]))
    assert len(r.accruals) == 1 and r.awards == {"T-M@2026-09": D("300.00")}
    with pytest.raises(ValueError, match="duplicate line ids: target:T-M:2026-09"):
        Incentives([src, src]).evaluate(ctx("2026-09", [mt("2026-09", "100")]))


# -- the bonus table (ORACLE_FORMATS "Targets") -------------------------------------------------
BANDS = parse_bands("80:50|100:100|120:150|150:200")


def test_band_methods_to_the_letter() -> None:
    assert attainment_pct(D("53625"), D("66000")) == D("81.25")
    assert attainment_pct(D("1"), D("3")) == D("33.33")
    assert [bonus_pct(D(a), BANDS, "flat") for a in ("79.99", "80", "119.99", "150", "300")] == [
        0,
        50,
        100,
        200,
        200,
    ]
    # step: (min(att, a_next) - a_i) x v_i / 100, the last band open-ended
    assert bonus_pct(D("110"), BANDS, "step") == D("20") * D("50") / 100 + D("10") * D("100") / 100
    assert bonus_pct(D("160"), BANDS, "step") == D(10) + D(20) + D(45) + D(20)
    assert bonus_pct(D("79"), BANDS, "step") == 0
    # interpolated: 0 below a1, linear between points, v_last above
    assert bonus_pct(D("79.99"), BANDS, "interpolated") == 0
    assert bonus_pct(D("90"), BANDS, "interpolated") == D(75)
    assert bonus_pct(D("135"), BANDS, "interpolated") == D(175)
    assert bonus_pct(D("400"), BANDS, "interpolated") == D(200)
    assert bonus_amount(D("333.33"), D("90"), BANDS, "interpolated") == D("250.00")  # 249.9975 -> 250.00
    assert bonus_pct(D("99.99"), (Band(D(100), D(100)),), "flat") == 0


pcts = st.decimals(min_value=0, max_value=400, places=2)


@given(a=pcts, b=pcts, method=st.sampled_from(["flat", "step", "interpolated"]))
def test_every_method_is_monotone_in_attainment(a: D, b: D, method: str) -> None:
    lo, hi = min(a, b), max(a, b)
    assert bonus_amount(D("500"), lo, BANDS, method) <= bonus_amount(D("500"), hi, BANDS, method)


@settings(max_examples=60)
@given(
    nets=st.lists(st.decimals(min_value=-5000, max_value=30000, places=2), min_size=4, max_size=4),
    late=st.lists(st.decimals(min_value=-3000, max_value=3000, places=2), min_size=3, max_size=3),
    method=st.sampled_from(["flat", "step", "interpolated"]),
)
def test_recomputing_is_deterministic_and_lines_sum_to_the_cumulative_award(
    nets: list[D], late: list[D], method: str
) -> None:
    """The award and every true-up: the same inputs give the same lines; the sum of the lines
    of an interval is its cumulative award."""
    src = TargetBonuses(
        [tset(f"T-Q,partner,P00001,net_sales,,quarter,2026-Q3,50000,,400,80:50|100:100|120:150,{method}")]
    )
    months = [mt("2026-07", str(nets[0])), mt("2026-08", str(nets[1])), mt("2026-09", str(nets[2]))]
    awarded: dict[str, D] = {}
    total = D(0)
    for i, period in enumerate(["2026-09", "2026-10", "2026-11", "2026-12"]):
        if i:
            months.append(mt(period, str(late[i - 1]), late={"2026-08": (late[i - 1], 0)}))
        c = ctx(period, list(months), awarded)
        r = src.evaluate(c)
        assert src.evaluate(c) == r
        total += sum((a.amount for a in r.accruals), D(0))
        awarded = r.awards
        assert total == awarded["T-Q@2026-Q3"]
        assert all(a.amount for a in r.accruals)
