"""The payout proposal's summary: totals, top payouts, tier moves, anomalies."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from loyalty.close.review import CloseLine
from loyalty.kernel.money import ZERO, to_cents

MAX_ANOMALIES = 200  # listed in the proposal file; all of them are counted


@dataclass(frozen=True)
class SummaryFigures:
    """The few figures of a proposal that travel: in the close header, the finance notification
    and the Propose step's output."""

    partners: int
    payees: int
    totals: Mapping[str, str]
    tier_moves: Mapping[str, int]
    anomaly_count: int

    def to_json(self) -> dict[str, Any]:
        return {
            "partners": self.partners,
            "payees": self.payees,
            "totals": dict(self.totals),
            "tier_moves": dict(self.tier_moves),
            "anomaly_count": self.anomaly_count,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> SummaryFigures:
        return cls(
            partners=int(d.get("partners", 0)),
            payees=int(d.get("payees", 0)),
            totals=dict(d.get("totals") or {}),
            tier_moves=dict(d.get("tier_moves") or {}),
            anomaly_count=int(d.get("anomaly_count", 0)),
        )


@dataclass
class Bucket:
    """Partners, payout, net sales, bonuses and overrides of one tier, segment or cohort."""

    partners: int = 0
    payout: Decimal = ZERO
    net_sales: Decimal = ZERO
    bonus: Decimal = ZERO
    override: Decimal = ZERO
    rule_versions: set[str] = field(default_factory=set)

    def add(self, line: CloseLine) -> None:
        self.partners += 1
        self.payout += line.payout
        self.net_sales += line.net_sales
        self.bonus += line.bonus_eur
        self.override += line.override_eur
        if line.rule_version:
            self.rule_versions.add(line.rule_version)

    def to_json(self) -> dict[str, Any]:
        return {
            "net_sales": str(to_cents(self.net_sales)),
            "partners": self.partners,
            "payout": str(to_cents(self.payout)),
            "bonus": str(to_cents(self.bonus)),
            "override": str(to_cents(self.override)),
            "rule_versions": sorted(self.rule_versions),
        }


@dataclass(frozen=True)
class TopPayout:
    partner_id: str
    name: str
    payout: Decimal


@dataclass(frozen=True)
class Anomaly:
    partner_id: str
    anomaly: str


@dataclass
class Proposal:
    """What finance approves or rejects (`proposal.json` of a run)."""

    period: str
    run: str
    partners: int = 0
    payees: int = 0
    dormant: int = 0
    totals: dict[str, Decimal] = field(
        default_factory=lambda: {
            "payout": ZERO,
            "carried_out": ZERO,
            "matured_now": ZERO,
            "net_sales": ZERO,
            "bonus": ZERO,
            "override": ZERO,
        }
    )
    by_tier: dict[str, Bucket] = field(default_factory=lambda: defaultdict(Bucket))
    by_segment: dict[str, Bucket] = field(default_factory=lambda: defaultdict(Bucket))
    # pilots: the figures of each cohort ("" = partners in no cohort)
    by_cohort: dict[str, Bucket] = field(default_factory=lambda: defaultdict(Bucket))
    tier_moves: Counter[str] = field(default_factory=Counter)
    top: list[TopPayout] = field(default_factory=list)
    anomalies: list[Anomaly] = field(default_factory=list)
    # partners an earlier run of the period committed: shown, never proposed (nor paid) again
    committed: Bucket = field(default_factory=Bucket)
    digest: str = ""  # sha256 of the run's review files (see RunFiles.write_digests)
    # points this close awards (issue 11): month points earned / deducted and course points
    points: Counter[str] = field(default_factory=Counter)

    def add(self, ln: CloseLine, top: int) -> None:
        if ln.state != "proposed":
            self.committed.add(ln)
            return
        self.partners += 1
        self.dormant += ln.dormant
        self.by_tier[ln.tier_after].add(ln)
        self.by_segment[ln.segment].add(ln)
        self.by_cohort[ln.cohort].add(ln)
        for k, v in (
            ("payout", ln.payout),
            ("carried_out", ln.carried_out),
            ("matured_now", ln.matured_now),
            ("net_sales", ln.net_sales),
            ("bonus", ln.bonus_eur),
            ("override", ln.override_eur),
        ):
            self.totals[k] += v
        self.payees += ln.payout > 0
        self.tier_moves[ln.tier_change] += 1
        self.points["month_earned"] += max(ln.points_month, 0)
        self.points["month_deducted"] += max(-ln.points_month, 0)
        self.points["courses"] += ln.points_courses
        if ln.payout > 0:
            self.top.append(TopPayout(ln.partner_id, ln.name, ln.payout))
            self.top.sort(key=lambda t: (-t.payout, t.partner_id))
            del self.top[top:]
        self.anomalies.extend(Anomaly(ln.partner_id, a) for a in ln.anomalies)

    @property
    def figures(self) -> SummaryFigures:
        return SummaryFigures(
            partners=self.partners,
            payees=self.payees,
            totals={k: str(v) for k, v in self.totals.items()},
            tier_moves=dict(sorted(self.tier_moves.items())),
            anomaly_count=len(self.anomalies),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "run": self.run,
            "partners": self.partners,
            "payees": self.payees,
            "dormant": self.dormant,
            "totals": {k: str(v) for k, v in self.totals.items()},
            "by_currency": {"EUR": str(self.totals["payout"])},
            "by_tier": {k: b.to_json() for k, b in sorted(self.by_tier.items())},
            "by_segment": {k: b.to_json() for k, b in sorted(self.by_segment.items())},
            "by_cohort": {k: b.to_json() for k, b in sorted(self.by_cohort.items())},
            "tier_moves": dict(sorted(self.tier_moves.items())),
            "top": [{"partner_id": t.partner_id, "name": t.name, "payout": str(t.payout)} for t in self.top],
            "anomalies": [
                {"partner_id": a.partner_id, "anomaly": a.anomaly} for a in self.anomalies[:MAX_ANOMALIES]
            ],
            "anomaly_count": len(self.anomalies),
            "already_committed": self.committed.to_json(),
            "points": {k: self.points[k] for k in ("month_earned", "month_deducted", "courses")},
            "digest": self.digest,
        }


def summarize(period: str, run: str, lines: Iterable[CloseLine], top: int = 20) -> Proposal:
    proposal = Proposal(period, run)
    for ln in lines:
        proposal.add(ln, top)
    return proposal
