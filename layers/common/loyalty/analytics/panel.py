"""The pilot panel, aggregated: per partner and side of the pilot's start, the sums the estimate needs.

`queries/pilot_panel.sql` answers one row per partner, segment, cohort and side ('pre' | 'post'):
its months, the sums of net sales and program cost, and the sums of t, t^2 and t * net sales
(t = months from the start). That is all the difference-in-differences (two cells per partner:
count and sum of y on each side) and the pre-trend test (X'X_g, X'y_g from n, sum t, sum t^2,
sum y, sum t*y) need, exactly (docs/analytics-uplift.md): a few rows per partner instead of one per
partner-month. `panel_groups` is the same aggregation in Python over partner-month rows (the
reference the query is tested against, and how tests and generators feed the estimate).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from loyalty.analytics.ols import Cell, Fit, Moments, clustered_ols, clustered_ols_moments
from loyalty.kernel.periods import months_back, next_period, previous_period
from loyalty.program.rules import RuleVersion

if TYPE_CHECKING:  # the engine loads DuckDB; the panel only reads the rows it answered
    from loyalty.analytics.engine import Rows

PRE_MONTHS = 12  # the pre-period: up to this many months before the start
SIDES = ("pre", "post")


@dataclass(frozen=True)
class PanelRow:
    """One partner-month (as in `partner_month`): the input of `panel_groups`."""

    partner_id: str
    period: str
    segment: str
    cohort: str
    net_sales: Decimal
    cost: Decimal  # commission + bonuses + overrides + points_cost


@dataclass(frozen=True)
class PanelGroup:
    """One row of `pilot_panel`: a partner's months on one side of the start, under one segment
    and cohort (a partner that changed segment or cohort has several)."""

    partner_id: str
    segment: str
    cohort: str
    side: str  # "pre" | "post"
    months: int
    net_sales: Decimal
    cost: Decimal
    t_sum: int  # sum of t, t = months from the start (-12..-1 before it)
    t2_sum: int  # sum of t^2
    t_sales: Decimal  # sum of t * net sales
    side_months: int  # the side's months with facts of any partner in the window


def _month(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _ordinal(period: str) -> int:
    return int(period[:4]) * 12 + int(period[5:7])


def start_period(version: RuleVersion) -> str:
    """The first month wholly under the version: its effective month when it starts on the 1st,
    else the next one (the month it starts in is mixed and left out of both sides)."""
    month = _month(version.effective_from)
    return month if version.effective_from.day == 1 else next_period(month)


def panel_window(version: RuleVersion, period: str) -> tuple[str, str]:
    """The periods the panel needs: PRE_MONTHS before the start, through `period`."""
    return months_back(start_period(version), PRE_MONTHS + 1)[0], period


def panel_params(version: RuleVersion, period: str) -> dict[str, str]:
    """The `pilot_panel` query's parameters: the window, the last month before the start (the
    month before a mid-month start's mixed month) and the start."""
    first, last = panel_window(version, period)
    start = start_period(version)
    before = previous_period(start)
    if start != _month(version.effective_from):
        before = previous_period(before)  # the mixed month is on neither side
    return {"period_from": first, "period_to": last, "pre_to": before, "start": start}


def panel_groups(version: RuleVersion, rows: Iterable[PanelRow], period: str) -> list[PanelGroup]:
    """What `pilot_panel` answers for these partner-months, in its order (partner, side, segment,
    cohort); duplicate rows of a partner-month are summed into one month."""
    p = panel_params(version, period)
    origin = _ordinal(p["start"])
    months: dict[tuple[str, str, str, str], list[Decimal]] = {}
    for r in rows:
        if p["period_from"] <= r.period <= p["period_to"] and not p["pre_to"] < r.period < p["start"]:
            sums = months.setdefault((r.partner_id, r.segment, r.cohort, r.period), [Decimal(0), Decimal(0)])
            sums[0] += r.net_sales
            sums[1] += r.cost
    side_months = {s: len({k[3] for k in months if (k[3] >= p["start"]) == (s == "post")}) for s in SIDES}
    groups: dict[tuple[str, str, str, str], list[Decimal]] = {}
    for (pid, segment, cohort, month), (sales, cost) in months.items():
        side = "post" if month >= p["start"] else "pre"
        t = _ordinal(month) - origin
        g = groups.setdefault((pid, segment, cohort, side), [Decimal(0)] * 6)
        for i, v in enumerate((Decimal(1), sales, cost, Decimal(t), Decimal(t * t), t * sales)):
            g[i] += v
    order = sorted(groups, key=lambda k: (k[0], k[3], k[1], k[2]))  # partner, side, segment, cohort
    return [
        PanelGroup(pid, seg, coh, side, int(g[0]), g[1], g[2], int(g[3]), int(g[4]), g[5], side_months[side])
        for (pid, seg, coh, side), g in ((k, groups[k]) for k in order)
    ]


def rows_of(rows: Rows) -> list[PanelGroup]:
    """The `pilot_panel` query's answer (money as Decimal or decimal strings, as Athena answers;
    a missing segment or cohort '')."""

    def dec(v: object) -> Decimal:
        return Decimal(str(v if v is not None else 0))

    return [
        PanelGroup(
            partner_id=str(r["partner_id"]),
            segment=str(r["segment"] or ""),
            cohort=str(r["cohort"] or ""),
            side=str(r["side"]),
            months=int(str(r["months"])),
            net_sales=dec(r["net_sales"]),
            cost=dec(r["cost"]),
            t_sum=int(str(r["t_sum"])),
            t2_sum=int(str(r["t2_sum"])),
            t_sales=dec(r["t_sales"]),
            side_months=int(str(r["side_months"])),
        )
        for r in rows.dicts()
    ]


@dataclass
class Side:
    """A partner's sums on one side of the start."""

    n: int = 0
    sales: Decimal = Decimal(0)
    cost: Decimal = Decimal(0)
    t_sum: int = 0
    t2_sum: int = 0
    t_sales: Decimal = Decimal(0)

    def add(self, g: PanelGroup) -> None:
        self.n += g.months
        self.sales += g.net_sales
        self.cost += g.cost
        self.t_sum += g.t_sum
        self.t2_sum += g.t2_sum
        self.t_sales += g.t_sales


@dataclass
class _Partner:
    covered: set[bool] = field(default_factory=set)
    sides: dict[str, Side] = field(default_factory=lambda: {s: Side() for s in SIDES})


@dataclass(frozen=True)
class Panel:
    """The partners that enter the comparison: each in one group, with months on both sides."""

    start: str
    pilot: dict[str, dict[str, Side]]  # partner -> "pre" | "post" -> its sums
    control: dict[str, dict[str, Side]]
    switchers: int  # in the scope in some months and not in others: left out
    one_sided: int  # without a month before or without one after the start: left out
    pre_months: int
    post_months: int

    @property
    def pilot_post_obs(self) -> int:
        return sum(s["post"].n for s in self.pilot.values())


def build_panel(version: RuleVersion, groups: Sequence[PanelGroup], period: str) -> Panel:
    """Each partner in the pilot or the control group by `version.scope`; a partner whose rows
    fall on both sides of the scope is a switcher, one without months on both sides is one-sided."""
    partners: dict[str, _Partner] = {}
    covers: dict[tuple[str, str], bool] = {}
    months = dict.fromkeys(SIDES, 0)
    for g in groups:
        p = partners.setdefault(g.partner_id, _Partner())
        key = (g.cohort, g.segment)
        if key not in covers:
            covers[key] = version.scope.covers(g.cohort, g.segment)
        p.covered.add(covers[key])
        p.sides[g.side].add(g)
        months[g.side] = max(months[g.side], g.side_months)
    chosen: dict[bool, dict[str, dict[str, Side]]] = {True: {}, False: {}}
    switchers = one_sided = 0
    for pid, p in partners.items():
        if len(p.covered) > 1:
            switchers += 1
        elif not (p.sides["pre"].n and p.sides["post"].n):
            one_sided += 1
        else:
            chosen[next(iter(p.covered))][pid] = p.sides
    start = start_period(version)
    return Panel(start, chosen[True], chosen[False], switchers, one_sided, months["pre"], months["post"])


def did(panel: Panel, outcome: int) -> Fit:
    """y ~ pilot*post on outcome 0 (net sales) or 1 (cost); params (a, b, c, d)."""
    clusters: list[list[Cell]] = []
    for flag, group in ((1.0, panel.pilot), (0.0, panel.control)):
        for sides in group.values():
            pre, post = sides["pre"], sides["post"]
            clusters.append(
                [
                    Cell((1.0, flag, 0.0, 0.0), pre.n, float(pre.cost if outcome else pre.sales)),
                    Cell((1.0, flag, 1.0, flag), post.n, float(post.cost if outcome else post.sales)),
                ]
            )
    return clustered_ols(clusters)


def pre_trend(panel: Panel) -> Fit:
    """y ~ pilot*t on the pre-period's net sales (t in months from the start); param 3 is how
    much faster the pilot group's sales grew than control's, in EUR per partner-month per month.
    From each partner's n, sum t, sum t^2, sum y and sum t*y: x = (1, p, t, p*t) gives
    X'X_g = [[n, pn, St, pSt], [pn, pn, pSt, pSt], [St, pSt, St2, pSt2], [pSt, pSt, pSt2, pSt2]]
    and X'y_g = (Sy, pSy, Sty, pSty) (p is 0 or 1, so p^2 = p)."""
    clusters: list[Moments] = []
    for p, group in ((1.0, panel.pilot), (0.0, panel.control)):
        for sides in group.values():
            s = sides["pre"]
            n, st, st2 = float(s.n), float(s.t_sum), float(s.t2_sum)
            sy, sty = float(s.sales), float(s.t_sales)
            xtx = (
                (n, p * n, st, p * st),
                (p * n, p * n, p * st, p * st),
                (st, p * st, st2, p * st2),
                (p * st, p * st, p * st2, p * st2),
            )
            clusters.append(Moments(xtx, (sy, p * sy, sty, p * sty), s.n))
    return clustered_ols_moments(clusters)
