"""Program accruals (bonuses, overrides) through the close: holding, pending and matured.

An accrual is held like commission: it matures at the first close whose cut-off is at least
`holding_days` after its `earned_on` (`earned_on + holding_days <= cutoff`). What has not matured
is carried on the partner's close line as `program_pending` ([earned_on ISO, kind, amount]),
summed per (earned_on, kind) so the list stays short (accruals are earned on month ends), and
matures at a later close by that close's holding period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from loyalty.incentives.lines import KINDS, ProgramAccrual, TargetProgress
from loyalty.kernel.money import ZERO, to_cents

MAX_TARGETS = 50  # target progress entries kept on a close line (and shown on the statement)


@dataclass(frozen=True)
class ProgramState:
    """A partner's program accruals at one close: accrued, matured now and still pending."""

    accruals: Sequence[ProgramAccrual] = ()
    accrued: Mapping[str, Decimal] = field(default_factory=dict)  # kind -> accrued this close
    matured: Mapping[str, Decimal] = field(default_factory=dict)  # kind -> matured this close
    pending: list[list[str]] = field(default_factory=list)
    targets: list[dict[str, Any]] = field(default_factory=list)
    awards: dict[str, str] = field(default_factory=dict)

    @property
    def matured_now(self) -> Decimal:
        return sum(self.matured.values(), ZERO)

    def accrued_of(self, kind: str) -> Decimal:
        return self.accrued.get(kind, ZERO)

    def matured_of(self, kind: str) -> Decimal:
        return self.matured.get(kind, ZERO)


def check_accrual(a: ProgramAccrual, period: str) -> None:
    """A source's line must be of this close and in cents (fail closed: nothing is proposed)."""
    if a.period != period:
        raise ValueError(f"program line {a.line_id} is of {a.period}, not of the close of {period}")
    if a.amount != to_cents(a.amount):
        raise ValueError(f"program line {a.line_id} amount {a.amount} is not in cents")


def program_state(
    period: str,
    cutoff: dt.date,
    holding_days: int,
    previous_pending: Sequence[Sequence[str]],
    accruals: Sequence[ProgramAccrual],
    progress: Sequence[TargetProgress] = (),
    awards: Mapping[str, Decimal] | None = None,
) -> ProgramState:
    """What matures at this close (`cutoff`) of the pending accruals and the new ones."""
    limit = cutoff - dt.timedelta(days=holding_days)
    buckets: dict[tuple[str, str], Decimal] = {}
    accrued = dict.fromkeys(KINDS, ZERO)
    for entry in previous_pending:
        key = (str(entry[0]), str(entry[1]))
        buckets[key] = buckets.get(key, ZERO) + Decimal(str(entry[2]))
    for a in accruals:
        check_accrual(a, period)
        accrued[a.kind] += a.amount
        key = (a.earned_on.isoformat(), a.kind)
        buckets[key] = buckets.get(key, ZERO) + a.amount
    matured = dict.fromkeys(KINDS, ZERO)
    pending: list[list[str]] = []
    for (earned_on, kind), amount in sorted(buckets.items()):
        if dt.date.fromisoformat(earned_on) <= limit:
            matured[kind] = matured.get(kind, ZERO) + amount
        elif amount:
            pending.append([earned_on, kind, str(amount)])
    return ProgramState(
        accruals=tuple(accruals),
        accrued=accrued,
        matured=matured,
        pending=pending,
        targets=[p.to_json() for p in progress[:MAX_TARGETS]],
        awards={k: str(v) for k, v in sorted((awards or {}).items())},
    )
