"""A deterministic 6-month program (2026-01..2026-06) laid out like the upload bucket.

`generate(root, seed)` writes registry/, rates/, rules/, targets/ and incoming/<partner>/2026-MM.csv
and returns the periods to close. Scripted partners exercise each rule (docs/oracle.md lists them);
the rest are random fillers drawn from `random.Random(seed)`, so the same seed gives the same bytes.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import pathlib
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal

PERIODS = [f"2026-{m:02d}" for m in range(1, 7)]
IBAN, BIC = "DE89370400440532013000", "COBADEFFXXX"
USD_PER_EUR = Decimal("1.08")
SKUS = {
    "HW-100": "hardware",
    "HW-200": "hardware",
    "SW-10": "software",
    "SW-20": "software",
    "SV-1": "services",
    "SV-2": "services",
}
VOLUME = {"SMB": (2000, 9000, 6), "MID": (10000, 35000, 10), "ENT": (35000, 110000, 14)}
REGISTRY_HEADER = [
    *("partner_id", "name", "email", "segment", "country", "sponsor_id", "joined_on", "cohort"),
    *("distributor_for", "starting_tier", "certified", "iban", "bic"),
]
SALES_HEADER = [
    "sale_id",
    "partner_id",
    "sold_at",
    "sku",
    "quantity",
    "unit_price",
    "currency",
    "category",
    "customer_id",
    "original_sale_id",
]

RULES_COMMON = """\
currency: EUR
tier_review:
  window_months: 3
  downgrade_after_reviews: 2
returns:
  lookback_months: 12
override:
  level_pct: ["1", "0.5", "0.25"]
  requires_positive_own_sales: true
  max_depth: 2
  min_own_net_eur: "0"
points:
  eur_per_point: "10"
  course_points: 500
  expiry_months: 12
targets:
  enabled: true
  trueup_months: 3
"""


def _tiers(rows: list[tuple[str, str, str, str]]) -> str:
    out = ["tiers:"]
    for name, threshold, pct, multiplier in rows:
        out += [
            f"  - name: {name}",
            f'    threshold_eur: "{threshold}"',
            f'    commission_pct: "{pct}"',
            f'    points_multiplier: "{multiplier}"',
        ]
        if name == "Platinum":
            out += ["    requires_certifications:", "      CERT-SALES: 1"]
    return "\n".join(out) + "\n"


DEFAULT_RULES = (
    'program: default\nversion: "2026.1"\neffective_from: 2026-01-01\n'
    "description: General version of the generated oracle program.\n"
    + _tiers(
        [
            ("Bronze", "0", "2", "1"),
            ("Silver", "25000", "3", "1.25"),
            ("Gold", "100000", "4", "1.5"),
            ("Platinum", "250000", "5", "2"),
        ]
    )
    + 'category_bonus_pct:\n  services: "1"\nholding_days: 30\nminimum_payout_eur: "50"\n'
    + RULES_COMMON
    + 'payouts:\n  first_close_period: "2026-01"\n'
)
PILOT_RULES = (
    'program: default\nversion: "2026.1-pilot-a"\neffective_from: 2026-03-01\n'
    "description: Pilot for cohort pilot-a (richer rates, lower thresholds, longer holding).\n"
    "scope:\n  cohort: pilot-a\n"
    + _tiers(
        [
            ("Bronze", "0", "2.5", "1"),
            ("Silver", "20000", "3.5", "1.25"),
            ("Gold", "80000", "4.5", "1.5"),
            ("Platinum", "200000", "5.5", "2"),
        ]
    )
    + 'category_bonus_pct:\n  services: "1.5"\nholding_days: 45\nminimum_payout_eur: "100"\n'
    + RULES_COMMON
)

TARGET_HEADER = (
    "target_id,scope,scope_value,metric,category,interval,period,goal,month_goals,bonus_eur,"
    "bands,method,version,effective_from"
)
TARGETS = [
    f"T-{seg}-{q},segment,{seg},net_sales,,quarter,2026-{q},{goal},,{bonus},100:100|120:150,flat"
    for seg, goal, bonus in (("SMB", 15000, 150), ("MID", 60000, 400), ("ENT", 200000, 1000))
    for q in ("Q1", "Q2")
] + [
    "T-P010-Q2,partner,P010,net_sales,,quarter,2026-Q2,50000,,500,0:100|100:200,step",
    "T-PILOT-Q2,cohort,pilot-a,net_sales,,quarter,2026-Q2,40000,,300,80:50|100:100|150:200,interpolated",
    "T-NEWC-SMB-02,segment,SMB,new_customers,,month,2026-02,4,,100,,flat",
    "T-NEWC-MID-05,segment,MID,new_customers,,month,2026-05,6,,150,,flat",
]


@dataclass
class Spec:
    """One partner of the generated program and how its sales are drawn."""

    pid: str
    segment: str
    sponsor: str = ""
    cohort: str = ""
    starting_tier: str = ""
    certified: str = ""
    currency: str = "EUR"  # EUR, USD or MIX
    plan: list[int] | None = None  # EUR totals per month; None = random by segment
    returns: bool = False
    extra: list[list[str]] = field(default_factory=list)


def _specs() -> list[Spec]:
    s = [
        Spec("P001", "MID", plan=[20000, 18000, 22000, 0, 25000, 21000]),  # tree root, Apr idle
        Spec("P002", "MID", sponsor="P001"),
        Spec("P003", "SMB", sponsor="P002"),
        Spec("P004", "SMB", sponsor="P003"),  # level 3 of P001: beyond the cap
        Spec("P005", "SMB", sponsor="P002", plan=[0] * 6),  # clawback, negative March
        Spec("P006", "ENT", starting_tier="Gold", plan=[105000, 10000, 10000, 6000, 95000, 30000]),
        Spec("P007", "ENT", starting_tier="Gold", plan=[105000, 12000, 12000, 8000, 8000, 40000]),
        Spec("P008", "ENT", plan=[90000] * 6),  # Platinum sales, no CERT-SALES
        Spec("P009", "ENT", certified="CERT-SALES:1", plan=[90000] * 6),
        Spec("P010", "MID", plan=[8000, 12000, 15000, 20000, 20000, 20000]),  # upgrade, step target
        Spec("P011", "SMB", cohort="pilot-a", returns=True),
        Spec("P012", "MID", cohort="pilot-a"),
        Spec("P013", "ENT", cohort="pilot-a", starting_tier="Silver"),
        Spec("P014", "SMB", cohort="pilot-a", plan=[1500, 1200, 1800, 1400, 1600, 1300]),
        Spec("P015", "MID", cohort="Pilot-A", returns=True),  # cohort matched case-insensitively
        Spec("P016", "ENT", cohort="pilot-a", currency="USD"),
        Spec("P017", "ENT", currency="USD", returns=True),
        Spec("P018", "MID", currency="MIX"),
        Spec("P019", "MID", currency="USD", returns=True),
        Spec("P020", "SMB", currency="USD"),
        Spec("P021", "SMB", plan=[600, 500, 700, 400, 650, 550]),  # below the minimum payout
        Spec("P022", "SMB", plan=[300, 400, 350, 500, 450, 300]),
        Spec("P023", "SMB", plan=[900, 1100, 800, 1200, 1000, 900]),
        Spec("P024", "SMB", plan=[1500, 0, 1500, 0, 1500, 0]),
        Spec("P025", "SMB", plan=[400, 400, 400, 400, 400, 400], currency="USD"),
    ]
    segments = ["SMB", "MID", "ENT"]
    for n in range(26, 41):
        s.append(Spec(f"P{n:03d}", segments[n % 3], returns=n % 2 == 0))
    tree = {"P027": "P026", "P028": "P027", "P029": "P026"}
    for spec in s:
        spec.sponsor = tree.get(spec.pid, spec.sponsor)
    s[29].starting_tier = "Silver"  # P030
    s[30].starting_tier = "Silver"  # P031
    s[32].certified = "CERT-SALES:2"  # P033
    s[33].certified = "OTHER:1|CERT-SALES:1"  # P034
    ret = "P005-202601-001"
    s[4].extra = [  # P005: a Jan sale paid at the Jan close, returned in March (after payout)
        ["P005-202601-001", "2026-01-01", "HW-100", "10", "1000.00", "EUR", "C-P005-001", ""],
        ["P005-202602-001", "2026-02-10", "HW-200", "2", "250.00", "EUR", "C-P005-002", ""],
        ["P005-202603-R01", "2026-03-10", "HW-100", "-10", "1000.00", "EUR", "C-P005-001", ret],
        ["P005-202605-001", "2026-05-01", "HW-100", "15", "1000.00", "EUR", "C-P005-003", ""],
        ["P005-202606-001", "2026-06-15", "SW-10", "2", "150.00", "EUR", "C-P005-003", ""],
    ]
    s[20].extra = [  # P021: the holding edge (Jan 29 + 30 = Feb 28) and two closes later
        ["P021-202601-E01", "2026-01-29", "SV-1", "3", "100.00", "EUR", "C-P021-001", ""],
        ["P021-202601-E02", "2026-01-30", "SV-1", "2", "100.00", "EUR", "C-P021-001", ""],
    ]
    s[16].extra = [  # P017: a Sunday sale (no rate that day: Friday's rate applies)
        ["P017-202601-S01", "2026-01-04", "SW-20", "3", "1234.57", "USD", "C-P017-001", ""],
    ]
    return s


def _rates(rng: random.Random) -> str:
    lines, rate, day = ["date,currency,units_per_eur"], Decimal("1.0850"), dt.date(2025, 12, 31)
    holidays = {dt.date(2026, 4, 3), dt.date(2026, 5, 1)}
    while day <= dt.date(2026, 6, 30):
        if day.weekday() < 5 and day not in holidays:  # weekends/holidays: latest earlier rate
            rate += Decimal(rng.randint(-40, 40)) / 10000
            lines.append(f"{day.isoformat()},USD,{rate}")
        day += dt.timedelta(days=1)
    return "\n".join(lines) + "\n"


def _price(amount: Decimal, qty: int, usd: bool, fine: bool) -> str:
    value = amount * (USD_PER_EUR if usd else 1) / qty
    price = value.quantize(Decimal("0.001" if fine else "0.01"), rounding=ROUND_HALF_EVEN)
    return str(max(price, Decimal("0.01")))


def _month_rows(rng: random.Random, spec: Spec, index: int) -> list[list[str]]:
    year, month = 2026, index + 1
    low, high, count = VOLUME[spec.segment]
    total = Decimal(spec.plan[index] if spec.plan else rng.randint(low, high))
    if total == 0:
        return []
    weights = [rng.randint(1, 10) for _ in range(count)]
    rows = []
    for n, weight in enumerate(weights, start=1):
        sku = rng.choice(sorted(SKUS))
        qty = rng.randint(1, 8)
        usd = spec.currency == "USD" or (spec.currency == "MIX" and n % 2 == 0)
        price = _price(total * weight / sum(weights), qty, usd, SKUS[sku] == "services" and n == 1)
        day = dt.date(year, month, rng.randint(1, calendar.monthrange(year, month)[1]))
        customer = f"C-{spec.pid}-{rng.randint(1, 3 + 3 * month):03d}"
        sale_id = f"{spec.pid}-{year}{month:02d}-{n:03d}"
        currency = "USD" if usd else "EUR"
        rows.append([sale_id, day.isoformat(), sku, str(qty), price, currency, customer, ""])
    return rows


def _return_row(rng: random.Random, spec: Spec, index: int, earlier: list[list[str]]) -> list[str]:
    original = earlier.pop(rng.randrange(len(earlier)))
    month = index + 1
    day = dt.date(2026, month, rng.randint(1, calendar.monthrange(2026, month)[1]))
    qty = rng.randint(1, int(original[3]))
    sale_id = f"{spec.pid}-2026{month:02d}-R01"
    return [sale_id, day.isoformat(), original[2], str(-qty), *original[4:7], original[0]]


def _write_csv(path: pathlib.Path, header: list[str], rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue().encode("utf-8"))


def _registry(specs: list[Spec]) -> list[list[str]]:
    countries = ["DE", "FR", "PL", "IT"]
    return [
        [
            *(spec.pid, f"Partner {spec.pid[1:]}", f"{spec.pid.lower()}@example.com", spec.segment),
            *(countries[n % 4], spec.sponsor, f"2025-{n % 12 + 1:02d}-15", spec.cohort, ""),
            *(spec.starting_tier, spec.certified, IBAN, BIC),
        ]
        for n, spec in enumerate(specs)
    ]


def generate(root: pathlib.Path, seed: int = 10) -> list[str]:
    """Write the generated program under `root` and return its periods (2026-01..2026-06)."""
    rng = random.Random(seed)
    specs = _specs()
    _write_csv(
        root / "registry" / "partners.csv",
        REGISTRY_HEADER,
        _registry(specs),
    )
    (root / "rates").mkdir(parents=True, exist_ok=True)
    (root / "rates" / "rates.csv").write_bytes(_rates(rng).encode("utf-8"))
    (root / "rules").mkdir(parents=True, exist_ok=True)
    (root / "rules" / "default.yaml").write_bytes(DEFAULT_RULES.encode("utf-8"))
    (root / "rules" / "pilot-a.yaml").write_bytes(PILOT_RULES.encode("utf-8"))
    (root / "targets").mkdir(parents=True, exist_ok=True)
    targets = [f"{row},T1,2026-01-01" for row in TARGETS]
    (root / "targets" / "targets.csv").write_bytes("\n".join([TARGET_HEADER, *targets, ""]).encode("utf-8"))
    for spec in specs:
        earlier: list[list[str]] = []
        for index, period in enumerate(PERIODS):
            rows = _month_rows(rng, spec, index)
            if spec.returns and earlier and rng.random() < 0.5:
                rows.append(_return_row(rng, spec, index, earlier))
            rows += [row for row in spec.extra if row[1][:7] == period]
            earlier += [row for row in rows if int(row[3]) > 0]
            rows.sort(key=lambda row: (row[1], row[0]))
            if not rows:  # no file at all for an idle month (a header-only file is "empty")
                continue
            _write_csv(
                root / "incoming" / spec.pid / f"{period}.csv",
                SALES_HEADER,
                [[r[0], spec.pid, *r[1:5], r[5], SKUS[r[2]], *r[6:8]] for r in rows],
            )
    return list(PERIODS)
