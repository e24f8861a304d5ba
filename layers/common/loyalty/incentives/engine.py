"""The incentive engine: what a close asks of every incentive source, per partner and period."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from loyalty.earning.records import MonthTotals
from loyalty.incentives.lines import ProgramAccrual, TargetProgress
from loyalty.program.rules import RuleVersion


@dataclass(frozen=True)
class PartnerPeriod:
    partner_id: str
    segment: str
    cohort: str
    period: str
    rules: RuleVersion  # the partner's version (pilots!)
    months: Sequence[MonthTotals]  # the partner's month aggregates (loyalty.earning.records)
    recruits: Sequence[tuple[str, int]]  # (recruit partner id, level 1..depth) from the plan
    awarded: Mapping[str, Decimal]  # cumulative bonus per "target_id@interval" so far


@dataclass
class IncentiveResult:
    accruals: list[ProgramAccrual]
    progress: list[TargetProgress]
    awards: dict[str, Decimal]


class IncentiveSource(Protocol):
    def evaluate(self, ctx: PartnerPeriod) -> IncentiveResult: ...


class Incentives:
    """Composes sources; the close calls it once per partner."""

    def __init__(self, sources: Sequence[IncentiveSource]) -> None:
        self.sources = list(sources)

    def evaluate(self, ctx: PartnerPeriod) -> IncentiveResult:
        out = IncentiveResult([], [], {})
        for source in self.sources:
            r = source.evaluate(ctx)
            out.accruals += r.accruals
            out.progress += r.progress
            out.awards.update(r.awards)
        return out
