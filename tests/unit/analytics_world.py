"""A small hand-made set of facts whose report figures are worked out by hand in the tests.

Report month 2026-10 (trailing 12 months from 2025-11, retention base 2025-10). Facts exist for
2025-10 and 2026-07..2026-10 only. Net sales per partner (lines > 0 unless said):

    partner segment    country  2025-10  2026-07      2026-08  2026-09  2026-10
    A       smb        DE       1000     4000         3000     2000     1000      falling 3 months
    B       enterprise FR        500      300          400      350      600
    C       smb        DE          0q        0q          0q     100        0q     q = quiet (no lines)
    D       smb        AT          -       900          800      700      700      (not strictly)
    E       enterprise FR          -         -            -        -      250      new this month
    F       public     DE          -         0q         -10      -20      -30      returns only
    G       smb        DE        200         -            -        -        -      left after base
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from loyalty.analytics.parquet import write_parquet
from loyalty.analytics.schema import LINE_MONTH, PARTNER_MONTH, SCHEMA_VERSION
from loyalty.program.rules import parse_rules

REPO = Path(__file__).resolve().parents[2]
SEGMENT = {
    "A": "smb",
    "B": "enterprise",
    "C": "smb",
    "D": "smb",
    "E": "enterprise",
    "F": "public",
    "G": "smb",
}
COUNTRY = {"A": "DE", "B": "FR", "C": "DE", "D": "AT", "E": "FR", "F": "DE", "G": "DE"}
SALES: dict[str, dict[str, int]] = {
    "2025-10": {"A": 1000, "B": 500, "C": 0, "G": 200},
    "2026-07": {"A": 4000, "B": 300, "C": 0, "D": 900, "F": 0},
    "2026-08": {"A": 3000, "B": 400, "C": 0, "D": 800, "F": -10},
    "2026-09": {"A": 2000, "B": 350, "C": 100, "D": 700, "F": -20},
    "2026-10": {"A": 1000, "B": 600, "C": 0, "D": 700, "E": 250, "F": -30},
}
# the money other than net sales (EUR), by (period, partner)
EXTRA: dict[tuple[str, str], dict[str, str]] = {
    ("2026-10", "A"): {
        "commission": "20.00",
        "points_cost": "1.50",
        "payout": "500.00",
        "points_liability": "12.34",
    },
    ("2026-10", "B"): {
        "commission": "12.00",
        "bonuses": "100.00",
        "carried": "40.00",
        "points_liability": "0.66",
    },
    ("2026-10", "D"): {"commission": "14.00", "overrides": "3.25", "payout": "60.00"},
    ("2026-10", "E"): {"commission": "5.00"},
    ("2026-09", "A"): {"commission": "40.00"},
}
# tiers of the month 2026-10: (tier_before, tier_after)
TIERS = {
    "A": ("Gold", "Silver"),
    "B": ("Silver", "Silver"),
    "C": ("Bronze", "Bronze"),
    "D": ("Silver", "Gold"),
    "E": ("Bronze", "Bronze"),
    "F": ("Bronze", "Bronze"),
}
# line aggregates: (period, category, currency, net_sales EUR)
LINES = [
    ("2025-10", "hardware", "EUR", "999.00"),
    ("2026-09", "hardware", "EUR", "3000.00"),
    ("2026-10", "hardware", "EUR", "1000.00"),
    ("2026-10", "hardware", "USD", "500.00"),
    ("2026-10", "software", "EUR", "800.00"),
    ("2026-10", "services", "EUR", "220.00"),
]


def partner_row(partner: str, period: str, net: Any, **kw: Any) -> dict[str, Any]:
    quiet = Decimal(str(net)) == 0 and not kw.get("lines")
    before, after = TIERS.get(partner, ("Bronze", "Bronze")) if period == "2026-10" else ("Bronze", "Bronze")
    row: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "partner_id": partner,
        "segment": SEGMENT.get(partner, "smb"),
        "country": COUNTRY.get(partner, "DE"),
        "cohort": "",
        "joined": "2025-01",
        "rule_version": "2026.1",
        "tier_before": before,
        "tier_after": after,
        "tier_change": "hold",
        "net_sales": str(net),
        "lines": 0 if quiet else 3,
        "returns": 1 if Decimal(str(net)) < 0 else 0,
        "new_customers": 0,
        "commission": "0",
        "bonuses": "0",
        "overrides": "0",
        "points_earned": 0,
        "points_spent": 0,
        "points_expired": 0,
        "points_balance": 0,
        "points_cost": "0",
        "points_liability": "0",
        "payout": "0",
        "carried": "0",
        "state": "quiet" if quiet else "carried",
    }
    row.update(kw)
    return row


def line_row(category: str, currency: str, net: str, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "segment": "smb",
        "country": "DE",
        "category": category,
        "currency": currency,
        "partners": 1,
        "lines": 2,
        "returns": 0,
        "net_amount": net,
        "net_sales": net,
        "commission": "0",
    }
    row.update(kw)
    return row


def write_facts(
    root: Path,
    partner_months: Mapping[str, Iterable[Mapping[str, Any]]],
    line_months: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
) -> Path:
    """Parquet of the given rows per period under `root/analytics/v1/...` (one part per period)."""
    for period, rows in partner_months.items():
        write_parquet(PARTNER_MONTH, rows, root / PARTNER_MONTH.part_key(period, 0))
    for period, rows in (line_months or {}).items():
        write_parquet(LINE_MONTH, rows, root / LINE_MONTH.part_key(period, 0))
    return root


def world_rows() -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]]]:
    pm: dict[str, list[dict[str, Any]]] = {}
    for period, sales in SALES.items():
        pm[period] = [partner_row(p, period, net, **EXTRA.get((period, p), {})) for p, net in sales.items()]
    lm: dict[str, list[dict[str, Any]]] = {}
    for period, category, currency, net in LINES:
        lm.setdefault(period, []).append(line_row(category, currency, net))
    return pm, lm


def write_world(root: Path) -> Path:
    pm, lm = world_rows()
    return write_facts(root, pm, lm)


def default_rules() -> Any:
    return parse_rules((REPO / "rules" / "default-program.yaml").read_text(encoding="utf-8"))
