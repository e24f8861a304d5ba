"""Training completions as partners' training providers export them (`training/*.csv`): a builder
for tests and the demo's file, in which the partner with the highest net sales that the registry
does not list as CERT-SALES certified gets one certified person (so the Platinum criterion, at
least one person with CERT-SALES, is met through training) and others complete courses, some with
certificates that expire."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from loyalty_factories.program import DemoPartner

HEADER = ("partner_id", "person_id", "course", "completed_on", "certificate_id", "expires_on")
COURSES = ("ONBOARDING", "CERT-PRE", "CERT-SALES")


def training_csv(rows: Iterable[Sequence[object]], delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    """A training file from rows of values in HEADER order (an absent expires_on may be left out)."""
    lines = [delimiter.join(HEADER)]
    for r in rows:
        cells = ["" if v is None else str(v) for v in r]
        lines.append(delimiter.join(cells + [""] * (len(HEADER) - len(cells))))
    return ("\n".join(lines) + "\n").encode(encoding)


def platinum_candidate(partners: Sequence[DemoPartner], net_eur: Mapping[str, Decimal]) -> str:
    """The partner with the highest net sales whose registry row holds no CERT-SALES: the one a
    CERT-SALES completion can lift to Platinum."""
    free = [p for p in partners if "CERT-SALES" not in p.certified]
    return max(free, key=lambda p: (net_eur.get(p.pid, Decimal(0)), p.pid)).pid


def demo_training(
    partners: Sequence[DemoPartner], net_eur: Mapping[str, Decimal], rnd: random.Random, up_to: dt.date
) -> tuple[bytes, str]:
    """(the demo's training file, the partner it certifies for Platinum). Completions fall in the
    90 days before `up_to`; a few CERT-PRE certificates expire before it; two bad rows (an
    unknown partner, a date after `up_to`) show the loader's precise errors."""
    top = platinum_candidate(partners, net_eur)
    start = up_to - dt.timedelta(days=90)
    rows: list[list[object]] = [
        [top, f"{top}-E1", "CERT-SALES", start + dt.timedelta(days=10), f"CS-{top}-1"]
    ]
    rows.append([top, f"{top}-E2", "ONBOARDING", start + dt.timedelta(days=3), ""])
    for n, p in enumerate(p for p in partners if p.pid != top and rnd.random() < 0.15):
        day = start + dt.timedelta(days=rnd.randrange(0, 90))
        course = rnd.choice(COURSES)
        cert = f"{course[:2]}-{p.pid}-{n}" if course != "ONBOARDING" else ""
        expires = day + dt.timedelta(days=rnd.choice([30, 365, 730])) if course == "CERT-PRE" else None
        rows.append([p.pid, f"{p.pid}-E{n % 3 + 1}", course, day, cert, expires])
    rows.append(["P99999", "E-1", "ONBOARDING", start, ""])  # not in the registry
    rows.append([top, f"{top}-E3", "CERT-PRE", up_to + dt.timedelta(days=1), "CP-X"])  # in the future
    return training_csv(rows, delimiter=";"), top
