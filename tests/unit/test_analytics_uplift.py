"""Pilot vs control (issue 13, docs/analytics-uplift.md): the difference-in-differences estimate
equals statsmodels' clustered OLS, recovers a planted +8 % uplift within its interval and finds
none where none was planted; margin and ROI follow the rules' gross margin rate; each warning
fires at its rules threshold; pilots and panels are chosen from the rules versions."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf
from loyalty.analytics.ols import LEVEL, Cell, SingularDesign, clustered_ols, invert, z_quantile
from loyalty.analytics.uplift import PanelRow, did, panel_window, pilots, pre_trend, start_period
from loyalty.kernel.money import to_cents

from tests.unit.uplift_world import estimate_rows, panel, panel_of, version

D = Decimal


def frame(rows: list[PanelRow], start: str) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "partner": [r.partner_id for r in rows],
            "period": [r.period for r in rows],
            "y": [float(r.net_sales) for r in rows],
            "cost": [float(r.cost) for r in rows],
            "pilot": [int(r.cohort == "pilot") for r in rows],
        }
    )
    df["post"] = (df["period"] >= start).astype(int)
    df["t"] = [int(p[:4]) * 12 + int(p[5:7]) - (int(start[:4]) * 12 + int(start[5:7])) for p in df["period"]]
    return df


def clustered(formula: str, df: pd.DataFrame) -> Any:
    groups = pd.factorize(df["partner"])[0]
    return smf.ols(formula, df).fit(cov_type="cluster", cov_kwds={"groups": groups})


def random_panel(seed: int) -> list[PanelRow]:
    """A small unbalanced panel: random sizes, effects, trend, uplift and missing months."""
    rng = np.random.default_rng(seed)
    world = panel(
        int(rng.integers(3, 40)),
        int(rng.integers(3, 60)),
        first="2025-06",
        last="2026-05",
        uplift=float(rng.uniform(0.8, 1.3)),
        noise=float(rng.uniform(0.01, 0.5)),
        seed=seed,
    )
    keep = rng.random(len(world.rows)) > 0.15
    return [r for r, k in zip(world.rows, keep, strict=True) if k]


# -- (a) the estimator is statsmodels' clustered OLS -------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_the_did_equals_statsmodels_clustered_ols(seed: int) -> None:
    v = version()
    rows = random_panel(seed)
    p = panel_of(v, rows, "2026-05")
    kept = {*p.pilot, *p.control}
    df = frame([r for r in rows if r.partner_id in kept], "2026-01")
    for outcome, column in ((0, "y"), (1, "cost")):
        ours = did(p, outcome)
        ref = clustered(f"{column} ~ pilot*post", df)
        assert ours.params == pytest.approx(list(ref.params), rel=1e-6, abs=1e-6)
        assert np.allclose(ours.cov, ref.cov_params(), rtol=1e-6, atol=1e-9)
        assert ours.se(3) == pytest.approx(ref.bse["pilot:post"], rel=1e-6)
        low, high = ref.conf_int(alpha=1 - LEVEL).loc["pilot:post"]
        assert ours.ci(3) == pytest.approx((low, high), rel=1e-6)
        assert ours.p_value(3) == pytest.approx(ref.pvalues["pilot:post"], rel=1e-6, abs=1e-12)
    # and what the result reports is that, in cents; the uplift % by the delta method on its cov
    r = estimate_rows(v, rows, "2026-05")
    ref = clustered("y ~ pilot*post", df)
    b, cov = np.asarray(ref.params), np.asarray(ref.cov_params())
    assert r.uplift_eur == to_cents(D(b[3])) and r.p_value == pytest.approx(ref.pvalues.iloc[3], rel=1e-6)
    assert (r.ci_low, r.ci_high) == tuple(to_cents(D(x)) for x in ref.conf_int().iloc[3])
    cf = b[:3].sum()
    grad = np.array([-100 * b[3] / cf**2] * 3 + [100 / cf])
    se = float(np.sqrt(grad @ cov @ grad))
    pct = 100 * b[3] / cf
    assert r.uplift_pct == pytest.approx(pct, rel=1e-6)
    assert (r.pct_ci_low, r.pct_ci_high) == pytest.approx(
        (pct - z_quantile(LEVEL) * se, pct + z_quantile(LEVEL) * se), rel=1e-6
    )


@pytest.mark.parametrize("seed", range(4))
def test_the_pre_trend_test_equals_statsmodels(seed: int) -> None:
    v = version()
    rows = random_panel(100 + seed)
    p = panel_of(v, rows, "2026-05")
    kept = {*p.pilot, *p.control}
    df = frame([r for r in rows if r.partner_id in kept and r.period < "2026-01"], "2026-01")
    ours, ref = pre_trend(p), clustered("y ~ pilot*t", df)  # ours: from each partner's sums
    assert ours.params == pytest.approx(list(ref.params), rel=1e-6, abs=1e-6)
    assert np.allclose(ours.cov, ref.cov_params(), rtol=1e-6, atol=1e-9)
    low, high = ref.conf_int(alpha=1 - LEVEL).loc["pilot:t"]
    assert ours.ci(3) == pytest.approx((low, high), rel=1e-6)
    assert ours.se(3) == pytest.approx(ref.bse["pilot:t"], rel=1e-6)
    assert ours.p_value(3) == pytest.approx(ref.pvalues["pilot:t"], rel=1e-6, abs=1e-12)


def test_the_uplift_code_loads_no_numpy_statsmodels_or_duckdb() -> None:
    code = (
        "import sys, loyalty.analytics.uplift; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'numpy', 'statsmodels', 'duckdb', 'pandas', 'scipy'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- (b) a planted +8 % is recovered; margin and ROI at the rules' rate -------------------------


def test_a_planted_8_pct_uplift_is_recovered_within_its_interval() -> None:
    world = panel(200, 400, uplift=1.08)
    r = estimate_rows(version(gross_margin_rate="0.25"), world.rows, "2026-12")
    assert (r.pilot_partners, r.control_partners, r.pre_months, r.post_months) == (200, 400, 12, 12)
    assert r.uplift_pct is not None and r.pct_ci_low is not None and r.pct_ci_high is not None
    assert r.pct_ci_low < 8 < r.pct_ci_high and r.pct_ci_low > 0
    assert r.ci_low is not None and r.ci_high is not None
    assert r.ci_low < D(world.true_uplift()) < r.ci_high
    assert r.p_value is not None and r.p_value < 0.001
    assert r.warnings == ()
    # incremental sales: the uplift over the pilot's 200 x 12 partner-months after the start
    d = did(panel_of(version(), world.rows, "2026-12"), 0).params[3]
    assert r.incremental_sales == to_cents(D(d) * 2400)
    assert r.incremental_margin == to_cents(r.incremental_sales * D("0.25"))
    assert r.incremental_cost is not None
    assert float(r.incremental_cost) == pytest.approx(world.true_cost(), rel=0.10)
    assert r.roi == ((r.incremental_margin - r.incremental_cost) / r.incremental_cost).quantize(D("0.0001"))
    j = r.to_json()
    assert (
        j["gross_margin_rate"] == "0.25"
        and j["roi"] == str(r.roi)
        and j["uplift_pct"] == f"{r.uplift_pct:.2f}"
    )
    assert j["incremental_margin"] == str(r.incremental_margin) and j["warnings"] == []


def test_the_margin_follows_the_rules_gross_margin_rate() -> None:
    world = panel(60, 60, uplift=1.10, seed=3)
    low = estimate_rows(version(gross_margin_rate="0.20"), world.rows, "2026-12")
    high = estimate_rows(version(gross_margin_rate="0.50"), world.rows, "2026-12")
    assert low.incremental_sales == high.incremental_sales and low.incremental_sales is not None
    assert low.incremental_margin == to_cents(low.incremental_sales * D("0.20"))
    assert high.incremental_margin == to_cents(high.incremental_sales * D("0.50"))
    assert low.roi is not None and high.roi is not None and high.roi > low.roi
    assert (low.gross_margin_rate, high.gross_margin_rate) == (D("0.20"), D("0.50"))


# -- (c) no planted effect: the interval holds zero -------------------------------------------


@pytest.mark.parametrize("seed", [21, 22])
def test_without_a_planted_effect_the_interval_contains_zero(seed: int) -> None:
    world = panel(200, 400, uplift=1.0, pilot_cost_rate=0.05, seed=seed)
    r = estimate_rows(version(), world.rows, "2026-12")
    assert r.ci_low is not None and r.ci_high is not None and r.ci_low < 0 < r.ci_high
    assert r.pct_ci_low is not None and r.pct_ci_high is not None and r.pct_ci_low < 0 < r.pct_ci_high
    assert r.p_value is not None and r.p_value > 0.05


# -- (e) pilots, windows, (f) the query's rows --------------------------------------------------


def test_pilots_are_the_scoped_versions_started_by_the_period_s_end() -> None:
    general = version(cohort=None, effective_from="2025-01-01", name="2025.1")
    a = version(effective_from="2026-01-01", name="a")
    b = version(cohort=None, segments=("smb",), effective_from="2026-03-15", name="b")
    c = version(effective_from="2026-05-01", name="c")
    assert pilots([c, b, general, a], "2026-02") == [a]
    assert pilots([c, b, general, a], "2026-03") == [a, b]
    assert pilots([c, b, general, a], "2026-05") == [a, b, c]
    assert pilots([general], "2026-05") == []


def test_the_window_is_twelve_months_before_the_first_full_month_to_the_period() -> None:
    assert panel_window(version(effective_from="2026-01-01"), "2026-10") == ("2025-01", "2026-10")
    mid = version(effective_from="2026-03-15")
    assert start_period(mid) == "2026-04" and panel_window(mid, "2026-10") == ("2025-04", "2026-10")


def test_the_month_a_pilot_starts_in_mid_way_is_on_neither_side() -> None:
    world = panel(40, 40, first="2025-10", last="2026-06", start="2026-04", seed=5)
    r = estimate_rows(version(effective_from="2026-03-15", min_partners_per_group=2), world.rows, "2026-06")
    # 2025-10..2026-02 before, 2026-03 left out, 2026-04..06 after
    assert (r.start, r.pre_months, r.post_months) == ("2026-04", 5, 3)
    p = panel_of(version(effective_from="2026-03-15"), world.rows, "2026-06")
    assert {(s["pre"].n, s["post"].n) for g in (p.pilot, p.control) for s in g.values()} == {(5, 3)}


def test_partners_without_months_on_both_sides_are_left_out() -> None:
    world = panel(40, 40, seed=8)
    late = [PanelRow("P-late", p, "smb", "pilot", D(100), D(5)) for p in ("2026-02", "2026-03")]
    early = [PanelRow("C-gone", "2025-05", "smb", "", D(100), D(5))]
    r = estimate_rows(version(), world.rows + late + early, "2026-12")
    assert (r.pilot_partners, r.control_partners) == (40, 40)


def test_the_solver_inverts_by_gauss_jordan_and_refuses_a_singular_design() -> None:
    m = ((4.0, 2.0, 0.0), (2.0, 3.0, 1.0), (0.0, 1.0, 2.0))
    assert np.allclose(invert(m), np.linalg.inv(np.array(m)), rtol=1e-12)
    with pytest.raises(SingularDesign):
        invert(((1.0, 2.0), (2.0, 4.0)))
    with pytest.raises(SingularDesign):  # one cluster: no clustered variance
        clustered_ols([[Cell((1.0, 0.0), 3, 6.0), Cell((1.0, 1.0), 2, 9.0)]])
