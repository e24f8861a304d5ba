"""What incentives produce: program accruals (bonuses, overrides) and target progress."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class ProgramAccrual:
    """A bonus or override accrued by a close: goes through holding, ledger, statement."""

    line_id: str  # deterministic business id, e.g. "target:T-Q3-NET:2026-Q3"
    kind: str  # "bonus" | "override"
    period: str  # the close (YYYY-MM) that accrues it
    earned_on: dt.date  # holding runs from this date: the last day of the month/interval it is for
    amount: Decimal  # cents; may be negative (true-up down, override of a negative month)
    rule_version: str  # the partner's rule version that produced it
    description: str  # one line a partner reads
    trace: Mapping[str, str]  # how it was computed

    def to_json(self) -> dict[str, Any]:
        return {
            "line_id": self.line_id,
            "kind": self.kind,
            "period": self.period,
            "earned_on": self.earned_on.isoformat(),
            "amount": str(self.amount),
            "rule_version": self.rule_version,
            "description": self.description,
            "trace": dict(self.trace),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> ProgramAccrual:
        return cls(
            line_id=str(d["line_id"]),
            kind=str(d["kind"]),
            period=str(d["period"]),
            earned_on=dt.date.fromisoformat(str(d["earned_on"])),
            amount=Decimal(str(d["amount"])),
            rule_version=str(d["rule_version"]),
            description=str(d["description"]),
            trace={str(k): str(v) for k, v in dict(d.get("trace") or {}).items()},
        )


@dataclass(frozen=True)
class TargetProgress:
    """One target's progress at a close (shown on the statement every month)."""

    target_id: str
    interval: str  # "2026-09" (month) or "2026-Q3" (quarter)
    metric: str  # net_sales | new_customers | units  (+ "/<category>" when per category)
    goal: Decimal  # interval-to-date goal (sum of the per-month goals up to the period)
    goal_total: Decimal  # the whole interval's goal
    actual: Decimal  # interval-to-date actual
    attainment: Decimal  # actual / goal_total, 4 decimals (0.8125 = 81.25 %)
    to_go: Decimal  # max(goal_total - actual, 0)
    days_left: int  # days from the close's cut-off to the interval's end (0 at its last close)
    projected_bonus: Decimal  # the bonus the table gives for the attainment so far
    text: str  # e.g. "EUR 12 400.00 to go, 61 days left (81.25 % of EUR 66 000.00)"

    def to_json(self) -> dict[str, Any]:
        return {
            "target_id": self.target_id,
            "interval": self.interval,
            "metric": self.metric,
            "goal": str(self.goal),
            "goal_total": str(self.goal_total),
            "actual": str(self.actual),
            "attainment": str(self.attainment),
            "to_go": str(self.to_go),
            "days_left": self.days_left,
            "projected_bonus": str(self.projected_bonus),
            "text": self.text,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> TargetProgress:
        return cls(
            target_id=str(d["target_id"]),
            interval=str(d["interval"]),
            metric=str(d["metric"]),
            goal=Decimal(str(d["goal"])),
            goal_total=Decimal(str(d["goal_total"])),
            actual=Decimal(str(d["actual"])),
            attainment=Decimal(str(d["attainment"])),
            to_go=Decimal(str(d["to_go"])),
            days_left=int(d["days_left"]),
            projected_bonus=Decimal(str(d["projected_bonus"])),
            text=str(d["text"]),
        )
