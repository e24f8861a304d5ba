"""Generated pilot panels for the uplift tests (docs/analytics-uplift.md).

Partners have their own level of sales, every partner shares a trend and a season, each month
adds noise; the pilot group's sales from the start are multiplied by `uplift`, its program cost
rate moves from `cost_rate` to `pilot_cost_rate`. `truth` keeps the counterfactual (what the
pilot partners would have sold without the pilot) to check the estimate against. The estimate
reads what `pilot_panel` answers: `panel_groups` aggregates the rows the same way (a test runs the
query on Parquet of such rows and compares)."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import yaml
from loyalty.analytics.panel import Panel, PanelRow, build_panel, panel_groups
from loyalty.analytics.uplift import PilotResult, estimate
from loyalty.kernel.periods import months_back
from loyalty.program.rules import RuleVersion

from tests.conftest import RULES

D = Decimal


def version(
    effective_from: str = "2026-01-01",
    cohort: str | None = "pilot",
    segments: tuple[str, ...] = (),
    name: str = "2026.1-pilot",
    **analytics: Any,
) -> RuleVersion:
    data: dict[str, Any] = yaml.safe_load(RULES)
    scope: dict[str, Any] = {"segments": list(segments)}
    if cohort:
        scope["cohort"] = cohort
    data.update(
        version=name,
        effective_from=dt.date.fromisoformat(effective_from),
        scope=scope,
        analytics={k: str(v) for k, v in analytics.items()},
    )
    return RuleVersion.model_validate(data)


def estimate_rows(v: RuleVersion, rows: list[PanelRow], period: str) -> PilotResult:
    """The estimate from these partner-months, aggregated as `pilot_panel` aggregates them."""
    return estimate(v, panel_groups(v, rows, period), period)


def panel_of(v: RuleVersion, rows: list[PanelRow], period: str) -> Panel:
    return build_panel(v, panel_groups(v, rows, period), period)


@dataclass
class World:
    rows: list[PanelRow] = field(default_factory=list)
    # pilot post partner-months: (counterfactual sales, counterfactual cost, actual sales, actual cost)
    truth: list[tuple[float, float, float, float]] = field(default_factory=list)

    def true_uplift(self) -> float:
        """The planted uplift per pilot partner-month in EUR."""
        return sum(s - cf for cf, _, s, _ in self.truth) / len(self.truth)

    def true_cost(self) -> float:
        return sum(c - cc for _, cc, _, c in self.truth)


def panel(
    n_pilot: int = 200,
    n_control: int = 400,
    *,
    first: str = "2025-01",
    last: str = "2026-12",
    start: str = "2026-01",
    uplift: float = 1.08,
    pre_gap: float = 0.0,
    cost_rate: float = 0.05,
    pilot_cost_rate: float = 0.07,
    noise: float = 0.08,
    seed: int = 13,
) -> World:
    """Partner-months from `first` to `last`; `pre_gap`: the pilot group's extra growth per
    month before the start (EUR per partner-month per month), for diverging pre-trends."""
    rng = np.random.default_rng(seed)
    periods = [p for p in months_back(last, 120) if p >= first]
    world = World()
    for i in range(n_pilot + n_control):
        pilot = i < n_pilot
        level = float(rng.lognormal(math.log(4000), 0.5))
        segment = ("smb", "enterprise")[i % 2]
        for t, period in enumerate(periods):
            common = 1 + 0.01 * t + 0.06 * math.sin(2 * math.pi * t / 12)
            cf = level * common * (1 + float(rng.normal(0, noise)))
            post = period >= start
            if pilot and not post:
                cf += pre_gap * (t - len(periods))
            sales = cf * uplift if pilot and post else cf
            rate = pilot_cost_rate if pilot and post else cost_rate
            cost = sales * rate
            if pilot and post:
                world.truth.append((cf, cf * cost_rate, round(sales, 2), round(cost, 2)))
            world.rows.append(
                PanelRow(
                    partner_id=f"{'P' if pilot else 'C'}{i:05d}",
                    period=period,
                    segment=segment,
                    cohort="pilot" if pilot else "",
                    net_sales=D(f"{sales:.2f}"),
                    cost=D(f"{cost:.2f}"),
                )
            )
    return world
