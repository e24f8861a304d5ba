"""Multi-level overrides (PRODUCT §5, docs/overrides.md): a sponsor earns a share of the month net
sales of the partners it recruited, level by level, in the months it qualifies.

`downlines` turns the registry's partner -> sponsor map into each sponsor's recruits with their
level (the close's plan does it once per run); `OverrideBonuses` is the incentive source the close
calls per partner: one batched read of the recruits' month nets, one accrual per recruit and level.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal

from loyalty.earning.records import MonthTotals
from loyalty.incentives.engine import IncentiveResult, PartnerPeriod
from loyalty.incentives.lines import ProgramAccrual
from loyalty.incentives.ports import RecruitNets
from loyalty.kernel.money import CTX, HUNDRED, ZERO, fmt_eur, to_cents
from loyalty.program.rules import RuleVersion


def downlines(sponsors: Mapping[str, str], depth: int) -> dict[str, list[tuple[str, int]]]:
    """Each sponsor's recruits down to `depth` levels: sponsor -> [(recruit, level)], sorted by
    (level, recruit id). `sponsors` maps a partner to its sponsor ("" for none).

    Every partner walks up its own sponsor chain at most `depth` steps, so the work is
    O(partners x depth) plus the sorting. The registry refuses cycles; should one reach here
    anyway, the walk stops where the chain comes back, and nobody is its own recruit."""
    if depth < 0:
        raise ValueError(f"depth must be >= 0, not {depth}")
    out: dict[str, list[tuple[str, int]]] = {}
    for partner in sponsors:
        seen = {partner}
        sponsor = sponsors[partner]
        for level in range(1, depth + 1):
            if not sponsor or sponsor in seen:
                break
            out.setdefault(sponsor, []).append((partner, level))
            seen.add(sponsor)
            sponsor = sponsors.get(sponsor, "")
    for recruits in out.values():
        recruits.sort(key=lambda r: (r[1], r[0]))
    return out


def override_levels(rules: RuleVersion) -> int:
    """The recruit levels a rule version pays overrides on: min(len(level_pct), max_depth)."""
    return min(len(rules.override.level_pct), rules.override.max_depth)


def override_depth(versions: Iterable[RuleVersion]) -> int:
    """How deep the close's plan must look (`downlines(..., depth)`): the most levels any rule
    version pays (each partner's own version then honours its own levels)."""
    return max((override_levels(v) for v in versions), default=0)


def month_end(month: str) -> dt.date:
    """`2026-02` -> 2026-02-28."""
    y, m = int(month[:4]), int(month[5:7])
    return dt.date(y, m, calendar.monthrange(y, m)[1])


def _own_net(months: Iterable[MonthTotals], period: str) -> Decimal:
    return next((m.net_eur for m in months if m.month == period), ZERO)


def _pct(value: Decimal) -> str:
    """A rate as a person writes it: 1, 0.5, 12.25 (no exponent, no trailing zeros)."""
    text = f"{value.normalize():f}"
    return text if text != "-0" else "0"


class OverrideBonuses:
    """The override source (an `IncentiveSource`): at the close of P, a qualifying sponsor earns
    round(net_P(recruit) x level_pct[n-1] / 100) on each recruit at level n <= its levels.

    Qualifying: the sponsor's own month-P net is above `min_own_net_eur` when the rules require
    positive own sales (else always). A month that does not qualify earns nothing at all, neither
    positive nor negative; in a qualifying month a recruit's negative month gives a negative
    override (the clawback follows the source). A recruit without a month-P aggregate, with a zero
    net, or whose override rounds to 0.00 gives no line."""

    def __init__(self, nets: RecruitNets) -> None:
        self._nets = nets

    def evaluate(self, ctx: PartnerPeriod) -> IncentiveResult:
        rules = ctx.rules.override
        levels = override_levels(ctx.rules)
        recruits = [(r, n) for r, n in ctx.recruits if 1 <= n <= levels]
        if not recruits:
            return IncentiveResult()
        own = _own_net(ctx.months, ctx.period)
        if rules.requires_positive_own_sales and not own > rules.min_own_net_eur:
            return IncentiveResult()
        nets = self._nets.month_nets(list(dict.fromkeys(r for r, _ in recruits)), ctx.period)
        earned_on = month_end(ctx.period)
        accruals: list[ProgramAccrual] = []
        for recruit, level in recruits:
            net = nets.get(recruit)
            if net is None or net == 0:
                continue
            pct = rules.level_pct[level - 1]
            amount = to_cents(CTX.divide(CTX.multiply(net, pct), HUNDRED))
            if amount == 0:
                continue
            accruals.append(
                ProgramAccrual(
                    line_id=f"override:L{level}:{recruit}:{ctx.period}",
                    kind="override",
                    period=ctx.period,
                    earned_on=earned_on,
                    amount=amount,
                    rule_version=ctx.rules.version,
                    description=(
                        f"override L{level} on {recruit}'s {ctx.period} net sales "
                        f"EUR {fmt_eur(net)} at {_pct(pct)} %"
                    ),
                    trace={
                        "source": recruit,
                        "level": str(level),
                        "month": ctx.period,
                        "source_net": f"{net:f}",
                        "rate_pct": _pct(pct),
                        "sponsor_net": f"{own:f}",
                    },
                )
            )
        return IncentiveResult(accruals=accruals)
