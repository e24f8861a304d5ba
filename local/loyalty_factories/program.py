"""A realistic partner program: partners with segments, sponsors, distributors, cohorts,
starting tiers and bank details; its registry CSV; FX rates on business days."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from dataclasses import dataclass, field
from decimal import Decimal

from loyalty.program.registry import REGISTRY_SPEC

MONTHS = ["2026-08", "2026-09", "2026-10"]
SEGMENTS = [("smb", 0.45), ("enterprise", 0.2), ("retail", 0.25), ("public-sector", 0.1)]
COUNTRIES = {"DE": "EUR", "FR": "EUR", "NL": "EUR", "US": "USD", "GB": "GBP", "PL": "PLN", "CH": "CHF"}
RATES = {"USD": Decimal("1.09"), "GBP": Decimal("0.85"), "PLN": Decimal("4.31"), "CHF": Decimal("0.94")}


@dataclass
class DemoPartner:
    pid: str
    name: str
    segment: str
    country: str
    sponsor: str = ""
    cohort: str = ""
    distributor_for: list[str] = field(default_factory=list)
    starting_tier: str = ""
    style: str = "plain"  # plain | semicolon | 1c | bom
    size: float = 1.0
    iban: str = ""
    certified: str = ""


def demo_iban(country: str, n: int) -> str:
    """A valid (check digits) IBAN for the demo: German/Dutch/French-shaped BBAN."""
    bban = {"DE": f"37040044{n:010d}", "NL": f"ABNA{n:010d}", "FR": f"2004101005{n:011d}06"}.get(
        country, f"37040044{n:010d}"
    )
    cc = country if country in {"DE", "NL", "FR"} else "DE"
    digits = "".join(str(int(c, 36)) for c in bban + cc + "00")
    return f"{cc}{98 - int(digits) % 97:02d}{bban}"


def pick(rnd: random.Random, weighted: list[tuple[str, float]]) -> str:
    return rnd.choices([w[0] for w in weighted], [w[1] for w in weighted])[0]


def _partner(i: int, rnd: random.Random, earlier: list[DemoPartner]) -> DemoPartner:
    country = rnd.choices(list(COUNTRIES), [30, 12, 8, 15, 12, 13, 10])[0]
    p = DemoPartner(
        pid=f"P{i:05d}",
        name=f"{rnd.choice(['Nord', 'Alpha', 'Blue', 'Prime', 'Vector', 'Orbit', 'Delta', 'Sigma'])}"
        f" {rnd.choice(['Systems', 'IT', 'Solutions', 'Trade', 'Networks', 'Group'])} {i}",
        segment=pick(rnd, SEGMENTS),
        country=country,
        cohort=rnd.choices(["", "pilot", "control"], [70, 15, 15])[0],
        style=rnd.choices(["plain", "semicolon", "1c", "bom"], [55, 20, 15, 10])[0],
        size=rnd.lognormvariate(0, 0.9),
    )
    if i > 5 and rnd.random() < 0.6:
        p.sponsor = earlier[rnd.randrange(0, i - 1)].pid
    if rnd.random() < 0.08:
        p.starting_tier = rnd.choice(["Silver", "Gold"])
    if rnd.random() < 0.93:  # a few have not sent bank details yet: their payouts are held
        p.iban = demo_iban(country, i)
    if rnd.random() < 0.2:
        p.certified = f"CERT-SALES:{rnd.randint(1, 3)}"
    return p


def make_partners(n: int, rnd: random.Random) -> list[DemoPartner]:
    partners: list[DemoPartner] = []
    for i in range(1, n + 1):
        partners.append(_partner(i, rnd, partners))
    # distributors: about 1 in 12 partners uploads for 3-8 smaller partners
    free = [p for p in partners if p.size < 1.0]
    rnd.shuffle(free)
    for d in partners[:: max(1, n // 20)]:
        take = [f for f in free[: rnd.randint(3, 8)] if f.pid != d.pid]
        free = free[len(take) :]
        d.distributor_for = [t.pid for t in take]
    return partners


def registry_csv(partners: list[DemoPartner]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(REGISTRY_SPEC.columns)
    for p in partners:
        w.writerow(
            [
                p.pid,
                p.name,
                f"finance@{p.pid.lower()}.example",
                p.segment,
                p.country,
                p.sponsor,
                "2026-01-15",
                p.cohort,
                "|".join(p.distributor_for),
                p.starting_tier,
                p.certified,
                p.iban,
                "",
                "",
            ]
        )
    return buf.getvalue().encode()


def rates_csv(rnd: random.Random) -> bytes:
    lines = ["date,currency,units_per_eur"]
    day = dt.date(2026, 7, 25)
    while day <= dt.date(2026, 10, 31):
        if day.weekday() < 5:  # ECB-style: business days only; weekends use the latest rate
            for cur, base in RATES.items():
                lines.append(
                    f"{day.isoformat()},{cur},{(base * Decimal(1 + rnd.uniform(-0.02, 0.02))).quantize(Decimal('0.0001'))}"
                )
        day += dt.timedelta(days=1)
    return ("\n".join(lines) + "\n").encode()
