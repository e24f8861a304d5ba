"""Target bonuses as data (issue 10): `targets/*.csv|yaml|yml` -> a versioned `TargetSet`.

A target says: for the partners in its scope (one partner, a segment or a cohort), reach `goal`
of a metric (net sales EUR, units, new customers; net sales and units optionally of one category)
in an interval (a month or a quarter), and earn `bonus_eur` at 100 % attainment, or what its
bands give (flat, step or interpolated; `docs/targets.md`). A file is one version of the whole
target book: rows are validated one by one (`loyalty.program.target_rows`), bad ones rejected with
line, column and reason; the newest version effective on or before an interval's first day
governs that interval.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from loyalty.kernel.csvio.model import FileError, RowIssue
from loyalty.kernel.ids import ID_RE, PARTNER_ID_RE, is_formula
from loyalty.kernel.money import CENT, parse_decimal, to_cents
from loyalty.program.target_rows import RawRows, read_rows

METRICS = ("net_sales", "units", "new_customers")
SCOPES = ("partner", "segment", "cohort")
METHODS = ("flat", "step", "interpolated")
INTERVALS = ("month", "quarter")
MONTH_RE = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
QUARTER_RE = re.compile(r"^(\d{4})-Q([1-4])$")
VERSION_RE = re.compile(r"^[A-Za-z0-9._-]{1,32}$")


@dataclass(frozen=True)
class Band:
    """From `attainment_pct` on, the bonus is `bonus_pct` % of bonus_eur (how, by the method)."""

    attainment_pct: Decimal
    bonus_pct: Decimal


FLAT_100 = (Band(Decimal(100), Decimal(100)),)  # no bands: bonus_eur at 100 %, nothing below


def interval_months(period: str) -> list[str]:
    """`2026-09` -> [2026-09]; `2026-Q3` -> [2026-07, 2026-08, 2026-09]."""
    q = QUARTER_RE.match(period)
    if q:
        y, n = int(q.group(1)), int(q.group(2))
        return [f"{y:04d}-{m:02d}" for m in range(3 * n - 2, 3 * n + 1)]
    if MONTH_RE.match(period):
        return [period]
    raise ValueError(f"not a month (YYYY-MM) or quarter (YYYY-Qn): {period!r}")


def month_end(month: str) -> dt.date:
    y, m = int(month[:4]), int(month[5:7])
    return dt.date(y, m, calendar.monthrange(y, m)[1])


@dataclass(frozen=True)
class Target:
    target_id: str
    scope: str  # partner | segment | cohort
    scope_value: str  # a partner id as given; a segment or cohort lower-case
    metric: str  # net_sales | units | new_customers
    category: str  # "" = all categories
    interval: str  # month | quarter
    period: str  # 2026-09 | 2026-Q3
    goal: Decimal
    month_goals: tuple[Decimal, ...]  # one per month of the interval, summing to goal
    bonus_eur: Decimal
    bands: tuple[Band, ...] = FLAT_100
    method: str = "flat"
    line: int = 0  # where it came from in its file

    @property
    def months(self) -> list[str]:
        return interval_months(self.period)

    @property
    def start(self) -> dt.date:
        m = self.months[0]
        return dt.date(int(m[:4]), int(m[5:7]), 1)

    @property
    def end(self) -> dt.date:
        return month_end(self.months[-1])

    @property
    def metric_label(self) -> str:
        return f"{self.metric}/{self.category}" if self.category else self.metric

    def applies_to(self, partner_id: str, segment: str, cohort: str) -> bool:
        if self.scope == "partner":
            return self.scope_value == partner_id
        value = segment if self.scope == "segment" else cohort
        return bool(value) and self.scope_value == value.strip().lower()

    def to_json(self) -> dict[str, Any]:
        return {
            "target_id": self.target_id,
            "scope": self.scope,
            "scope_value": self.scope_value,
            "metric": self.metric,
            "category": self.category,
            "interval": self.interval,
            "period": self.period,
            "goal": str(self.goal),
            "month_goals": [str(g) for g in self.month_goals],
            "bonus_eur": str(self.bonus_eur),
            "bands": [[str(b.attainment_pct), str(b.bonus_pct)] for b in self.bands],
            "method": self.method,
            "line": self.line,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Target:
        return cls(
            target_id=str(d["target_id"]),
            scope=str(d["scope"]),
            scope_value=str(d["scope_value"]),
            metric=str(d["metric"]),
            category=str(d.get("category", "")),
            interval=str(d["interval"]),
            period=str(d["period"]),
            goal=Decimal(str(d["goal"])),
            month_goals=tuple(Decimal(str(g)) for g in d["month_goals"]),
            bonus_eur=Decimal(str(d["bonus_eur"])),
            bands=tuple(Band(Decimal(str(a)), Decimal(str(v))) for a, v in d["bands"]),
            method=str(d.get("method", "flat")),
            line=int(d.get("line", 0)),
        )


@dataclass(frozen=True)
class TargetSet:
    """One version of the target book (one targets file)."""

    version: str
    effective_from: dt.date
    source: str  # the S3 key it was loaded from
    targets: Sequence[Target] = field(default_factory=tuple)

    @property
    def key(self) -> str:
        return f"{self.effective_from.isoformat()}#{self.version}"

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "effective_from": self.effective_from.isoformat(),
            "source": self.source,
            "targets": [t.to_json() for t in self.targets],
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> TargetSet:
        return cls(
            version=str(d["version"]),
            effective_from=dt.date.fromisoformat(str(d["effective_from"])),
            source=str(d.get("source", "")),
            targets=tuple(Target.from_json(t) for t in d.get("targets", ())),
        )

    def same_content(self, other: TargetSet) -> bool:
        """Equal but for where it was uploaded from (a re-upload of the same version)."""
        return (
            self.version == other.version
            and self.effective_from == other.effective_from
            and [t.to_json() for t in self.targets] == [t.to_json() for t in other.targets]
        )


def check_new(ts: TargetSet, stored: list[TargetSet]) -> bool:
    """The immutability rule both stores share: False when this very version is stored (same
    effective date and content), ValueError when its name is taken by other content."""
    for old in stored:
        if old.version != ts.version:
            continue
        if old.same_content(ts):
            return False
        raise ValueError(
            f"targets version {ts.version} already exists (effective {old.effective_from}) "
            "with other content; bump the version"
        )
    return True


def governing(sets: Sequence[TargetSet], start: dt.date) -> TargetSet | None:
    """The newest version effective on or before `start` (an interval's first day)."""
    best: TargetSet | None = None
    for s in sets:
        if s.effective_from <= start and (
            best is None or (s.effective_from, s.version) > (best.effective_from, best.version)
        ):
            best = s
    return best


MAX_BANDS = 20
MAX_PCT = Decimal(10000)


class RowError(ValueError):
    def __init__(self, column: str, value: str, reason: str) -> None:
        super().__init__(reason)
        self.column, self.value, self.reason = column, value, reason


def parse_targets(raw: bytes, key: str) -> tuple[TargetSet | None, list[RowIssue], str]:
    """(the target set, rejected rows, file error) of a targets file. Every row is checked on its
    own; a file whose version cannot be told, or with no good row, loads nothing."""
    try:
        rows = read_rows(raw, key)
    except FileError as exc:
        return None, [], exc.message
    issues: list[RowIssue] = []
    try:
        version, effective = _file_version(rows)
    except RowError as exc:
        return None, [], f"{exc.column}: {exc.reason}"
    targets: list[Target] = []
    first: dict[str, int] = {}
    for line, cells in rows.rows:
        try:
            t = check_row(line, cells, version, effective)
            if t.target_id in first:
                raise RowError(
                    "target_id", t.target_id, f"{t.target_id} is already on line {first[t.target_id]}"
                )
        except RowError as exc:
            issues.append(RowIssue(line, exc.column, exc.value, exc.reason))
            continue
        first[t.target_id] = line
        targets.append(t)
    if not targets:
        return None, issues, "no valid target rows: nothing loaded"
    return TargetSet(version, effective, key, tuple(targets)), issues, ""


def _file_version(rows: RawRows) -> tuple[str, dt.date]:
    """The file's version and effective date: YAML's top level; CSV: the first row that gives
    them (all rows must agree)."""
    version, effective = rows.version, rows.effective_from
    if not version:
        version = next((c.get("version", "") for _, c in rows.rows if c.get("version", "")), "")
    if not effective:
        effective = next(
            (c.get("effective_from", "") for _, c in rows.rows if c.get("effective_from", "")), ""
        )
    if not VERSION_RE.match(version):
        raise RowError("version", version, "a version (up to 32 of A-Z a-z 0-9 . _ -) is required")
    return version, _date(effective)


def _date(text: str) -> dt.date:
    try:
        if MONTH_RE.match(text):
            return dt.date(int(text[:4]), int(text[5:7]), 1)
        return dt.date.fromisoformat(text)
    except ValueError:
        raise RowError("effective_from", text, "effective_from must be YYYY-MM-DD or YYYY-MM") from None


def check_row(line: int, cells: Mapping[str, str], version: str, effective: dt.date) -> Target:
    """One row -> a Target, or RowError naming the column and the reason."""
    _check_plain(cells, version, effective)
    tid = cells.get("target_id", "")
    if not tid or not ID_RE.match(tid):
        raise RowError("target_id", tid, "target_id is required (up to 64 printable characters)")
    scope, value = _scope(cells)
    metric = _choice(cells, "metric", METRICS)
    category = cells.get("category", "").lower()
    if category and metric == "new_customers":
        raise RowError("category", category, "new_customers counts customers of every category: no category")
    if category and (len(category) > 40 or not ID_RE.match(category)):
        raise RowError("category", category, "a category is up to 40 printable characters")
    interval, period = _choice(cells, "interval", INTERVALS), cells.get("period", "")
    if not (MONTH_RE if interval == "month" else QUARTER_RE).match(period):
        want = "YYYY-MM (e.g. 2026-09)" if interval == "month" else "YYYY-Qn (e.g. 2026-Q3)"
        raise RowError("period", period, f"a {interval} period is {want}")
    counts = metric != "net_sales"
    goal = _amount(cells, "goal", counts, positive=True)
    n = len(interval_months(period))
    goals = _month_goals(cells.get("month_goals", ""), goal, n, counts)
    bonus = _amount(cells, "bonus_eur", False, positive=False)
    bands = parse_bands(cells.get("bands", ""))
    method = _choice(cells, "method", METHODS, default="flat")
    return Target(
        tid, scope, value, metric, category, interval, period, goal, goals, bonus, bands, method, line
    )


def _check_plain(cells: Mapping[str, str], version: str, effective: dt.date) -> None:
    """Whole-row checks: its shape, no formula cell, the file's version and effective date."""
    if "__shape__" in cells:
        raise RowError("", "", cells["__shape__"])
    for col, value in cells.items():
        if is_formula(value):
            raise RowError(col, value, "not a plain value (looks like a spreadsheet formula)")
    if cells.get("version", "") not in ("", version):
        raise RowError("version", cells["version"], f"all rows of a file share one version ({version})")
    if cells.get("effective_from", "") and _date(cells["effective_from"]) != effective:
        raise RowError(
            "effective_from", cells["effective_from"], f"all rows share effective_from {effective}"
        )


def _scope(cells: Mapping[str, str]) -> tuple[str, str]:
    """(scope, value): a partner id as given; a segment or cohort lower-case."""
    scope, value = _choice(cells, "scope", SCOPES), cells.get("scope_value", "")
    if not value:
        raise RowError("scope_value", value, f"scope_value is empty: the {scope} the target is for")
    if scope == "partner" and not PARTNER_ID_RE.match(value):
        raise RowError("scope_value", value, "not a partner id")
    if scope != "partner":
        if not ID_RE.match(value):
            raise RowError("scope_value", value, f"a {scope} is up to 64 printable characters")
        value = value.lower()
    return scope, value


def _choice(cells: Mapping[str, str], col: str, allowed: Sequence[str], default: str = "") -> str:
    value = cells.get(col, "").strip().lower() or default
    if value not in allowed:
        raise RowError(col, cells.get(col, ""), f"unknown {col}: use one of {', '.join(allowed)}")
    return value


def _amount(cells: Mapping[str, str], col: str, whole: bool, positive: bool) -> Decimal:
    text = cells.get(col, "")
    try:
        value = parse_decimal(text)
    except ValueError as exc:
        raise RowError(col, text, f"{col}: {exc}") from None
    if whole and value != value.to_integral_value():
        raise RowError(col, text, f"{col} counts units or customers: a whole number")
    if not whole and value != to_cents(value):
        raise RowError(col, text, f"{col} is EUR: at most 2 decimals")
    if value < 0 or (positive and value == 0):
        raise RowError(col, text, f"{col} must be {'above' if positive else 'at least'} 0")
    return value.quantize(Decimal(1) if whole else CENT)


def _month_goals(text: str, goal: Decimal, n: int, whole: bool) -> tuple[Decimal, ...]:
    """The per-month goals as given (n of them, summing to the goal), else an equal split: cents
    (or whole units) half-even, the remainder on the last month."""
    if not text:
        step = (goal / n).quantize(Decimal(1) if whole else CENT)
        return (*([step] * (n - 1)), goal - step * (n - 1))
    parts = [p.strip() for p in text.split("|")]
    if len(parts) != n:
        raise RowError("month_goals", text, f"{len(parts)} month goals for a {n}-month interval")
    goals = tuple(_amount({"month_goals": p}, "month_goals", whole, positive=False) for p in parts)
    if sum(goals, Decimal(0)) != goal:
        raise RowError(
            "month_goals", text, f"month goals sum to {sum(goals, Decimal(0))}, not the goal {goal}"
        )
    return goals


def parse_bands(text: str) -> tuple[Band, ...]:
    """`80:50|100:100|120:150` -> bands; attainment strictly ascending, bonus never falling."""
    if not text:
        return FLAT_100
    out: list[Band] = []
    for part in text.split("|"):
        a, sep, v = part.strip().partition(":")
        try:
            band = Band(parse_decimal(a), parse_decimal(v))
        except ValueError:
            raise RowError("bands", text, f"{part.strip()!r} is not attainment_pct:bonus_pct") from None
        if not sep or not (0 <= band.attainment_pct <= MAX_PCT and 0 <= band.bonus_pct <= MAX_PCT):
            raise RowError("bands", text, f"{part.strip()!r}: two percentages between 0 and {MAX_PCT}")
        if out and band.attainment_pct <= out[-1].attainment_pct:
            raise RowError("bands", text, "attainment percentages must be strictly ascending")
        if out and band.bonus_pct < out[-1].bonus_pct:
            raise RowError("bands", text, "a higher attainment may not pay a lower bonus")
        out.append(band)
    if len(out) > MAX_BANDS:
        raise RowError("bands", text, f"at most {MAX_BANDS} bands")
    return tuple(out)
