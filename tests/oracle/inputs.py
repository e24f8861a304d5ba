"""The oracle's inputs: a bucket-like directory (registry, rates, rules, targets, incoming sales).

Written from PRODUCT.md and ORACLE_FORMATS.md only (standard library + yaml, never the engine).
"""

from __future__ import annotations

import bisect
import calendar
import csv
import datetime as dt
import io
import pathlib
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

import yaml

CENT = Decimal("0.01")
ZERO = Decimal("0")
HUNDRED = Decimal("100")
PROGRAM_CURRENCY = "EUR"


def cents(value: Decimal) -> Decimal:
    """Round once to cents, half-even."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def month_of(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def month_name(month: int) -> str:
    return f"{month // 12:04d}-{month % 12 + 1:02d}"


def parse_month(text: str) -> int:
    year, month = text.strip().split("-")
    return int(year) * 12 + int(month) - 1


def last_day(month: int) -> dt.date:
    year, index = divmod(month, 12)
    return dt.date(year, index + 1, calendar.monthrange(year, index + 1)[1])


def _date(value: object) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


@dataclass(frozen=True)
class Partner:
    pid: str
    segment: str
    sponsor: str
    cohort: str
    starting_tier: str
    certs: dict[str, int]
    distributor_for: tuple[str, ...]


@dataclass(frozen=True)
class Tier:
    name: str
    threshold: Decimal
    pct: Decimal
    certs: dict[str, int]


@dataclass(frozen=True)
class Version:
    name: str
    effective_from: dt.date
    cohort: str | None
    segments: tuple[str, ...] | None
    tiers: tuple[Tier, ...]
    window: int
    downgrade_after: int
    category_bonus: dict[str, Decimal]
    holding_days: int
    minimum_payout: Decimal
    level_pct: tuple[Decimal, ...]
    max_depth: int
    requires_positive: bool
    min_own: Decimal
    targets_enabled: bool
    lookback: int = 12

    @property
    def scoped(self) -> bool:
        return self.cohort is not None or self.segments is not None

    def matches(self, partner: Partner) -> bool:
        if self.cohort is not None and self.cohort.casefold() != partner.cohort.casefold():
            return False
        wanted = {s.casefold() for s in self.segments or ()}
        return self.segments is None or partner.segment.casefold() in wanted

    def rank(self, tier_name: str) -> int:
        names = [t.name.casefold() for t in self.tiers]
        return names.index(tier_name.casefold()) if tier_name.casefold() in names else 0

    def rate(self, tier_name: str, category: str) -> Decimal:
        bonus = self.category_bonus.get(category.casefold(), ZERO)
        return (self.tiers[self.rank(tier_name)].pct + bonus) / HUNDRED


def _certs(text: str) -> dict[str, int]:
    pairs = [item.split(":") for item in text.split("|") if item.strip()]
    return {course.strip(): int(count) for course, count in pairs}


def load_version(doc: dict[str, Any]) -> Version:
    """One rules/<name>.yaml document as a Version."""
    scope = doc.get("scope") or {}
    review = doc.get("tier_review") or {}
    over = doc.get("override") or {}
    levels = tuple(Decimal(str(x)) for x in over.get("level_pct") or ())
    tiers = sorted(
        (
            Tier(
                str(t["name"]),
                Decimal(str(t.get("threshold_eur", "0"))),
                Decimal(str(t["commission_pct"])),
                {str(k): int(v) for k, v in (t.get("requires_certifications") or {}).items()},
            )
            for t in doc["tiers"]
        ),
        key=lambda tier: tier.threshold,
    )
    segments = scope.get("segments")
    return Version(
        name=str(doc["version"]),
        effective_from=_date(doc["effective_from"]),
        cohort=str(scope["cohort"]) if scope.get("cohort") is not None else None,
        segments=tuple(str(s) for s in segments) if segments is not None else None,
        tiers=tuple(tiers),
        window=int(review.get("window_months", 3)),
        downgrade_after=int(review.get("downgrade_after_reviews", 2)),
        category_bonus={
            str(k).casefold(): Decimal(str(v)) for k, v in (doc.get("category_bonus_pct") or {}).items()
        },
        holding_days=int(doc.get("holding_days", 0)),
        minimum_payout=Decimal(str(doc.get("minimum_payout_eur", "0"))),
        level_pct=levels,
        max_depth=int(over.get("max_depth", len(levels))),
        requires_positive=bool(over.get("requires_positive_own_sales", True)),
        min_own=Decimal(str(over.get("min_own_net_eur", "0"))),
        targets_enabled=bool((doc.get("targets") or {}).get("enabled", False)),
        lookback=int((doc.get("returns") or {}).get("lookback_months", 12)),
    )


def read_csv(path: pathlib.Path) -> list[dict[str, str]]:
    """Rows with lower-cased headers; UTF-8 (BOM or not) or Windows-1251; `,` or `;`."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1251")
    head = text.split("\n", 1)[0]
    reader = csv.DictReader(io.StringIO(text), delimiter=";" if head.count(";") > head.count(",") else ",")
    return [
        {k.strip().lower(): (v or "").strip() for k, v in row.items() if isinstance(k, str)} for row in reader
    ]


@dataclass
class Line:
    pid: str
    sale_id: str
    sold: dt.date
    sku: str
    qty: int
    exact_eur: Decimal
    net_eur: Decimal
    category: str
    customer: str
    original: str
    commission: Decimal = ZERO
    rate: Decimal = ZERO
    holds_from: dt.date | None = None  # a return: its sale's day (None: its own)


@dataclass(frozen=True)
class Target:
    tid: str
    scope: str
    scope_value: str
    metric: str
    category: str
    months: tuple[int, ...]
    goal: Decimal
    bonus: Decimal
    bands: tuple[tuple[Decimal, Decimal], ...]
    method: str

    def applies(self, partner: Partner) -> bool:
        value = self.scope_value.casefold()
        return (
            (self.scope == "partner" and self.scope_value == partner.pid)
            or (self.scope == "segment" and value == partner.segment.casefold())
            or (self.scope == "cohort" and value == partner.cohort.casefold())
        )


def _target(row: dict[str, str]) -> Target:
    period = row["period"]
    if "Q" in period.upper():
        year, quarter = period.upper().split("-Q")
        first = int(year) * 12 + (int(quarter) - 1) * 3
        months: tuple[int, ...] = (first, first + 1, first + 2)
    else:
        months = (parse_month(period),)
    bands = tuple(
        (Decimal(a), Decimal(v))
        for a, v in (b.split(":") for b in (row.get("bands") or "100:100").split("|"))
    )
    return Target(
        tid=row["target_id"],
        scope=row["scope"].casefold(),
        scope_value=row["scope_value"],
        metric=row["metric"].casefold(),
        category=row.get("category", ""),
        months=months,
        goal=Decimal(row["goal"]),
        bonus=Decimal(row["bonus_eur"]),
        bands=tuple(sorted(bands)),
        method=(row.get("method") or "flat").casefold(),
    )


class Program:
    """Every input of one bucket-like directory, and the calculation over it."""

    def __init__(self, root: pathlib.Path) -> None:
        self.partners = {
            row["partner_id"]: Partner(
                pid=row["partner_id"],
                segment=row.get("segment", ""),
                sponsor=row.get("sponsor_id", ""),
                cohort=row.get("cohort", ""),
                starting_tier=row.get("starting_tier", ""),
                certs=_certs(row.get("certified", "")),
                distributor_for=tuple(x for x in row.get("distributor_for", "").split("|") if x),
            )
            for row in read_csv(root / "registry" / "partners.csv")
        }
        self.versions = [
            load_version(yaml.safe_load(p.read_text("utf-8")))
            for p in sorted((root / "rules").glob("*.y*ml"))
        ]
        self.rates: dict[str, list[tuple[dt.date, Decimal]]] = defaultdict(list)
        for path in sorted((root / "rates").glob("*.csv")):
            for row in read_csv(path):
                self.rates[row["currency"].upper()].append(
                    (dt.date.fromisoformat(row["date"]), Decimal(row["units_per_eur"]))
                )
        for series in self.rates.values():
            series.sort()
        self.targets = [_target(row) for p in sorted((root / "targets").glob("*.csv")) for row in read_csv(p)]
        self.lines = self._load_sales(root)

    def version(self, pid: str, day: dt.date) -> Version:
        """The rule version in effect for a partner on a day (scoped wins when not older)."""
        partner = self.partners[pid]
        general = [v for v in self.versions if not v.scoped and v.effective_from <= day]
        base = max(general, key=lambda v: v.effective_from) if general else None
        scoped = [
            v
            for v in self.versions
            if v.scoped
            and v.matches(partner)
            and v.effective_from <= day
            and (base is None or v.effective_from >= base.effective_from)
        ]
        if scoped:
            return max(scoped, key=lambda v: v.effective_from)
        if base is None:
            raise ValueError(f"no rule version in effect for {pid} on {day}")
        return base

    def _fx(self, currency: str, day: dt.date) -> Decimal | None:
        series = self.rates.get(currency.upper(), [])
        index = bisect.bisect_right(series, (day, Decimal("Infinity")))
        return series[index - 1][1] if index else None

    def _line(self, row: dict[str, str]) -> Line | None:
        """A sales row as a Line, or None when rejected/held (bad field, unknown partner, no rate)."""
        try:
            text = row["sold_at"]
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            if len(text) > 10 and moment.tzinfo is not None:
                moment = moment.astimezone(dt.UTC)
            qty = int(row["quantity"])
            net = qty * Decimal(row["unit_price"].replace(",", "."))
            currency = row["currency"].upper()
            upe = Decimal(1) if currency == PROGRAM_CURRENCY else self._fx(currency, moment.date())
        except (KeyError, ValueError, InvalidOperation):
            return None
        if upe is None or not row.get("sale_id") or row.get("partner_id") not in self.partners:
            return None
        exact = net / upe
        return Line(
            pid=row["partner_id"],
            sale_id=row["sale_id"],
            sold=moment.date(),
            sku=row.get("sku", ""),
            qty=qty,
            exact_eur=exact,
            net_eur=cents(exact),
            category=row.get("category", ""),
            customer=row.get("customer_id", ""),
            original=row.get("original_sale_id", ""),
        )

    def _load_sales(self, root: pathlib.Path) -> list[Line]:
        kept: dict[tuple[str, str], Line] = {}
        for path in sorted((root / "incoming").glob("*/*.csv")):
            uploader = self.partners.get(path.parent.name)
            allowed = {uploader.pid, *uploader.distributor_for} if uploader else set()
            for row in read_csv(path):
                line = self._line(row)
                if line is not None and line.pid in allowed:
                    kept[(line.pid, line.sale_id)] = line  # a re-sent sale_id replaces
        return sorted(kept.values(), key=lambda ln: (ln.pid, ln.sold, ln.sale_id))
