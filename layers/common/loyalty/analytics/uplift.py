"""Pilot vs control: the uplift of a pilot rules version by difference-in-differences, and its ROI.

A rules version whose `scope` is set is a pilot from its `effective_from` (docs/analytics-uplift.md):
partners it covers are the pilot group, everyone else is control. On partner-month net sales,

    y = a + b*pilot + c*post + d*pilot*post      (OLS, partner-clustered CR1 errors, normal CI)

and `d` is the pilot's uplift in EUR per partner-month. The same regression on the program cost
gives the incremental cost; the gross margin rate of the rules (`analytics.gross_margin_rate`)
turns the incremental sales into margin; ROI = (margin - cost) / cost. The other analytics
settings decide the warnings: groups smaller than `min_partners_per_group`, fewer months than
`min_months_per_side` before or after the start, and pre-period trends that differ at
`pre_trend_alpha`.

Pure Python (floats for the statistics, Decimal for the money): the report's Lambda ships no
numpy or statsmodels; `loyalty.analytics.ols` is the small solver, checked against statsmodels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from loyalty.analytics.ols import LEVEL, Fit, SingularDesign, interval
from loyalty.analytics.panel import (
    PRE_MONTHS,
    Panel,
    PanelGroup,
    PanelRow,
    build_panel,
    did,
    panel_groups,
    panel_params,
    panel_window,
    pre_trend,
    rows_of,
    start_period,
)
from loyalty.kernel.money import to_cents
from loyalty.kernel.periods import cutoff
from loyalty.program.rules import RuleVersion

__all__ = [
    "PRE_MONTHS",
    "PanelGroup",
    "PanelRow",
    "PilotResult",
    "build_panel",
    "did",
    "estimate",
    "panel_groups",
    "panel_params",
    "panel_window",
    "pilots",
    "pre_trend",
    "rows_of",
    "start_period",
]
RATIO = Decimal("0.0001")
METHOD = (
    "difference-in-differences: OLS of partner-month net sales on pilot, post and pilot x post; "
    "standard errors clustered by partner (CR1), 95 % normal intervals; uplift % = uplift / "
    "counterfactual mean with a delta-method interval"
)


@dataclass(frozen=True)
class PilotResult:
    version: str
    cohort: str | None
    segments: tuple[str, ...]
    start: str  # the first month fully under the pilot
    period: str
    pilot_partners: int
    control_partners: int
    pre_months: int
    post_months: int
    gross_margin_rate: Decimal
    uplift_eur: Decimal | None = None  # per pilot partner-month
    ci_low: Decimal | None = None
    ci_high: Decimal | None = None
    uplift_pct: float | None = None  # percent of the counterfactual
    pct_ci_low: float | None = None
    pct_ci_high: float | None = None
    p_value: float | None = None
    incremental_sales: Decimal | None = None
    incremental_margin: Decimal | None = None
    incremental_cost: Decimal | None = None
    roi: Decimal | None = None  # (margin - cost) / cost; None unless the cost is positive
    method: str = METHOD
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        """JSON-able: money as "1234.56", percentages as "8.03", p-value and ROI as ratios."""

        def money(v: Decimal | None) -> str | None:
            return None if v is None else str(v)

        def pct(v: float | None) -> str | None:
            return None if v is None else f"{v:.2f}"

        return {
            "version": self.version,
            "cohort": self.cohort,
            "segments": list(self.segments),
            "start": self.start,
            "period": self.period,
            "pilot_partners": self.pilot_partners,
            "control_partners": self.control_partners,
            "pre_months": self.pre_months,
            "post_months": self.post_months,
            "uplift_eur": money(self.uplift_eur),
            "ci_low": money(self.ci_low),
            "ci_high": money(self.ci_high),
            "uplift_pct": pct(self.uplift_pct),
            "pct_ci_low": pct(self.pct_ci_low),
            "pct_ci_high": pct(self.pct_ci_high),
            "p_value": None if self.p_value is None else f"{self.p_value:.4f}",
            "incremental_sales": money(self.incremental_sales),
            "incremental_margin": money(self.incremental_margin),
            "incremental_cost": money(self.incremental_cost),
            "roi": money(self.roi),
            "gross_margin_rate": str(self.gross_margin_rate),
            "method": self.method,
            "warnings": list(self.warnings),
        }


def pilots(versions: Sequence[RuleVersion], period: str) -> list[RuleVersion]:
    """The pilot versions (scoped to a cohort or segments) that took effect on or before the
    period's last day, oldest first."""
    last = cutoff(period)
    chosen = [v for v in versions if v.scope.scoped and v.effective_from <= last]
    return sorted(chosen, key=lambda v: (v.effective_from, v.version))


def _eur(value: float) -> Decimal:
    return to_cents(Decimal(value))


def estimate(version: RuleVersion, groups: Sequence[PanelGroup], period: str) -> PilotResult:
    """The pilot's uplift, intervals, incremental sales, margin and cost, ROI and warnings, from
    the `pilot_panel` query's rows (`rows_of`; `panel_groups` makes them from partner-months)."""
    rules = version.analytics
    panel = build_panel(version, groups, period)
    base = PilotResult(
        version=version.version,
        cohort=version.scope.cohort,
        segments=tuple(version.scope.segments),
        start=panel.start,
        period=period,
        pilot_partners=len(panel.pilot),
        control_partners=len(panel.control),
        pre_months=panel.pre_months,
        post_months=panel.post_months,
        gross_margin_rate=rules.gross_margin_rate,
    )
    warnings = sample_warnings(version, panel, base)
    try:
        sales, cost = did(panel, 0), did(panel, 1)
    except SingularDesign:
        warnings.append(
            "no estimate: the pilot and the control group each need partners with months both "
            f"before and after {panel.start} ({base.pilot_partners} pilot, "
            f"{base.control_partners} control partners, {base.pre_months} months before, "
            f"{base.post_months} after)"
        )
        return replace(base, warnings=tuple(warnings))
    warnings += trend_warnings(version, panel)
    return replace(base, **_figures(sales, cost, panel.pilot_post_obs, rules.gross_margin_rate, warnings))


def _figures(sales: Fit, cost: Fit, obs: int, margin_rate: Decimal, warnings: list[str]) -> dict[str, Any]:
    d = sales.params[3]
    low, high = sales.ci(3, LEVEL)
    out: dict[str, Any] = {
        "uplift_eur": _eur(d),
        "ci_low": _eur(low),
        "ci_high": _eur(high),
        "p_value": sales.p_value(3),
    }
    counterfactual = sum(sales.params[:3])  # the pilot's post mean without the pilot: a + b + c
    if counterfactual > 0:
        pct = 100 * d / counterfactual
        slope = -100 * d / counterfactual**2
        se = sales.variance((slope, slope, slope, 100 / counterfactual)) ** 0.5
        out["uplift_pct"] = pct
        out["pct_ci_low"], out["pct_ci_high"] = interval(pct, se, LEVEL)
    else:
        warnings.append(
            f"no uplift %: the pilot group's counterfactual net sales per partner-month are "
            f"{_eur(counterfactual)} EUR, not positive"
        )
    inc_sales = to_cents(Decimal(d) * obs)
    inc_margin = to_cents(inc_sales * margin_rate)
    inc_cost = to_cents(Decimal(cost.params[3]) * obs)
    out.update(incremental_sales=inc_sales, incremental_margin=inc_margin, incremental_cost=inc_cost)
    if inc_cost > 0:
        out["roi"] = ((inc_margin - inc_cost) / inc_cost).quantize(RATIO)
    else:
        warnings.append(
            f"no ROI: the pilot's incremental program cost is {inc_cost} EUR "
            f"({'saved' if inc_cost < 0 else 'none'}), ROI is only defined for a positive cost"
        )
    out["warnings"] = tuple(warnings)
    return out


def sample_warnings(version: RuleVersion, panel: Panel, base: PilotResult) -> list[str]:
    """Groups smaller than min_partners_per_group; fewer months than min_months_per_side."""
    rules = version.analytics
    out = []
    for name, n in (("pilot", base.pilot_partners), ("control", base.control_partners)):
        if n < rules.min_partners_per_group:
            out.append(
                f"small {name} group: {n} partners, fewer than the {rules.min_partners_per_group} "
                "the rules ask for (analytics.min_partners_per_group)"
            )
    for side, n in (("before", base.pre_months), ("after", base.post_months)):
        if n < rules.min_months_per_side:
            out.append(
                f"few months {side} the start ({panel.start}): {n}, fewer than the "
                f"{rules.min_months_per_side} the rules ask for (analytics.min_months_per_side)"
            )
    if panel.switchers:
        out.append(
            f"{panel.switchers} partners moved into or out of the pilot's scope within "
            f"{panel_window(version, base.period)[0]}..{base.period} and are left out"
        )
    return out


def trend_warnings(version: RuleVersion, panel: Panel) -> list[str]:
    """The pre-period trends of pilot and control differ at pre_trend_alpha (or can't be told)."""
    alpha = float(version.analytics.pre_trend_alpha)
    try:
        fit = pre_trend(panel)
    except SingularDesign:
        return [
            f"pre-period trends not tested: {panel.pre_months} months before the start "
            "(the test needs at least 2 with pilot and control partners)"
        ]
    slope, p = fit.params[3], fit.p_value(3)
    if p < alpha:
        return [
            f"pre-period trends differ: before the start the pilot group's net sales grew "
            f"{_eur(slope)} EUR per partner-month per month more than control's (p = {p:.4f}, "
            f"below analytics.pre_trend_alpha {version.analytics.pre_trend_alpha}); "
            "the uplift may be biased"
        ]
    return []
