"""Program rules as data: a validated, versioned rules file (the default program is rules/default-program.yaml).

Every accrual names the rule version that produced it. A version is in effect from its
`effective_from` date until the next version's. Rates are percentages as Decimal strings.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
from collections.abc import Iterable
from decimal import Decimal
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from loyalty.kernel.money import HUNDRED


class Tier(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z][A-Za-z0-9 _-]*$")
    threshold_eur: Decimal = Field(ge=0, description="trailing-window net sales needed, EUR")
    commission_pct: Decimal = Field(ge=0, le=100)
    points_multiplier: Decimal = Field(ge=0, default=Decimal(1))
    requires_certifications: dict[str, int] = Field(
        default_factory=dict, description="course id -> number of certified people required"
    )


class TierReview(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    window_months: int = Field(ge=1, le=12, default=3)
    downgrade_after_reviews: int = Field(ge=1, le=12, default=2)


class Override(BaseModel):
    """Multi-level overrides (docs/overrides.md): a sponsor earns `level_pct[n-1]` % of the month
    net sales of each recruit at level n, for n up to min(len(level_pct), max_depth)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    level_pct: list[Annotated[Decimal, Field(ge=0, le=100)]] = Field(default_factory=list, max_length=5)
    requires_positive_own_sales: bool = True
    max_depth: int = Field(default=2, ge=1, le=5, description="the deepest recruit level that earns")
    min_own_net_eur: Decimal = Field(
        default=Decimal(0),
        ge=0,
        description="with requires_positive_own_sales: the sponsor's own month net must be above this",
    )


class Points(BaseModel):
    """Points (issue 11, docs/points.md): earned at each close as floor(month net EUR /
    `eur_per_point` x the tier's `points_multiplier`), per completed course, and as recognition
    bonuses; held like money, then spendable until they expire."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    eur_per_point: Decimal = Field(gt=0, default=Decimal(10), description="EUR of net sales per point earned")
    course_points: int = Field(ge=0, default=500, description="points per completed course (once per person)")
    expiry_months: int = Field(
        ge=1, le=60, default=12, description="a lot expires at the end of this month after the month earned"
    )
    liability_eur_per_point: Decimal = Field(
        ge=0,
        default=Decimal("0.01"),
        description="the EUR value of one point in the ledger (the program's points liability)",
    )
    allow_negative: bool = Field(
        default=False,
        description="a return that takes back more points than are left leaves a debt repaid from later "
        "points (off: the shortfall is recorded and written off)",
    )
    expiring_soon_days: int = Field(
        ge=1, le=365, default=60, description="balances and notices show the points expiring within this"
    )


class Recognition(BaseModel):
    """Leaderboards per segment and the partner of the month (issue 11, docs/recognition.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = True
    metric: Literal["net_sales", "units", "new_customers"] = Field(
        default="net_sales", description="what the monthly leaderboard ranks"
    )
    top_n: int = Field(ge=1, le=100, default=10, description="the places published per segment")
    partner_of_month_points: int = Field(
        ge=0, default=0, description="bonus points for each segment's partner of the month"
    )


class Analytics(BaseModel):
    """Program analytics (issue 13, docs/analytics.md): what a pilot's uplift is worth and when
    its estimate is too weak to act on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    gross_margin_rate: Decimal = Field(
        gt=0,
        le=1,
        default=Decimal("0.30"),
        description="the gross margin on partners' net sales: the incremental margin of a pilot's uplift",
    )
    min_partners_per_group: int = Field(
        ge=2,
        default=30,
        description="fewer pilot or control partners than this and the uplift comes with a warning",
    )
    min_months_per_side: int = Field(
        ge=1,
        default=3,
        description="fewer months before or after the pilot's start and the uplift comes with a warning",
    )
    pre_trend_alpha: Decimal = Field(
        gt=0,
        lt=1,
        default=Decimal("0.05"),
        description="warn when the pre-period trends of pilot and control differ at this level",
    )


class Payouts(BaseModel):
    """How the close pays (issue 9): where closes start, and the payout checks finance sees."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    first_close_period: str | None = Field(
        default=None,
        pattern=r"^\d{4}-(0[1-9]|1[0-2])$",
        description="the first period ever closed (YYYY-MM); closes run strictly in order from it. "
        "None: the first close run defines it",
    )
    bank_change_cooling_days: int = Field(
        default=14,
        ge=0,
        le=365,
        description="days a payee's changed bank details wait before they are paid (held and carried)",
    )
    first_payout_review_eur: Decimal = Field(
        default=Decimal(10000),
        ge=0,
        description="a partner's first-ever payout above this (EUR) is an anomaly in the proposal",
    )


class Returns(BaseModel):
    """How a return finds the rate it reverses at when its sale cannot be found."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lookback_months: int = Field(
        ge=1,
        le=36,
        default=12,
        description="a return whose sale is not found (no original_sale_id, no earlier sale of its "
        "SKU) reverses at the highest rate the partner held in this many months up to the return's",
    )


class Plausibility(BaseModel):
    """Caps per sales line: a line above one is held for review instead of accruing (it is
    listed with its reason in the upload's report and accrues nothing until it is sent again
    after review). No cap unless set."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_line_eur: Decimal | None = Field(
        default=None, gt=0, description="a line whose EUR amount (absolute) is above this is held"
    )
    max_line_quantity: int | None = Field(
        default=None, gt=0, description="a line whose quantity (absolute) is above this is held"
    )


class TargetRules(BaseModel):
    """Target bonuses (issue 10): whether this version awards them, and how long an interval's
    award is recomputed (true-up) after the interval ends."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = Field(default=True, description="award target bonuses at closes under this version")
    trueup_months: int = Field(
        default=3,
        ge=0,
        le=24,
        description="closes after an interval's end that recompute its award (late sales, returns)",
    )


def norm_cohort(cohort: str | None) -> str:
    """Cohorts are free text compared case-insensitively (the registry stores them lower-case)."""
    return (cohort or "").strip().lower()


class Scope(BaseModel):
    """Restricts a version to a cohort and/or segments (pilots). Empty = everyone."""

    # the cohort is normalised (stripped, lower-case) so that it matches the registry's

    model_config = ConfigDict(extra="forbid", frozen=True)

    cohort: str | None = None
    segments: list[str] = Field(default_factory=list)

    @field_validator("cohort")
    @classmethod
    def _normal_cohort(cls, v: str | None) -> str | None:
        return norm_cohort(v) or None

    @property
    def scoped(self) -> bool:
        return bool(self.cohort or self.segments)

    def covers(self, cohort: str | None, segment: str | None) -> bool:
        """Whether a partner of this cohort and segment is in the scope."""
        if self.cohort and self.cohort != norm_cohort(cohort):
            return False
        return not self.segments or segment in self.segments


class RuleVersion(BaseModel):
    """One version of the program rules (one rules file)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    program: str = Field(min_length=1, max_length=64)
    version: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9._-]+$")
    effective_from: dt.date
    description: str = ""
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    tiers: list[Tier] = Field(min_length=1)
    tier_review: TierReview = TierReview()
    category_bonus_pct: dict[str, Decimal] = Field(default_factory=dict)
    holding_days: int = Field(ge=0, le=365, default=30)
    minimum_payout_eur: Decimal = Field(ge=0, default=Decimal(50))
    override: Override = Override()
    points: Points = Points()
    recognition: Recognition = Recognition()
    analytics: Analytics = Analytics()
    payouts: Payouts = Payouts()
    returns: Returns = Returns()
    scope: Scope = Scope()
    plausibility: Plausibility = Plausibility()
    targets: TargetRules = TargetRules()
    # an upload instruction, not part of the version: the config loader keeps the version pending
    # and simulates it over the last closed months first; uploading the same file without the
    # flag publishes it (excluded from the stored JSON, so both uploads are the same version)
    simulate_first: bool = Field(default=False, exclude=True)

    @field_validator("category_bonus_pct")
    @classmethod
    def _lower_categories(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        return {k.strip().lower(): val for k, val in v.items()}

    @model_validator(mode="after")
    def _tiers_ascending(self) -> RuleVersion:
        thresholds = [t.threshold_eur for t in self.tiers]
        if thresholds[0] != 0:
            raise ValueError("the first (entry) tier must have threshold_eur 0")
        if any(b <= a for a, b in itertools.pairwise(thresholds)):
            raise ValueError("tier thresholds must be strictly ascending")
        names = [t.name for t in self.tiers]
        if len(set(names)) != len(names):
            raise ValueError("tier names must be unique")
        return self

    # -- lookups ---------------------------------------------------------------------------
    @property
    def entry_tier(self) -> str:
        return self.tiers[0].name

    def tier(self, name: str) -> Tier:
        for t in self.tiers:
            if t.name == name:
                return t
        raise KeyError(f"tier {name!r} is not defined in rules {self.version}")

    def commission_rate(self, tier: str, category: str) -> Decimal:
        """Rate as a fraction (0.04 for 4 %) for a tier and category."""
        pct = self.tier(tier).commission_pct + self.category_bonus_pct.get(category, Decimal(0))
        return pct / HUNDRED

    @property
    def key(self) -> str:
        return f"{self.effective_from.isoformat()}#{self.version}"


def parse_rules(text: str) -> RuleVersion:
    """Parse a YAML or JSON rules file; raises pydantic.ValidationError / ValueError."""
    data: Any = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise ValueError("a rules file must be a mapping (YAML or JSON object)")
    return RuleVersion.model_validate(data)


class RuleBook:
    """All known versions; picks the one in effect on a date (optionally for a pilot scope)."""

    def __init__(self, versions: Iterable[RuleVersion]) -> None:
        self._all = sorted(versions, key=lambda v: (v.effective_from, v.version))
        self._general = [v for v in self._all if not v.scope.scoped]
        self._pilots = [v for v in self._all if v.scope.scoped]
        self._dates = [v.effective_from for v in self._general]

    def __bool__(self) -> bool:
        return bool(self._all)

    @property
    def versions(self) -> list[RuleVersion]:
        return list(self._all)

    @property
    def scoped(self) -> bool:
        """Whether any version is a pilot (scoped to a cohort or segments)."""
        return bool(self._pilots)

    def in_effect(self, day: dt.date, cohort: str | None = None, segment: str | None = None) -> RuleVersion:
        """The version in effect on `day`; a pilot version wins for its cohort/segment (the
        cohort compared case-insensitively) from its own `effective_from` on, until a newer
        general version takes effect."""
        best: RuleVersion | None = None
        i = bisect.bisect_right(self._dates, day)
        if i:
            best = self._general[i - 1]
        for v in self._pilots:
            if v.effective_from > day or not v.scope.covers(cohort, segment):
                continue
            if best is None or v.effective_from >= best.effective_from:
                best = v
        if best is None:
            raise LookupError(f"no program rules in effect on {day.isoformat()}")
        return best


def json_schema() -> dict[str, Any]:
    return RuleVersion.model_json_schema()
