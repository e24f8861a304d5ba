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

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from loyalty.analytics.ols import LEVEL, Cell, Fit, SingularDesign, clustered_ols, interval
from loyalty.kernel.money import to_cents
from loyalty.kernel.periods import cutoff, months_back, next_period
from loyalty.program.rules import RuleVersion

if TYPE_CHECKING:  # the engine loads DuckDB; the uplift only reads the rows it answered
    from loyalty.analytics.engine import Rows

PRE_MONTHS = 12  # the pre-period: up to this many months before the start
RATIO = Decimal("0.0001")
METHOD = (
    "difference-in-differences: OLS of partner-month net sales on pilot, post and pilot x post; "
    "standard errors clustered by partner (CR1), 95 % normal intervals; uplift % = uplift / "
    "counterfactual mean with a delta-method interval"
)


@dataclass(frozen=True)
class PanelRow:
    """One partner-month of the pilot panel (query `pilot_panel`)."""

    partner_id: str
    period: str
    segment: str
    cohort: str
    net_sales: Decimal
    cost: Decimal  # commission + bonuses + overrides + points_cost


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


def _month(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def start_period(version: RuleVersion) -> str:
    """The first month wholly under the version: its effective month when it starts on the 1st,
    else the next one (the month it starts in is mixed and left out of both sides)."""
    month = _month(version.effective_from)
    return month if version.effective_from.day == 1 else next_period(month)


def pilots(versions: Sequence[RuleVersion], period: str) -> list[RuleVersion]:
    """The pilot versions (scoped to a cohort or segments) that took effect on or before the
    period's last day, oldest first."""
    last = cutoff(period)
    chosen = [v for v in versions if v.scope.scoped and v.effective_from <= last]
    return sorted(chosen, key=lambda v: (v.effective_from, v.version))


def panel_window(version: RuleVersion, period: str) -> tuple[str, str]:
    """The periods the panel needs: PRE_MONTHS before the start, through `period`."""
    return months_back(start_period(version), PRE_MONTHS + 1)[0], period


def rows_of(rows: Rows) -> list[PanelRow]:
    """The `pilot_panel` query's answer as panel rows (money as Decimal, a missing cohort '')."""
    return [
        PanelRow(
            partner_id=str(r["partner_id"]),
            period=str(r["period"]),
            segment=str(r["segment"] or ""),
            cohort=str(r["cohort"] or ""),
            net_sales=Decimal(str(r["net_sales"] or 0)),
            cost=Decimal(str(r["cost"] or 0)),
        )
        for r in rows.dicts()
    ]


def _ordinal(period: str) -> int:
    return int(period[:4]) * 12 + int(period[5:7]) - 1


@dataclass
class _Partner:
    covered: set[bool] = field(default_factory=set)
    months: dict[str, list[Decimal]] = field(default_factory=dict)  # period -> [sales, cost]


@dataclass(frozen=True)
class Panel:
    """The partners that enter the comparison: each in one group, with months on both sides."""

    start: str
    pilot: dict[str, dict[str, tuple[float, float]]]  # partner -> period -> (net sales, cost)
    control: dict[str, dict[str, tuple[float, float]]]
    switchers: int  # in the scope in some months and not in others: left out
    one_sided: int  # without a month before or without one after the start: left out

    def months(self, post: bool) -> list[str]:
        seen = {p for g in (self.pilot, self.control) for ms in g.values() for p in ms}
        return sorted(p for p in seen if (p >= self.start) == post)

    @property
    def pilot_post_obs(self) -> int:
        return sum(1 for ms in self.pilot.values() for p in ms if p >= self.start)


def build_panel(version: RuleVersion, rows: Sequence[PanelRow], period: str) -> Panel:
    start = start_period(version)
    first, last = panel_window(version, period)
    mixed = _month(version.effective_from) if start != _month(version.effective_from) else None
    partners: dict[str, _Partner] = {}
    covers: dict[tuple[str, str], bool] = {}
    for r in rows:
        if not first <= r.period <= last or r.period == mixed:
            continue
        p = partners.setdefault(r.partner_id, _Partner())
        key = (r.cohort, r.segment)
        if key not in covers:
            covers[key] = version.scope.covers(r.cohort, r.segment)
        p.covered.add(covers[key])
        sums = p.months.setdefault(r.period, [Decimal(0), Decimal(0)])
        sums[0] += r.net_sales
        sums[1] += r.cost
    groups: dict[bool, dict[str, dict[str, tuple[float, float]]]] = {True: {}, False: {}}
    switchers = one_sided = 0
    for pid, p in partners.items():
        if len(p.covered) > 1:
            switchers += 1
        elif not (any(m < start for m in p.months) and any(m >= start for m in p.months)):
            one_sided += 1
        else:
            groups[next(iter(p.covered))][pid] = {m: (float(s), float(c)) for m, (s, c) in p.months.items()}
    return Panel(start, groups[True], groups[False], switchers, one_sided)


def did(panel: Panel, outcome: int) -> Fit:
    """y ~ pilot*post on outcome 0 (net sales) or 1 (cost); params (a, b, c, d)."""
    clusters: list[list[Cell]] = []
    for flag, group in ((1.0, panel.pilot), (0.0, panel.control)):
        for months in group.values():
            pre = [v[outcome] for m, v in months.items() if m < panel.start]
            post = [v[outcome] for m, v in months.items() if m >= panel.start]
            clusters.append(
                [
                    Cell((1.0, flag, 0.0, 0.0), len(pre), sum(pre)),
                    Cell((1.0, flag, 1.0, flag), len(post), sum(post)),
                ]
            )
    return clustered_ols(clusters)


def pre_trend(panel: Panel) -> Fit:
    """y ~ pilot*t on the pre-period's net sales (t in months from the start); param 3 is how
    much faster the pilot group's sales grew than control's, in EUR per partner-month per month."""
    origin = _ordinal(panel.start)
    clusters: list[list[Cell]] = []
    for flag, group in ((1.0, panel.pilot), (0.0, panel.control)):
        for months in group.values():
            cells = []
            for m, v in months.items():
                if m < panel.start:
                    t = float(_ordinal(m) - origin)
                    cells.append(Cell((1.0, flag, t, flag * t), 1, v[0]))
            clusters.append(cells)
    return clustered_ols(clusters)


def _eur(value: float) -> Decimal:
    return to_cents(Decimal(value))


def estimate(version: RuleVersion, rows: Sequence[PanelRow], period: str) -> PilotResult:
    """The pilot's uplift, intervals, incremental sales, margin and cost, ROI and warnings."""
    rules = version.analytics
    panel = build_panel(version, rows, period)
    pre, post = panel.months(post=False), panel.months(post=True)
    base = PilotResult(
        version=version.version,
        cohort=version.scope.cohort,
        segments=tuple(version.scope.segments),
        start=panel.start,
        period=period,
        pilot_partners=len(panel.pilot),
        control_partners=len(panel.control),
        pre_months=len(pre),
        post_months=len(post),
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
            f"pre-period trends not tested: {len(panel.months(post=False))} months before the start "
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
