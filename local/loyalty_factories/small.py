"""The small program of the tests: the default rules, three partners and a distributor (one of its
partners unknown), USD rates, and a builder for sales files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RULES = (ROOT / "rules/default-program.yaml").read_bytes()
REGISTRY = (
    b"partner_id,name,email,segment,country,sponsor_id,joined_on,cohort,distributor_for,starting_tier\n"
    b"P00001,Acme Systems,finance@acme.example,smb,DE,,2026-01-01,,,\n"
    b"P00002,Beta IT,finance@beta.example,smb,DE,P00001,2026-01-01,pilot,,Silver\n"
    b"P00003,Gamma Trade,finance@gamma.example,enterprise,US,P00002,2026-01-01,control,,\n"
    b"D00001,Delta Distribution,ops@delta.example,distribution,NL,,2026-01-01,,P00003|P99999,\n"
)
RATES = b"date,currency,units_per_eur\n2026-09-01,USD,1.10\n2026-10-01,USD,1.08\n2026-10-15,USD,1.12\n"
SALES_HEADER = (
    "sale_id,partner_id,sold_at,sku,quantity,unit_price,currency,category,customer_id,original_sale_id"
)


def sales_csv(rows: list[list[Any]], header: str | None = None, delimiter: str = ",") -> bytes:
    """A sales file from rows of values (`header`: another header line, comma-separated)."""
    head = header or SALES_HEADER
    lines = [head.replace(",", delimiter)] + [delimiter.join(str(v) for v in r) for r in rows]
    return ("\n".join(lines) + "\n").encode()
