"""The partner registry (PRODUCT §4): `partners.csv` rows -> validated partners."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO

from loyalty.kernel.csvio import ColumnSpec, CsvStream, RowIssue
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
    },
)
EMAIL_RE = re.compile(r"^[^@\s,;]{1,64}@[^@\s,;]{1,255}\.[A-Za-z]{2,}$")
COHORTS = frozenset({"", "pilot", "control"})


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


def parse_registry(raw: IO[bytes], tiers: Iterable[str]) -> tuple[list[Partner], list[RowIssue], int]:
    """Returns (partners, issues, rows). Cross-row checks: duplicates, unknown sponsors, cycles."""
    tier_names = {t.lower(): t for t in tiers}
    stream = CsvStream(raw, REGISTRY_SPEC)
    partners: dict[str, Partner] = {}
    lines: dict[str, int] = {}
    issues: list[RowIssue] = []
    rows = 0
    for line, values in stream.rows_iter():
        rows += 1
        if isinstance(values, RowIssue):
            issues.append(values)
            continue
        pid, name, email, segment, country, sponsor, joined, cohort, dist, tier, cert, iban_raw, bic = (
            v.strip() for v in values
        )
        iban, bic = normalize_iban(iban_raw), bic.replace(" ", "").upper()
        problem: RowIssue | None = None
        if not PARTNER_ID_RE.match(pid):
            problem = RowIssue(
                line, "partner_id", pid, "partner_id must be 1-64 letters, digits, space, '_', '.', '-'"
            )
        elif pid in partners:
            problem = RowIssue(line, "partner_id", pid, f"duplicate partner_id (first on line {lines[pid]})")
        elif not name or not ID_RE.match(name) or is_formula(name):
            problem = RowIssue(line, "name", name, "name is required (printable, not a formula)")
        elif not EMAIL_RE.match(email) or is_formula(email):
            problem = RowIssue(line, "email", email, "not a valid e-mail address")
        elif not segment or not ID_RE.match(segment) or is_formula(segment):
            problem = RowIssue(line, "segment", segment, "segment is required (printable, not a formula)")
        elif country and not re.fullmatch(r"[A-Za-z]{2}", country):
            problem = RowIssue(line, "country", country, "country must be an ISO 3166 alpha-2 code")
        elif sponsor == pid:
            problem = RowIssue(line, "sponsor_id", sponsor, "a partner cannot sponsor itself")
        elif cohort.lower() not in COHORTS:
            problem = RowIssue(line, "cohort", cohort, "cohort must be 'pilot', 'control' or empty")
        elif tier and tier.lower() not in tier_names:
            problem = RowIssue(
                line,
                "starting_tier",
                tier,
                f"unknown tier; the rules define {', '.join(tier_names.values())}",
            )
        elif iban and not valid_iban(iban):
            problem = RowIssue(line, "iban", mask_iban(iban), "not a valid IBAN (format or check digits)")
        elif bic and not valid_bic(bic):
            problem = RowIssue(line, "bic", bic, "not a valid BIC (8 or 11 characters)")
        certified: tuple[tuple[str, int], ...] = ()
        if problem is None:
            try:
                certified = parse_certified(cert)
            except ValueError as exc:
                problem = RowIssue(line, "certified", cert, str(exc))
        if problem is None:
            try:
                joined_on = dt.date.fromisoformat(joined)
            except ValueError:
                problem = RowIssue(line, "joined_on", joined, "not an ISO date (YYYY-MM-DD)")
        if problem is None:
            bad = [d for d in _split_ids(dist) if not PARTNER_ID_RE.match(d)]
            if bad:
                problem = RowIssue(line, "distributor_for", dist, f"not partner ids: {', '.join(bad)}")
        if problem is not None:
            issues.append(problem)
            continue
        partners[pid] = Partner(
            partner_id=pid,
            name=name,
            email=email,
            segment=segment,
            country=country.upper(),
            sponsor_id=sponsor,
            joined_on=joined_on,
            cohort=cohort.lower(),
            distributor_for=tuple(_split_ids(dist)),
            starting_tier=tier_names.get(tier.lower(), "") if tier else "",
            certified=certified,
            iban=iban,
            bic=bic,
        )
        lines[pid] = line
    # sponsors must not form a cycle, and must exist (removing a partner can orphan its recruits)
    in_cycle = []
    for pid, partner in partners.items():
        seen, cur = set(), partner.sponsor_id
        while cur and cur in partners and cur not in seen:
            if cur == pid:
                in_cycle.append(pid)
                break
            seen.add(cur)
            cur = partners[cur].sponsor_id
    for pid in in_cycle:
        issues.append(
            RowIssue(lines[pid], "sponsor_id", partners[pid].sponsor_id, "sponsor chain forms a cycle")
        )
    for pid in in_cycle:
        del partners[pid]
    changed = True
    while changed:
        changed = False
        for pid, p in list(partners.items()):
            if p.sponsor_id and p.sponsor_id not in partners:
                issues.append(
                    RowIssue(
                        lines[pid], "sponsor_id", p.sponsor_id, "sponsor is not a valid partner in this file"
                    )
                )
                del partners[pid]
                changed = True
    issues.sort(key=lambda i: i.line)
    return list(partners.values()), issues, rows
