"""The uplift's warnings (issue 13, docs/analytics-uplift.md): each fires at its threshold from
the rules' analytics section (min_partners_per_group, min_months_per_side, pre_trend_alpha) and
not on the safe side of it; an estimate that cannot be made, a percentage without a positive
counterfactual and an ROI without a positive cost say so instead of showing a number."""

from __future__ import annotations

from decimal import Decimal

from loyalty.analytics.uplift import PanelRow, pre_trend

from tests.unit.uplift_world import estimate_rows, panel, panel_of, version

D = Decimal


def has(warnings: tuple[str, ...], start: str) -> bool:
    return any(w.startswith(start) for w in warnings)


def test_a_group_smaller_than_min_partners_per_group_is_warned_of() -> None:
    v = version(min_partners_per_group=12)
    small_pilot = estimate_rows(v, panel(11, 12, seed=1).rows, "2026-12")
    assert [w for w in small_pilot.warnings if w.startswith("small")] == [
        "small pilot group: 11 partners, fewer than the 12 the rules ask for (analytics.min_partners_per_group)"
    ]
    small_control = estimate_rows(v, panel(12, 11, seed=1).rows, "2026-12")
    assert has(small_control.warnings, "small control group: 11 partners, fewer than the 12")
    assert not has(small_control.warnings, "small pilot group")
    at_threshold = estimate_rows(v, panel(12, 12, seed=1).rows, "2026-12")
    assert not has(at_threshold.warnings, "small")
    # the default (30) is read too
    assert has(
        estimate_rows(version(), panel(29, 40, seed=1).rows, "2026-12").warnings, "small pilot group: 29"
    )
    assert not has(estimate_rows(version(), panel(30, 40, seed=1).rows, "2026-12").warnings, "small")


def test_fewer_months_than_min_months_per_side_before_or_after_are_warned_of() -> None:
    v = version(min_months_per_side=4, min_partners_per_group=2)
    # data from 2025-09: 4 months before the start; 2025-10: 3
    four = estimate_rows(v, panel(20, 20, first="2025-09", last="2026-06", seed=2).rows, "2026-04")
    assert (four.pre_months, four.post_months) == (4, 4)
    assert not has(four.warnings, "few months")
    three_before = estimate_rows(v, panel(20, 20, first="2025-10", last="2026-06", seed=2).rows, "2026-04")
    assert three_before.pre_months == 3
    assert has(
        three_before.warnings,
        "few months before the start (2026-01): 3, fewer than the 4 the rules ask for "
        "(analytics.min_months_per_side)",
    )
    assert not has(three_before.warnings, "few months after")
    three_after = estimate_rows(v, panel(20, 20, first="2025-09", last="2026-06", seed=2).rows, "2026-03")
    assert three_after.post_months == 3
    assert has(three_after.warnings, "few months after the start (2026-01): 3, fewer than the 4")
    assert not has(three_after.warnings, "few months before")


def test_diverging_pre_trends_are_warned_of_below_pre_trend_alpha() -> None:
    world = panel(60, 60, pre_gap=15.0, seed=4)
    p_value = pre_trend(panel_of(version(), world.rows, "2026-12")).p_value(3)
    assert 1e-6 < p_value < 0.05  # planted: the pilot grew 15 EUR a month faster before the start
    above = estimate_rows(version(pre_trend_alpha=f"{p_value * 1.01:.12f}"), world.rows, "2026-12")
    (warning,) = [w for w in above.warnings if w.startswith("pre-period")]
    assert warning.startswith("pre-period trends differ: before the start the pilot group's net sales grew ")
    assert f"(p = {p_value:.4f}, below analytics.pre_trend_alpha {p_value * 1.01:.12f})" in warning
    below = estimate_rows(version(pre_trend_alpha=f"{p_value * 0.99:.12f}"), world.rows, "2026-12")
    assert not has(below.warnings, "pre-period")
    # parallel trends at the default 0.05: no warning
    assert not has(estimate_rows(version(), panel(60, 60, seed=4).rows, "2026-12").warnings, "pre-period")


def test_one_month_before_the_start_leaves_the_pre_trend_untested() -> None:
    world = panel(20, 20, first="2025-12", last="2026-03", seed=6)
    r = estimate_rows(version(min_months_per_side=1, min_partners_per_group=2), world.rows, "2026-03")
    assert r.uplift_eur is not None and r.pre_months == 1
    assert r.warnings == (
        "pre-period trends not tested: 1 months before the start (the test needs at least 2 "
        "with pilot and control partners)",
    )


def test_partners_moving_in_or_out_of_the_scope_are_left_out_and_counted() -> None:
    v = version(cohort=None, segments=("smb",), min_partners_per_group=2)
    world = panel(20, 20, seed=7)
    moved = [
        PanelRow("M1", p, "smb" if p >= "2026-03" else "enterprise", "", D(1000), D(50))
        for p in ("2025-11", "2025-12", "2026-01", "2026-02", "2026-03", "2026-04")
    ]
    rows = [
        PanelRow(
            r.partner_id, r.period, "smb" if r.cohort == "pilot" else "enterprise", "", r.net_sales, r.cost
        )
        for r in world.rows
    ]
    r = estimate_rows(v, rows + moved, "2026-12")
    assert (r.pilot_partners, r.control_partners) == (20, 20)
    assert has(r.warnings, "1 partners moved into or out of the pilot's scope within 2025-01..2026-12")


def test_without_a_control_group_there_is_no_estimate_and_the_warning_says_why() -> None:
    world = panel(20, 0, seed=9)
    r = estimate_rows(version(min_partners_per_group=2), world.rows, "2026-12")
    assert r.uplift_eur is r.uplift_pct is r.roi is r.incremental_sales is None
    assert has(r.warnings, "small control group: 0 partners")
    assert has(
        r.warnings,
        "no estimate: the pilot and the control group each need partners with months both before "
        "and after 2026-01 (20 pilot, 0 control partners, 12 months before, 12 after)",
    )
    assert r.to_json()["uplift_eur"] is None and r.to_json()["roi"] is None


def test_no_roi_without_a_positive_incremental_cost() -> None:
    same_cost = estimate_rows(
        version(min_partners_per_group=2),
        panel(30, 30, cost_rate=0, pilot_cost_rate=0, seed=10).rows,
        "2026-12",
    )
    assert same_cost.incremental_cost == D("0.00") and same_cost.roi is None
    assert has(same_cost.warnings, "no ROI: the pilot's incremental program cost is 0.00 EUR (none)")
    cheaper = estimate_rows(
        version(min_partners_per_group=2),
        panel(30, 30, cost_rate=0.06, pilot_cost_rate=0.02, seed=10).rows,
        "2026-12",
    )
    assert cheaper.incremental_cost is not None and cheaper.incremental_cost < 0 and cheaper.roi is None
    assert has(
        cheaper.warnings,
        f"no ROI: the pilot's incremental program cost is {cheaper.incremental_cost} EUR (saved)",
    )


def test_no_uplift_pct_without_a_positive_counterfactual() -> None:
    def rows(pid: str, cohort: str, pre: str, post: str) -> list[PanelRow]:
        return [
            PanelRow(pid, p, "smb", cohort, D(pre if p < "2026-01" else post), D(0))
            for p in ("2025-12", "2026-01")
        ]

    # control falls by 100, the pilot by 20 from 51: the counterfactual 51 - 100 is negative
    data = [
        *rows("P1", "pilot", "50", "30"),
        *rows("P2", "pilot", "52", "32"),
        *rows("C1", "", "100", "0"),
        *rows("C2", "", "102", "2"),
    ]
    r = estimate_rows(version(min_partners_per_group=2, min_months_per_side=1), data, "2026-01")
    assert r.uplift_eur == D("80.00") and r.uplift_pct is None and r.pct_ci_low is None
    assert has(
        r.warnings, "no uplift %: the pilot group's counterfactual net sales per partner-month are -49.00 EUR"
    )
