"""The program report of a closed month (docs/analytics-report.md): the report's queries run on any
`QueryEngine` (DuckDB over the bucket's Parquet locally and in the analytics function, Athena with
`loyalty report --aws`), turned into one JSON document (SPEC13's shape, rendered by
`loyalty.analytics.html`), CSV tables and key figures.

The queries do the reading and summing; this module does the arithmetic SQL dialects disagree on
(ratios, month gaps) in Decimal, and says in `warnings` what the figures cannot show.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from loyalty.analytics.engine import QueryEngine, load_query
from loyalty.analytics.figures import COST_COLUMNS, KPI_KEYS, key_figures
from loyalty.analytics.pilots import pilot_results, pilot_windows
from loyalty.analytics.schema import SCHEMA_VERSION
from loyalty.analytics.sections import (
    Dicts,
    activity,
    at_risk,
    cost,
    kpis,
    payouts,
    sales,
    tiers,
    top_movers,
)
from loyalty.kernel.periods import check_period, months_back
from loyalty.program.rules import RuleVersion

__all__ = [
    "REPORT_QUERIES",
    "Report",
    "build_report",
    "key_figures",
    "report_params",
    "report_periods",
    "tables_of",
]

# the queries of the report, in the order they run (pilot_panel runs once per pilot window)
REPORT_QUERIES = (
    "kpis",
    "activity",
    "tier_distribution",
    "tier_movement",
    "sales_by_segment",
    "sales_by_category",
    "sales_by_country",
    "program_cost",
    "payouts",
    "top_movers",
    "at_risk",
)


def report_params(period: str) -> dict[str, str]:
    """The parameters every report query draws from: the month, the three before it, the first
    of the trailing 12 months (`period_from`) and the month 12 before (`period_base`, for the
    12-month retention)."""
    m = months_back(check_period(period), 13)
    return {
        "period": period,
        "period_prev": m[-2],
        "period_m2": m[-3],
        "period_m3": m[-4],
        "period_from": m[1],
        "period_base": m[0],
    }


def report_periods(period: str, versions: Sequence[RuleVersion]) -> list[str]:
    """Every month whose facts the report reads: the trailing 13 months and each pilot's panel
    window (what to download before running it on DuckDB)."""
    months = set(months_back(check_period(period), 13))
    for first, last in pilot_windows(versions, period):
        month = last
        while month >= first:
            months.add(month)
            month = months_back(month, 2)[0]
    return sorted(months)


@dataclass(frozen=True)
class Report:
    period: str
    period_from: str
    generated_at: str
    kpis: dict[str, dict[str, Any]]
    activity: list[dict[str, Any]]
    tiers: dict[str, list[dict[str, Any]]]
    sales: dict[str, list[dict[str, Any]]]
    cost: list[dict[str, Any]]
    payouts: list[dict[str, Any]]
    top_movers: dict[str, list[dict[str, Any]]]
    at_risk: list[dict[str, Any]]
    pilots: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The report as JSON (money and ratios as strings; keys as in SPEC13, lists may be empty)."""
        return copy.deepcopy(
            {
                "period": self.period,
                "from": self.period_from,
                "schema_version": SCHEMA_VERSION,
                "generated_at": self.generated_at,
                "kpis": self.kpis,
                "activity": self.activity,
                "tiers": self.tiers,
                "sales": self.sales,
                "cost": self.cost,
                "payouts": self.payouts,
                "top_movers": self.top_movers,
                "at_risk": self.at_risk,
                "pilots": self.pilots,
                "warnings": self.warnings,
            }
        )

    def tables(self) -> dict[str, tuple[list[str], list[list[str]]]]:
        """One table per section (headers, rows of text) for `loyalty report --csv DIR`."""
        return tables_of(self.to_json())


def build_report(
    engine: QueryEngine, period: str, versions: Sequence[RuleVersion], generated_at: str
) -> Report:
    """Run the report's queries for `period` and assemble the report."""
    params = report_params(period)
    rows: dict[str, Dicts] = {n: engine.run(load_query(n), params).dicts() for n in REPORT_QUERIES}
    warnings: list[str] = []
    months, present = activity(rows["activity"], params)
    _history_warnings(params, present, warnings)
    movers = top_movers(rows["top_movers"])
    if params["period"] in present and params["period_prev"] not in present:
        movers = {"up": [], "down": []}
        warnings.append(f"no facts for {params['period_prev']}: no top movers (nothing to compare with)")
    risk, total = at_risk(rows["at_risk"], params)
    if total > len(risk):
        warnings.append(f"{total} partners at risk; the {len(risk)} with the largest fall are listed")
    pilots = pilot_results(engine, versions, period)
    return Report(
        period=period,
        period_from=params["period_from"],
        generated_at=generated_at,
        kpis=kpis(rows["kpis"]),
        activity=months,
        tiers=tiers(rows["tier_distribution"], rows["tier_movement"], versions, period),
        sales=sales(rows["sales_by_segment"], rows["sales_by_category"], rows["sales_by_country"]),
        cost=cost(rows["program_cost"]),
        payouts=payouts(rows["payouts"]),
        top_movers=movers,
        at_risk=risk,
        pilots=pilots,
        warnings=warnings,
    )


def _history_warnings(params: Mapping[str, str], present: set[str], warnings: list[str]) -> None:
    period = params["period"]
    if period not in present:
        warnings.append(f"no facts for {period}: is its close done? The month's figures are empty")
    window = months_back(period, 12)
    have = [m for m in window if m in present]
    if len(have) < len(window):
        missing = [m for m in window if m not in present]
        warnings.append(
            f"only {len(have)} of the 12 months {window[0]}..{period} have facts: the 12-month "
            f"figures cover those (missing: {', '.join(missing)})"
        )
    if params["period_base"] not in present:
        warnings.append(f"no facts for {params['period_base']}: no 12-month retention")
    if period in present and params["period_prev"] not in present:
        warnings.append(f"no facts for {params['period_prev']}: no month retention")


# -- tables (CSV) ---------------------------------------------------------------------------------
def _cells(row: Mapping[str, Any], keys: Sequence[str]) -> list[str]:
    return ["" if row.get(k) is None else str(row[k]) for k in keys]


def _table(rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> tuple[list[str], list[list[str]]]:
    return list(keys), [_cells(r, keys) for r in rows]


MOVER_KEYS = ("partner_id", "segment", "net_sales", "previous", "change")
PILOT_KEYS = (
    "version",
    "cohort",
    "segments",
    "start",
    "period",
    "pilot_partners",
    "control_partners",
    "pre_months",
    "post_months",
    "uplift_eur",
    "ci_low",
    "ci_high",
    "uplift_pct",
    "pct_ci_low",
    "pct_ci_high",
    "p_value",
    "incremental_sales",
    "incremental_margin",
    "incremental_cost",
    "roi",
    "gross_margin_rate",
    "method",
    "warnings",
)


def _flat(value: Any) -> Any:
    return "; ".join(str(v) for v in value) if isinstance(value, list) else value


def tables_of(doc: Mapping[str, Any]) -> dict[str, tuple[list[str], list[list[str]]]]:
    """The report JSON as tables of text, one per section."""
    k = doc["kpis"]
    out: dict[str, tuple[list[str], list[list[str]]]] = {
        "kpis": (["figure", "month", "t12"], [[key, *_kpi(k, key)] for key in KPI_KEYS]),
        "activity": _table(doc["activity"], ("period", "partners", "active", "retained", "retention_pct")),
        "tier_distribution": _table(doc["tiers"]["distribution"], ("tier", "partners")),
        "tier_movement": _table(doc["tiers"]["movement"], ("from", "to", "partners")),
    }
    for dim in ("segment", "category", "country"):
        out[f"sales_by_{dim}"] = _table(doc["sales"][f"by_{dim}"], (dim, "net_sales", "t12"))
    out["cost"] = _table(doc["cost"], COST_COLUMNS)
    out["payouts"] = _table(doc["payouts"], ("period", "payout", "carried", "paid_partners"))
    movers = [{"direction": d, **m} for d in ("up", "down") for m in doc["top_movers"][d]]
    out["top_movers"] = _table(movers, ("direction", *MOVER_KEYS))
    risk_rows = [
        [r["partner_id"], r["segment"], *(m["net_sales"] for m in r["months"])] for r in doc["at_risk"]
    ]
    out["at_risk"] = (["partner_id", "segment", *months_back(doc["period"], 4)], risk_rows)
    pilots = [{key: _flat(p.get(key)) for key in PILOT_KEYS} for p in doc["pilots"]]
    out["pilots"] = _table(pilots, PILOT_KEYS)
    out["warnings"] = (["warning"], [[w] for w in doc["warnings"]])
    return out


def _kpi(k: Mapping[str, Any], key: str) -> list[str]:
    return [_cells(k["month"], (key,))[0], _cells(k["t12"], (key,))[0]]
