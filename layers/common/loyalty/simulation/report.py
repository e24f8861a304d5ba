"""The simulation's report (pure): per partner what was actually accrued and paid in the window,
what the candidate rules give, and the difference; totals, and the program cost per segment and
cohort. Every figure of a close line is read through `figures`."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from loyalty.close.review import CloseLine
from loyalty.earning.records import MonthTotals
from loyalty.kernel.money import ZERO

MONEY = ("commission_accrued", "commission", "bonus", "override", "cost", "payout", "carried")
TOP = 50  # partners the text report lists (largest cost difference first)


def figures(line: CloseLine) -> dict[str, Decimal | str]:
    """What one close line says, in the report's terms: commission matured, bonus and override
    accrued, cost (everything matured this close), payout, carried balance and tier."""
    return {
        "commission": line.commission_matured_now,
        "bonus": line.bonus_eur,
        "override": line.override_eur,
        "cost": line.matured_now,
        "payout": line.payout,
        "carried": line.carried_out,
        "tier": line.tier_after,
        "tier_change": line.tier_change,
    }


@dataclass
class Figures:
    """A partner's window, one side (actual or simulated)."""

    commission_accrued: Decimal = ZERO  # commission of the window's months (final rates)
    commission: Decimal = ZERO  # commission matured at the window's closes
    bonus: Decimal = ZERO
    override: Decimal = ZERO
    cost: Decimal = ZERO  # everything matured at the window's closes (what the program expenses)
    payout: Decimal = ZERO
    carried: Decimal = ZERO  # the balance carried out of the window's last close
    tier: str = ""  # the tier after the window's last close
    moves: list[str] = field(default_factory=list)  # "2026-09 up Silver"

    @classmethod
    def of(
        cls,
        lines: Mapping[str, CloseLine],
        months: Iterable[MonthTotals],
        before: CloseLine | None,
        tier: str,
    ) -> Figures:
        """From the window's close lines by period (a dormant close has none), its month totals,
        the last close line before the window and the tier the window starts in."""
        f = cls(carried=before.carried_out if before else ZERO, tier=tier)
        f.commission_accrued = sum((m.commission for m in months), ZERO)
        for period in sorted(lines):
            fig = figures(lines[period])
            for k in ("commission", "bonus", "override", "cost", "payout"):
                setattr(f, k, getattr(f, k) + Decimal(fig[k]))
            f.carried, f.tier = Decimal(fig["carried"]), str(fig["tier"])
            if fig["tier_change"] in {"up", "down"}:
                f.moves.append(f"{period} {fig['tier_change']} {fig['tier']}")
        return f

    def to_json(self) -> dict[str, Any]:
        return {
            **{k: str(getattr(self, k)) for k in MONEY},
            "tier": self.tier,
            "tier_moves": list(self.moves),
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Figures:
        money = {k: Decimal(str(d[k])) for k in MONEY}
        return cls(**money, tier=str(d["tier"]), moves=[str(m) for m in d["tier_moves"]])


def delta(a: Figures, b: Figures) -> dict[str, str]:
    return {k: str(getattr(b, k) - getattr(a, k)) for k in MONEY}


def period_differences(
    actual: Mapping[str, CloseLine], simulated: Mapping[str, CloseLine], periods: Sequence[str]
) -> list[dict[str, Any]]:
    """The periods whose close figures differ, with both sides."""
    out = []
    for p in periods:
        a = {k: str(v) for k, v in figures(actual[p]).items()} if p in actual else None
        s = {k: str(v) for k, v in figures(simulated[p]).items()} if p in simulated else None
        if a != s:
            out.append({"period": p, "actual": a, "simulated": s})
    return out


@dataclass
class PartnerResult:
    partner_id: str
    segment: str
    cohort: str
    actual: Figures
    simulated: Figures
    periods: list[dict[str, Any]] = field(default_factory=list)  # the closes that differ
    approximate: int = 0  # lines corrected after their month closed (see docs/simulation.md)

    @property
    def cost_delta(self) -> Decimal:
        return self.simulated.cost - self.actual.cost

    @property
    def changed(self) -> bool:
        return bool(self.periods) or self.actual.to_json() != self.simulated.to_json()

    def to_json(self) -> dict[str, Any]:
        return {
            "partner_id": self.partner_id,
            "segment": self.segment,
            "cohort": self.cohort,
            "actual": self.actual.to_json(),
            "simulated": self.simulated.to_json(),
            "delta": delta(self.actual, self.simulated),
            "tier_moved_differently": self.actual.moves != self.simulated.moves,
            "periods": self.periods,
            "approximate_lines": self.approximate,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> PartnerResult:
        """A result as `to_json` wrote it (a job's batch file)."""
        return cls(
            str(d["partner_id"]),
            str(d["segment"]),
            str(d["cohort"]),
            Figures.from_json(d["actual"]),
            Figures.from_json(d["simulated"]),
            list(d["periods"]),
            int(d["approximate_lines"]),
        )


@dataclass
class Side:
    """Sums of one side over many partners."""

    sums: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(MONEY, ZERO))
    ups: int = 0
    downs: int = 0

    def add(self, f: Figures) -> None:
        for k in MONEY:
            self.sums[k] += getattr(f, k)
        self.ups += sum(1 for m in f.moves if " up " in m)
        self.downs += sum(1 for m in f.moves if " down " in m)

    def to_json(self) -> dict[str, Any]:
        return {**{k: str(v) for k, v in self.sums.items()}, "tier_ups": self.ups, "tier_downs": self.downs}


@dataclass
class Group:
    partners: int = 0
    actual: Decimal = ZERO
    simulated: Decimal = ZERO

    def to_json(self) -> dict[str, Any]:
        return {
            "partners": self.partners,
            "actual_cost": str(self.actual),
            "simulated_cost": str(self.simulated),
            "delta": str(self.simulated - self.actual),
        }


@dataclass
class Summary:
    """Totals over every partner, built one result at a time (bounded: the text report's top
    differences are kept in a heap of `TOP`)."""

    partners: int = 0
    changed: int = 0
    tier_differs: int = 0
    approximate: int = 0
    actual: Side = field(default_factory=Side)
    simulated: Side = field(default_factory=Side)
    by_segment: dict[str, Group] = field(default_factory=dict)
    by_cohort: dict[str, Group] = field(default_factory=dict)
    top: list[tuple[Decimal, tuple[int, ...], str]] = field(default_factory=list)
    kept: dict[str, PartnerResult] = field(default_factory=dict)

    def add(self, r: PartnerResult) -> None:
        self.partners += 1
        self.changed += r.changed
        self.tier_differs += r.actual.moves != r.simulated.moves
        self.approximate += r.approximate
        self.actual.add(r.actual)
        self.simulated.add(r.simulated)
        for groups, key in ((self.by_segment, r.segment or "(none)"), (self.by_cohort, r.cohort or "(none)")):
            g = groups.setdefault(key, Group())
            g.partners += 1
            g.actual += r.actual.cost
            g.simulated += r.simulated.cost
        if r.changed:
            item = (abs(r.cost_delta), _neg(r.partner_id), r.partner_id)
            if len(self.top) < TOP:
                heapq.heappush(self.top, item)
            elif item > self.top[0]:
                self.kept.pop(heapq.heapreplace(self.top, item)[2], None)
            else:
                return
            self.kept[r.partner_id] = r

    def largest(self) -> list[PartnerResult]:
        """The partners with the largest cost difference (then by partner id)."""
        return [self.kept[pid] for _, _, pid in sorted(self.top, key=lambda t: (-t[0], t[2]))]

    def to_json(self) -> dict[str, Any]:
        diff = {k: str(self.simulated.sums[k] - self.actual.sums[k]) for k in MONEY}
        return {
            "partners": self.partners,
            "partners_changed": self.changed,
            "partners_tier_moved_differently": self.tier_differs,
            "approximate_lines": self.approximate,
            "actual": self.actual.to_json(),
            "simulated": self.simulated.to_json(),
            "delta": diff,
            "cost_by_segment": {k: g.to_json() for k, g in sorted(self.by_segment.items())},
            "cost_by_cohort": {k: g.to_json() for k, g in sorted(self.by_cohort.items())},
        }


def _neg(pid: str) -> tuple[int, ...]:
    """Orders partner ids descending inside the min-heap (the smaller id wins a tie)."""
    return tuple(-ord(c) for c in pid)
