"""The report's figures as text (docs/analytics-report.md): money, ratios, and the key figures a
person reads first (the demo, `loyalty report`, the finance console's close page).

Pure and DuckDB-free: the finance API reads a stored report's JSON with `key_figures` and ships
no query engine.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from loyalty.kernel.money import CTX, HUNDRED, ZERO, fmt_eur, to_cents

# the report's key figures (its "kpis" of the month and of the trailing 12 months), in reading order
KPI_KEYS = (
    "partners",
    "active_partners",
    "retention_pct",
    "net_sales",
    "commission",
    "bonuses",
    "overrides",
    "points_cost",
    "program_cost",
    "cost_per_eur",
    "payouts",
    "carried",
    "points_liability",
)
# the monthly program cost table's columns
COST_COLUMNS = (
    "period",
    "commission",
    "bonuses",
    "overrides",
    "points_cost",
    "program_cost",
    "net_sales",
    "cost_per_eur",
)
PCT_PLACES = Decimal("0.1")  # retention and uplift percentages: one decimal
COST_PLACES = Decimal("0.0001")  # cost per EUR of sales: four decimals (0.0523 = 5.23 cents)


def dec(value: Any) -> Decimal:
    """A query's money or count value as Decimal (NULL, a sum over no rows, is 0)."""
    if value is None:
        return ZERO
    return value if isinstance(value, Decimal) else Decimal(str(value))


def count(value: Any) -> int:
    return 0 if value is None else int(value)


def money(value: Any) -> str:
    """Money for the JSON: cents, half-even, as a plain decimal string ("1234.56")."""
    return format(to_cents(dec(value)), "f")


def pct(part: Any, whole: Any) -> str | None:
    """`part` as a percentage of `whole` ("87.5"), or None when there is no whole."""
    den = dec(whole)
    if den <= 0:
        return None
    return format(
        (dec(part) * HUNDRED / den).quantize(PCT_PLACES, rounding=ROUND_HALF_EVEN, context=CTX), "f"
    )


def per_eur(cost: Any, sales: Any) -> str | None:
    """Program cost per EUR of net sales ("0.0523"), or None without positive net sales."""
    den = dec(sales)
    if den <= 0:
        return None
    return format((dec(cost) / den).quantize(COST_PLACES, rounding=ROUND_HALF_EVEN, context=CTX), "f")


def _eur(text: Any) -> str:
    return "-" if text is None else fmt_eur(Decimal(str(text)))


def _pct(text: Any) -> str:
    return "-" if text is None else f"{text} %"


def _pilot(p: Mapping[str, Any]) -> tuple[str, str]:
    who = p.get("cohort") or ", ".join(p.get("segments") or []) or "scope"
    label = f"Pilot {p.get('version')} ({who}, from {p.get('start')})"
    if p.get("uplift_pct") is None:
        return label, "no estimate"
    value = f"{p['uplift_pct']} % [{p.get('pct_ci_low')}; {p.get('pct_ci_high')}]"
    roi = p.get("roi")
    value += f", ROI {roi}" if roi is not None else ", ROI -"
    if p.get("warnings"):
        value += f" ({len(p['warnings'])} warning{'s' if len(p['warnings']) != 1 else ''})"
    return label, value


def key_figures(report_json: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs: the month's and the trailing 12 months' headline figures, the
    people at risk, each pilot's uplift, and how many warnings the report carries."""
    month: Mapping[str, Any] = report_json["kpis"]["month"]
    t12: Mapping[str, Any] = report_json["kpis"]["t12"]
    out = [
        ("Period", f"{report_json['period']} (trailing 12 months from {report_json['from']})"),
        ("Active partners", f"{month['active_partners']} of {month['partners']}"),
        ("Retention, month", _pct(month["retention_pct"])),
        ("Retention, 12 months", _pct(t12["retention_pct"])),
        ("Net sales EUR", _eur(month["net_sales"])),
        ("Net sales EUR, 12 months", _eur(t12["net_sales"])),
        ("Program cost EUR", _eur(month["program_cost"])),
        ("Program cost EUR, 12 months", _eur(t12["program_cost"])),
        ("Cost per EUR of sales", month["cost_per_eur"] or "-"),
        ("Cost per EUR of sales, 12 months", t12["cost_per_eur"] or "-"),
        ("Payouts EUR", _eur(month["payouts"])),
        ("Carried EUR", _eur(month["carried"])),
        ("Points liability EUR", _eur(month["points_liability"])),
        ("Partners at risk (listed)", str(len(report_json["at_risk"]))),
    ]
    pilots: Sequence[Mapping[str, Any]] = report_json.get("pilots") or []
    out.extend(_pilot(p) for p in pilots)
    out.append(("Warnings", str(len(report_json.get("warnings") or []))))
    return out
