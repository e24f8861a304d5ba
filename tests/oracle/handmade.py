"""Small hand-sized programs laid out like the upload bucket, for the oracle's rule-by-rule tests.

`write(root, partners, sales, …)` lays one out; `rules(**changes)` is a version of the BASE rules;
`column(result, pid, field)` reads one figure across the closed periods. Standard library + yaml only.
"""

from __future__ import annotations

import copy
import pathlib
from typing import Any

import yaml

PERIODS = ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
REGISTRY = "partner_id,name,email,segment,country,sponsor_id,joined_on,cohort,distributor_for,"
REGISTRY += "starting_tier,certified,iban,bic"
SALES = "sale_id,partner_id,sold_at,sku,quantity,unit_price,currency,category,customer_id,"
SALES += "original_sale_id"
TARGETS = "target_id,scope,scope_value,metric,category,interval,period,goal,month_goals,bonus_eur,"
TARGETS += "bands,method,version,effective_from"

BASE: dict[str, Any] = {
    "program": "default",
    "version": "V1",
    "effective_from": "2026-01-01",
    "currency": "EUR",
    "tiers": [
        {"name": "Bronze", "threshold_eur": "0", "commission_pct": "2"},
        {"name": "Silver", "threshold_eur": "25000", "commission_pct": "3"},
        {"name": "Gold", "threshold_eur": "100000", "commission_pct": "4"},
        {"name": "Platinum", "threshold_eur": "250000", "commission_pct": "5"}
        | {"requires_certifications": {"CERT-SALES": 1}},
    ],
    "tier_review": {"window_months": 3, "downgrade_after_reviews": 2},
    "category_bonus_pct": {"services": "1"},
    "holding_days": 0,
    "minimum_payout_eur": "0",
    "override": {"level_pct": ["1", "0.5"], "requires_positive_own_sales": True, "max_depth": 2},
    "targets": {"enabled": True, "trueup_months": 3},
    "payouts": {"first_close_period": "2026-01"},
}


def rules(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(BASE)
    doc.update(changes)
    return doc


def partner(pid: str, **fields: str) -> dict[str, str]:
    return {"pid": pid, **fields}


def write(
    root: pathlib.Path,
    partners: list[dict[str, str]],
    sales: list[list[str]],
    versions: list[dict[str, Any]] | None = None,
    rates: list[str] | None = None,
    targets: list[str] | None = None,
) -> pathlib.Path:
    """Lay a small program out like the bucket; a sales row is [id, partner, day, qty, price, …]."""

    def put(name: str, header: str, rows: list[str]) -> None:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("\n".join([header, *rows]) + "\n")

    registry = [
        f"{p['pid']},Name,{p['pid']}@example.com,{p.get('segment', 'SMB')},DE,{p.get('sponsor', '')},"
        f"2025-01-01,{p.get('cohort', '')},,{p.get('starting_tier', '')},{p.get('certified', '')},"
        "DE89370400440532013000,COBADEFFXXX"
        for p in partners
    ]
    put("registry/partners.csv", REGISTRY, registry)
    put("rates/rates.csv", "date,currency,units_per_eur", rates or [])
    put("targets/targets.csv", TARGETS, [f"{t},T1,2026-01-01" for t in targets or []])
    for n, doc in enumerate(versions or [rules()]):
        (root / "rules").mkdir(exist_ok=True)
        (root / "rules" / f"v{n}.yaml").write_text(yaml.safe_dump(doc))
    by_partner: dict[str, list[str]] = {}
    for row in sales:
        sale_id, pid, day, qty, price, *rest = row
        currency, category, customer, original = rest + ["EUR", "hardware", "", ""][len(rest) :]
        by_partner.setdefault(pid, []).append(
            f"{sale_id},{pid},{day},SKU-1,{qty},{price},{currency},{category},{customer},{original}"
        )
    for pid, lines in by_partner.items():
        put(f"incoming/{pid}/sales.csv", SALES, lines)
    return root


def column(result: dict[str, dict[str, dict[str, str]]], pid: str, name: str) -> list[str]:
    return [result[pid][period][name] for period in sorted(result[pid])]
