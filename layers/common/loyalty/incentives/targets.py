"""Target bonuses (issue 10) as an incentive source of the close.

Per partner and close of period P, for the targets in the partner's scope (the version of the
target book that governs each interval: the newest effective on or before its first day):

- progress for every target whose interval contains P (interval-to-date goal and actual);
- at the close of the interval's last month: the award `target:<id>:<interval>` (bonus table of
  `loyalty.incentives.bands`), when the partner's rule version at that close has targets enabled;
- at each later close within `rules.targets.trueup_months`: the interval recomputed (late lines,
  returns, corrections) and the difference from what was awarded accrued as
  `target:<id>:<interval>:trueup:<P>` (never an edit; no line for no difference).

Metrics come from the month aggregates, with late lines (a closed month's sales that landed in a
later period) moved back to the month they were sold in. `awards` carries the cumulative amount
per `<id>@<interval>` while its true-up window is open.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from loyalty.earning.records import MonthTotals
from loyalty.incentives.bands import attainment_pct, band_label, bonus_amount
from loyalty.incentives.engine import IncentiveResult, PartnerPeriod
from loyalty.incentives.lines import ProgramAccrual, TargetProgress
from loyalty.kernel.money import HUNDRED, ZERO
from loyalty.kernel.periods import cutoff
from loyalty.program.targets import Target, TargetSet, governing


def months_between(a: str, b: str) -> int:
    """Whole months from month `a` to month `b` (b - a)."""
    return (int(b[:4]) - int(a[:4])) * 12 + int(b[5:7]) - int(a[5:7])


class SoldMonths:
    """A partner's figures by the month the lines were sold in: each month's own, less the late
    lines it holds (sold earlier), plus the late lines of its own sales held by later months."""

    def __init__(self, months: Sequence[MonthTotals]) -> None:
        self._months = {m.month: m for m in months}
        self._moved: dict[str, tuple[Decimal, int]] = {}  # key -> (net, units) sold there, landed later
        for m in months:
            for key, (net, units) in m.late.items():
                n, u = self._moved.get(key, (ZERO, 0))
                self._moved[key] = (n + net, u + units)

    def value(self, month: str, metric: str, category: str) -> Decimal:
        m = self._months.get(month)
        if metric == "new_customers":
            return Decimal(m.new_customers if m else 0)
        pick = 0 if metric == "net_sales" else 1
        own: tuple[Decimal, int] = (ZERO, 0)
        if m is not None:
            own = m.by_category.get(category, (ZERO, 0)) if category else (m.net_eur, m.units)
            held = [v for k, v in m.late.items() if ("/" in k) == bool(category) and _cat(k) == category]
            own = (own[0] - sum((v[0] for v in held), ZERO), own[1] - sum(v[1] for v in held))
        moved = self._moved.get(f"{month}/{category}" if category else month, (ZERO, 0))
        return Decimal(own[pick] + moved[pick])


def _cat(late_key: str) -> str:
    return late_key.partition("/")[2]


@dataclass(frozen=True)
class Standing:
    """A target's figures at a close: interval-to-date goal and actual, attainment, bonus."""

    goal: Decimal
    actual: Decimal
    att_pct: Decimal
    bonus: Decimal


class TargetBonuses:
    """IncentiveSource of target bonuses, built from the stored target sets."""

    def __init__(self, sets: Sequence[TargetSet]) -> None:
        self.sets = list(sets)

    def targets_for(self, ctx: PartnerPeriod) -> list[tuple[TargetSet, Target]]:
        """The targets of the partner's scope, each under the version that governs its interval."""
        out = []
        for ts in self.sets:
            for t in ts.targets:
                if (
                    t.applies_to(ctx.partner_id, ctx.segment, ctx.cohort)
                    and governing(self.sets, t.start) is ts
                ):
                    out.append((ts, t))
        return sorted(out, key=lambda p: (p[1].months[-1], p[1].target_id))

    def evaluate(self, ctx: PartnerPeriod) -> IncentiveResult:
        result = IncentiveResult([], [], {})
        sold = SoldMonths(ctx.months)
        window = ctx.rules.targets.trueup_months
        for ts, t in self.targets_for(ctx):
            last = t.months[-1]
            if ctx.period < t.months[0] or months_between(last, ctx.period) > window:
                continue
            key = f"{t.target_id}@{t.period}"
            s = standing(t, sold, ctx.period)
            if ctx.period <= last:
                result.progress.append(progress(t, s, ctx.period))
            if ctx.period == last:
                if ctx.rules.targets.enabled:
                    result.awards[key] = s.bonus
                    if s.bonus:
                        result.accruals.append(award(t, ts, s, ctx, f"target:{t.target_id}:{t.period}"))
            elif ctx.period > last and key in ctx.awarded:
                before = ctx.awarded[key]
                result.awards[key] = before
                if ctx.rules.targets.enabled and s.bonus != before:
                    result.awards[key] = s.bonus
                    line = f"target:{t.target_id}:{t.period}:trueup:{ctx.period}"
                    result.accruals.append(award(t, ts, s, ctx, line, before))
        for key, amount in ctx.awarded.items():  # awards whose target is gone keep their amount
            interval = key.rpartition("@")[2]
            if key not in result.awards and 0 < months_between(_last_month(interval), ctx.period) <= window:
                result.awards[key] = amount
        return result


def _last_month(interval: str) -> str:
    if "-Q" in interval:
        return f"{interval[:4]}-{int(interval[-1]) * 3:02d}"
    return interval


def standing(t: Target, sold: SoldMonths, period: str) -> Standing:
    """Interval-to-date goal and actual (the whole interval once it is over); attainment and
    bonus against the whole interval's goal."""
    upto = [m for m in t.months if m <= period]
    goal = sum((g for m, g in zip(t.months, t.month_goals, strict=True) if m <= period), ZERO)
    actual = sum((sold.value(m, t.metric, t.category) for m in upto), ZERO)
    att = attainment_pct(actual, t.goal)
    return Standing(goal, actual, att, bonus_amount(t.bonus_eur, att, t.bands, t.method))


def quantity(metric: str, value: Decimal) -> str:
    """A metric's amount as a partner reads it: `EUR 66 000.00`, `640 units`, `3 new customers`."""
    if metric == "net_sales":
        return "EUR " + f"{value:,.2f}".replace(",", " ")
    n = f"{value:,.0f}".replace(",", " ")
    if metric == "units":
        return f"{n} unit{'' if value == 1 else 's'}"
    return f"{n} new customer{'' if value == 1 else 's'}"


def progress(t: Target, s: Standing, period: str) -> TargetProgress:
    days = (t.end - cutoff(period)).days
    to_go = max(t.goal - s.actual, ZERO)
    left = f"{days} day{'' if days == 1 else 's'} left"
    of = f"{s.att_pct:.2f} % of {quantity(t.metric, t.goal)}" + (f" in {t.category}" if t.category else "")
    text = f"{quantity(t.metric, to_go)} to go, {left} ({of})" if to_go else f"goal reached, {left} ({of})"
    return TargetProgress(
        target_id=t.target_id,
        interval=t.period,
        metric=t.metric_label,
        goal=s.goal,
        goal_total=t.goal,
        actual=s.actual,
        attainment=s.att_pct / HUNDRED,
        to_go=to_go,
        days_left=days,
        projected_bonus=s.bonus,
        text=text,
    )


def award(
    t: Target, ts: TargetSet, s: Standing, ctx: PartnerPeriod, line_id: str, before: Decimal | None = None
) -> ProgramAccrual:
    """The award (before=None) or a true-up (the difference from `before`) of an interval."""
    band = band_label(s.att_pct, t.bands)
    trace: Mapping[str, str] = {
        "target": t.target_id,
        "interval": t.period,
        "metric": t.metric_label,
        "goal": str(t.goal),
        "actual": str(s.actual),
        "attainment_pct": str(s.att_pct),
        "band": band,
        "method": t.method,
        "bonus_eur": str(t.bonus_eur),
        "rule_version": ctx.rules.version,
        "targets_version": ts.version,
    }
    what = f"Target {t.target_id} ({t.metric_label}, {t.period}): {s.att_pct:.2f} % of {quantity(t.metric, t.goal)}"
    if before is None:
        amount, text = s.bonus, f"{what} -> EUR {s.bonus}"
    else:
        amount = s.bonus - before
        trace = {**trace, "awarded_before": str(before), "recomputed": str(s.bonus)}
        text = f"{what} -> EUR {s.bonus}; true-up of EUR {before} awarded: {amount:+}"
    return ProgramAccrual(
        line_id=line_id,
        kind="bonus",
        period=ctx.period,
        earned_on=t.end,
        amount=amount,
        rule_version=ctx.rules.version,
        description=text,
        trace=trace,
    )
