"""The report's sections from its queries' rows (docs/analytics-report.md, "Definitions"): money
to cents as strings, counts as ints, ratios computed here in Decimal (never in SQL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from loyalty.analytics.figures import count, dec, money, pct, per_eur
from loyalty.kernel.periods import cutoff, months_back
from loyalty.program.rules import RuleBook, RuleVersion

Dicts = list[dict[str, Any]]
MONEY_KPIS = ("net_sales", "commission", "bonuses", "overrides", "points_cost", "payouts", "carried")


def kpis(rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """{"month": K, "t12": K} from the kpis query's two rows (scope month | t12)."""
    by_scope = {r["scope"]: r for r in rows}
    out: dict[str, dict[str, Any]] = {}
    for scope in ("month", "t12"):
        r = by_scope.get(scope, {})
        program_cost = sum(
            (dec(r.get(k)) for k in ("commission", "bonuses", "overrides", "points_cost")), dec(0)
        )
        out[scope] = {
            "partners": count(r.get("partners")),
            "active_partners": count(r.get("active_partners")),
            "retention_pct": pct(r.get("retained"), r.get("retention_base")),
            **{k: money(r.get(k)) for k in MONEY_KPIS if k not in ("payouts", "carried")},
            "program_cost": money(program_cost),
            "cost_per_eur": per_eur(program_cost, r.get("net_sales")),
            "payouts": money(r.get("payouts")),
            "carried": money(r.get("carried")),
            "points_liability": money(r.get("points_liability")),
        }
    return out


def activity(rows: Sequence[Mapping[str, Any]], params: Mapping[str, str]) -> tuple[Dicts, set[str]]:
    """The trailing 12 months with facts (partners, active, retained, retention %), and every month
    the query saw (the base month 12 before included)."""
    by_period = {r["period"]: r for r in rows}
    out: Dicts = []
    for month in months_back(params["period"], 12):
        r = by_period.get(month)
        if r is None:
            continue
        prev = by_period.get(months_back(month, 2)[0])
        out.append(
            {
                "period": month,
                "partners": count(r["partners"]),
                "active": count(r["active"]),
                "retained": count(r["retained"]),
                "retention_pct": pct(r["retained"], prev["active"]) if prev is not None else None,
            }
        )
    return out, set(by_period)


def _tier_order(versions: Sequence[RuleVersion], period: str) -> list[str]:
    """The tiers entry-first as the rules in effect at the month's end name them (then any other
    version's tiers in their order)."""
    order: list[str] = []
    book = RuleBook(versions)
    try:
        current = [book.in_effect(cutoff(period))]
    except LookupError:
        current = []
    for v in [*current, *sorted(versions, key=lambda v: (v.effective_from, v.version), reverse=True)]:
        order.extend(t.name for t in v.tiers if t.name not in order)
    return order


def tiers(
    distribution: Sequence[Mapping[str, Any]],
    movement: Sequence[Mapping[str, Any]],
    versions: Sequence[RuleVersion],
    period: str,
) -> dict[str, Dicts]:
    order = _tier_order(versions, period)

    def rank(name: Any) -> tuple[int, str]:
        text = "" if name is None else str(name)
        return (order.index(text), "") if text in order else (len(order), text)

    dist = sorted(distribution, key=lambda r: rank(r["tier"]))
    moves = sorted(movement, key=lambda r: (rank(r["tier_before"]), rank(r["tier_after"])))
    return {
        "distribution": [{"tier": r["tier"], "partners": count(r["partners"])} for r in dist],
        "movement": [
            {"from": r["tier_before"], "to": r["tier_after"], "partners": count(r["partners"])} for r in moves
        ],
    }


def sales(
    by_segment: Sequence[Mapping[str, Any]],
    by_category: Sequence[Mapping[str, Any]],
    by_country: Sequence[Mapping[str, Any]],
) -> dict[str, Dicts]:
    def rows(rs: Sequence[Mapping[str, Any]], key: str) -> Dicts:
        return [{key: r[key], "net_sales": money(r["net_sales"]), "t12": money(r["t12"])} for r in rs]

    return {
        "by_segment": rows(by_segment, "segment"),
        "by_category": rows(by_category, "category"),
        "by_country": rows(by_country, "country"),
    }


def cost(rows: Sequence[Mapping[str, Any]]) -> Dicts:
    return [
        {
            "period": r["period"],
            **{k: money(r[k]) for k in ("commission", "bonuses", "overrides", "points_cost", "program_cost")},
            "net_sales": money(r["net_sales"]),
            "cost_per_eur": per_eur(r["program_cost"], r["net_sales"]),
        }
        for r in rows
    ]


def payouts(rows: Sequence[Mapping[str, Any]]) -> Dicts:
    return [
        {
            "period": r["period"],
            "payout": money(r["payout"]),
            "carried": money(r["carried"]),
            "paid_partners": count(r["paid_partners"]),
        }
        for r in rows
    ]


def top_movers(rows: Sequence[Mapping[str, Any]]) -> dict[str, Dicts]:
    out: dict[str, Dicts] = {"up": [], "down": []}
    for r in sorted(rows, key=lambda r: (r["direction"], count(r["place"]))):
        out[r["direction"]].append(
            {
                "partner_id": r["partner_id"],
                "segment": r["segment"],
                "net_sales": money(r["net_sales"]),
                "previous": money(r["previous"]),
                "change": money(r["delta"]),
            }
        )
    return out


def at_risk(rows: Sequence[Mapping[str, Any]], params: Mapping[str, str]) -> tuple[Dicts, int]:
    """The listed partners at risk (four months each, oldest first) and how many there are."""
    months = months_back(params["period"], 4)
    listed = [
        {
            "partner_id": r["partner_id"],
            "segment": r["segment"],
            "months": [{"period": m, "net_sales": money(r[f"sales_m{3 - i}"])} for i, m in enumerate(months)],
        }
        for r in rows
    ]
    total = max((count(r["at_risk_total"]) for r in rows), default=0)
    return listed, total


def iso_now() -> str:
    """A generated_at stamp ("2026-11-01T02:10:00Z")."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
