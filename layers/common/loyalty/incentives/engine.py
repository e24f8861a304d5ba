"""The incentive engine the close calls once per partner: composes incentive sources.

A source (target bonuses, overrides, ...) sees one partner's period (`PartnerPeriod`: its rule
version, month aggregates, recruits and the awards so far) and returns program accruals, target
progress and the cumulative awards it wants remembered for the next close.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from loyalty.earning.records import MonthTotals
from loyalty.incentives.lines import ProgramAccrual, TargetProgress
from loyalty.program.rules import RuleVersion


@dataclass(frozen=True)
class PartnerPeriod:
    """What a source may look at for one partner at one close."""

    partner_id: str
    segment: str
    cohort: str
    period: str
    rules: RuleVersion  # the partner's version (pilots!)
    months: Sequence[MonthTotals]  # the partner's month aggregates
    recruits: Sequence[tuple[str, int]]  # (recruit partner id, level 1..depth) from the plan
    awarded: Mapping[str, Decimal]  # cumulative bonus per "target_id@interval" so far


@dataclass
class IncentiveResult:
    accruals: list[ProgramAccrual] = field(default_factory=list)
    progress: list[TargetProgress] = field(default_factory=list)
    awards: dict[str, Decimal] = field(default_factory=dict)


class IncentiveSource(Protocol):
    def evaluate(self, ctx: PartnerPeriod) -> IncentiveResult: ...


class Incentives:
    """Composes sources; the close calls it once per partner."""

    def __init__(self, sources: Sequence[IncentiveSource]) -> None:
        self._sources = tuple(sources)

    def __bool__(self) -> bool:
        return bool(self._sources)

    def evaluate(self, ctx: PartnerPeriod) -> IncentiveResult:
        """Concatenates the sources' accruals and progress (in source order); awards merged."""
        out = IncentiveResult()
        for source in self._sources:
            r = source.evaluate(ctx)
            out.accruals.extend(r.accruals)
            out.progress.extend(r.progress)
            out.awards.update(r.awards)
        ids = [a.line_id for a in out.accruals]
        if len(set(ids)) != len(ids):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            raise ValueError(f"incentive sources produced duplicate line ids: {', '.join(dupes[:5])}")
        return out
