"""The partner registry (PRODUCT §4): `partners.csv` rows -> validated partners."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, NamedTuple

from loyalty.kernel.csvio.model import ColumnSpec, RowIssue
from loyalty.kernel.csvio.stream import CsvStream
from loyalty.kernel.iban import mask_iban, normalize_iban, valid_bic, valid_iban
from loyalty.kernel.ids import ID_RE, PARTNER_ID_RE, is_formula

REGISTRY_SPEC = ColumnSpec(
    columns=(
        "partner_id",
        "name",
        "email",
        "segment",
        "country",
        "sponsor_id",
        "joined_on",
        "cohort",
        "distributor_for",
        "starting_tier",
        "certified",
        "iban",
        "bic",
        "recognition",
    ),
    required=frozenset({"partner_id", "name", "email", "segment", "joined_on"}),
    aliases={
        "partner": "partner_id",
        "id": "partner_id",
        "sponsor": "sponsor_id",
        "recruited_by": "sponsor_id",
        "joined": "joined_on",
        "join_date": "joined_on",
        "tier": "starting_tier",
        "distributes_for": "distributor_for",
        "certifications": "certified",
        "bank_iban": "iban",
        "bank_bic": "bic",
        "swift": "bic",
        "recognition_opt_out": "recognition",
    },
)
EMAIL_RE = re.compile(r"^[^@\s,;]{1,64}@[^@\s,;]{1,255}\.[A-Za-z]{2,}$")
CYCLE = "sponsor chain forms a cycle"
# The optional `recognition` column: `opt-out` keeps the partner off leaderboards and out of
# partner of the month (docs/recognition.md); empty = recognised.
RECOGNITION_OPT_OUT = "opt-out"


@dataclass(frozen=True)
class Partner:
    partner_id: str
    name: str
    email: str
    segment: str
    country: str
    sponsor_id: str
    joined_on: dt.date
    cohort: str
    distributor_for: tuple[str, ...] = field(default_factory=tuple)
    starting_tier: str = ""
    certified: tuple[tuple[str, int], ...] = ()  # (course, people certified)
    iban: str = ""  # plain only in memory; the store keeps it encrypted, displays mask it
    bic: str = ""
    recognition_opt_out: bool = False  # the registry's `recognition` column says `opt-out`

    @property
    def certifications(self) -> dict[str, int]:
        return dict(self.certified)


def parse_certified(text: str) -> tuple[tuple[str, int], ...]:
    """`CERT-SALES:2|CERT-PRE` -> (("CERT-PRE", 1), ("CERT-SALES", 2))."""
    out: dict[str, int] = {}
    for part in _split_ids(text):
        course, _, n = part.partition(":")
        if not ID_RE.match(course) or (n and not n.isdigit()):
            raise ValueError(f"'{part}' is not COURSE or COURSE:count")
        out[course] = out.get(course, 0) + (int(n) if n else 1)
    return tuple(sorted(out.items()))


def _split_ids(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"[|\s]+", text) if p.strip()]


class _Fields(NamedTuple):
    """A registry row's values, stripped, in the order of `REGISTRY_SPEC.columns`."""

    partner_id: str
    name: str
    email: str
    segment: str
    country: str
    sponsor_id: str
    joined_on: str
    cohort: str
    distributor_for: str
    starting_tier: str
    certified: str
    iban: str
    bic: str
    recognition: str


def parse_registry(raw: IO[bytes], tiers: Iterable[str]) -> tuple[list[Partner], list[RowIssue], int]:
    """Returns (partners, issues, rows). Cross-row checks: duplicates, unknown sponsors, cycles."""
    tier_names = {t.lower(): t for t in tiers}
    stream = CsvStream(raw, REGISTRY_SPEC)
    partners: dict[str, Partner] = {}
    lines: dict[str, int] = {}  # partner id -> its line
    issues: list[RowIssue] = []
    rows = 0
    for line, values in stream.rows_iter():
        rows += 1
        if isinstance(values, RowIssue):
            issues.append(values)
            continue
        parsed = _partner(line, _Fields._make(v.strip() for v in values), tier_names, lines)
        if isinstance(parsed, RowIssue):
            issues.append(parsed)
            continue
        partners[parsed.partner_id] = parsed
        lines[parsed.partner_id] = line
    # sponsors must not form a cycle, and must exist (removing a partner can orphan its recruits)
    issues += _drop_cycles(partners, lines)
    issues += _drop_orphans(partners, lines)
    issues.sort(key=lambda i: i.line)
    return list(partners.values()), issues, rows


def _partner(line: int, f: _Fields, tier_names: dict[str, str], lines: dict[str, int]) -> Partner | RowIssue:
    """The row's partner, or its first problem (`lines`: the partners already read)."""
    iban, bic = normalize_iban(f.iban), f.bic.replace(" ", "").upper()
    problem = (
        _id_problem(line, f, lines)
        or _contact_problem(line, f)
        or _program_problem(line, f, tier_names)
        or _bank_problem(line, iban, bic)
    )
    if problem is not None:
        return problem
    try:
        certified = parse_certified(f.certified)
    except ValueError as exc:
        return RowIssue(line, "certified", f.certified, str(exc))
    if f.recognition.lower() not in ("", RECOGNITION_OPT_OUT):
        return RowIssue(line, "recognition", f.recognition, f"must be '{RECOGNITION_OPT_OUT}' or empty")
    try:
        joined_on = dt.date.fromisoformat(f.joined_on)
    except ValueError:
        return RowIssue(line, "joined_on", f.joined_on, "not an ISO date (YYYY-MM-DD)")
    bad = [d for d in _split_ids(f.distributor_for) if not PARTNER_ID_RE.match(d)]
    if bad:
        return RowIssue(line, "distributor_for", f.distributor_for, f"not partner ids: {', '.join(bad)}")
    return Partner(
        partner_id=f.partner_id,
        name=f.name,
        email=f.email,
        segment=f.segment,
        country=f.country.upper(),
        sponsor_id=f.sponsor_id,
        joined_on=joined_on,
        cohort=f.cohort.lower(),
        distributor_for=tuple(_split_ids(f.distributor_for)),
        starting_tier=tier_names.get(f.starting_tier.lower(), "") if f.starting_tier else "",
        certified=certified,
        iban=iban,
        bic=bic,
        recognition_opt_out=bool(f.recognition),
    )


def _id_problem(line: int, f: _Fields, lines: dict[str, int]) -> RowIssue | None:
    pid = f.partner_id
    if not PARTNER_ID_RE.match(pid):
        return RowIssue(
            line, "partner_id", pid, "partner_id must be 1-64 letters, digits, space, '_', '.', '-'"
        )
    if pid in lines:
        return RowIssue(line, "partner_id", pid, f"duplicate partner_id (first on line {lines[pid]})")
    return None


def _contact_problem(line: int, f: _Fields) -> RowIssue | None:
    if not f.name or not ID_RE.match(f.name) or is_formula(f.name):
        return RowIssue(line, "name", f.name, "name is required (printable, not a formula)")
    if not EMAIL_RE.match(f.email) or is_formula(f.email):
        return RowIssue(line, "email", f.email, "not a valid e-mail address")
    if not f.segment or not ID_RE.match(f.segment) or is_formula(f.segment):
        return RowIssue(line, "segment", f.segment, "segment is required (printable, not a formula)")
    if f.country and not re.fullmatch(r"[A-Za-z]{2}", f.country):
        return RowIssue(line, "country", f.country, "country must be an ISO 3166 alpha-2 code")
    return None


def _program_problem(line: int, f: _Fields, tier_names: dict[str, str]) -> RowIssue | None:
    if f.sponsor_id == f.partner_id:
        return RowIssue(
            line,
            "sponsor_id",
            f.sponsor_id,
            f"a partner cannot sponsor itself: {CYCLE}: {f.partner_id} -> {f.partner_id}",
        )
    if f.cohort and (not ID_RE.match(f.cohort) or is_formula(f.cohort)):
        return RowIssue(
            line, "cohort", f.cohort, "cohort must be printable text of at most 64 characters, not a formula"
        )
    if f.starting_tier and f.starting_tier.lower() not in tier_names:
        return RowIssue(
            line,
            "starting_tier",
            f.starting_tier,
            f"unknown tier; the rules define {', '.join(tier_names.values())}",
        )
    return None


def _bank_problem(line: int, iban: str, bic: str) -> RowIssue | None:
    if iban and not valid_iban(iban):
        return RowIssue(line, "iban", mask_iban(iban), "not a valid IBAN (format or check digits)")
    if bic and not valid_bic(bic):
        return RowIssue(line, "bic", bic, "not a valid BIC (8 or 11 characters)")
    return None


def _drop_cycles(partners: dict[str, Partner], lines: dict[str, int]) -> list[RowIssue]:
    """Removes the partners whose sponsor chain leads back to them; each one's issue names the
    cycle from that partner on (`P3 -> P7 -> P3`). One walk per chain: every partner is visited
    once, so a long chain costs no more than its length."""
    state: dict[str, int] = {}  # partner -> the walk that visited it
    cycles: list[list[str]] = []
    for walk, start in enumerate(partners):
        path: list[str] = []
        cur = start
        while cur in partners and cur not in state:
            state[cur] = walk
            path.append(cur)
            cur = partners[cur].sponsor_id
        if cur in partners and state[cur] == walk:  # came back onto this walk: a cycle
            cycles.append(path[path.index(cur) :])
    issues: list[RowIssue] = []
    for cycle in cycles:
        for i, pid in enumerate(cycle):
            chain = " -> ".join([*cycle[i:], *cycle[: i + 1]])
            issues.append(RowIssue(lines[pid], "sponsor_id", partners[pid].sponsor_id, f"{CYCLE}: {chain}"))
    for cycle in cycles:
        for pid in cycle:
            del partners[pid]
    return issues


def _drop_orphans(partners: dict[str, Partner], lines: dict[str, int]) -> list[RowIssue]:
    """Removes the partners whose sponsor chain reaches a sponsor that is not a partner (removing
    a partner can orphan its recruits, and theirs); their issues. No cycles are left here, so one
    memoised walk per chain settles every partner."""
    rooted: dict[str, bool] = {}  # partner -> its chain ends at a partner without a sponsor
    for start in partners:
        path: list[str] = []
        cur = start
        while cur not in rooted:
            p = partners.get(cur)
            if p is None:
                break
            path.append(cur)
            if not p.sponsor_id:
                break
            cur = p.sponsor_id
        ok = rooted.get(cur, cur in partners)
        for pid in path:
            rooted[pid] = ok
    orphans = [pid for pid, ok in rooted.items() if not ok]
    issues = [
        RowIssue(
            lines[pid], "sponsor_id", partners[pid].sponsor_id, "sponsor is not a valid partner in this file"
        )
        for pid in orphans
    ]
    for pid in orphans:
        del partners[pid]
    return issues
