"""A program analytics report of the shape `loyalty.analytics.report.Report.to_json()` writes
(SPEC13): October 2026 and the 12 months before it, four tiers, movers, partners at risk and two
pilots (one with too few partners and differing pre-trends: warnings). Figures are made up but
consistent (program cost = its parts, cost per EUR = cost / sales, retention = retained /
active the month before)."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from loyalty.kernel.periods import months_back

PERIOD = "2026-10"
CENT = Decimal("0.01")


def _m(x: Decimal) -> str:
    return str(x.quantize(CENT))


def _months() -> list[str]:
    return list(months_back(PERIOD, 12))


def _cost(i: int, period: str) -> dict[str, str]:
    sales = Decimal(3_200_000 + 95_000 * i + (140_000 if i % 4 == 3 else 0))
    commission = sales * Decimal("0.031")
    bonuses = Decimal(18_000 + 1_500 * i)
    overrides = Decimal(6_200 + 230 * i)
    points = Decimal(9_000 + 410 * (i % 5))
    cost = commission + bonuses + overrides + points
    return {
        "period": period,
        "commission": _m(commission),
        "bonuses": _m(bonuses),
        "overrides": _m(overrides),
        "points_cost": _m(points),
        "program_cost": _m(cost),
        "net_sales": _m(sales),
        "cost_per_eur": str((cost / sales).quantize(Decimal("0.0001"))),
    }


def _activity(i: int, period: str) -> dict[str, Any]:
    partners = 1_180 + 12 * i
    active = 860 + 9 * i - (25 if i % 5 == 2 else 0)
    before = 860 + 9 * (i - 1) - (25 if (i - 1) % 5 == 2 else 0)
    retained = min(active, before) - 31
    return {
        "period": period,
        "partners": partners,
        "active": active,
        "retained": retained,
        "retention_pct": str((Decimal(100 * retained) / before).quantize(Decimal("0.1"))),
    }


def _k(
    sales: Decimal, cost: dict[str, Decimal], partners: int, active: int, retention: str
) -> dict[str, Any]:
    program = sum(cost.values(), Decimal(0))
    return {
        "partners": partners,
        "active_partners": active,
        "retention_pct": retention,
        "net_sales": _m(sales),
        **{k: _m(v) for k, v in cost.items()},
        "program_cost": _m(program),
        "cost_per_eur": str((program / sales).quantize(Decimal("0.0001"))),
        "payouts": _m(sales * Decimal("0.027")),
        "carried": _m(sales * Decimal("0.002")),
        "points_liability": "184230.40",
    }


def _pilot(version: str, pilot: int, control: int, warnings: list[str], **figures: Any) -> dict[str, Any]:
    return {
        "version": version,
        "cohort": figures.pop("cohort", ""),
        "segments": figures.pop("segments", []),
        "start": figures.pop("start"),
        "period": PERIOD,
        "pilot_partners": pilot,
        "control_partners": control,
        "pre_months": 6,
        "post_months": 4,
        "gross_margin_rate": "0.30",
        "method": "difference-in-differences on partner-month net sales, partner-clustered SE (CR1), normal 95 % CI",
        "warnings": warnings,
        **figures,
    }


def sample_report() -> dict[str, Any]:
    """A fresh copy of the full report (tests may change it)."""
    periods = _months()
    cost = [_cost(i, p) for i, p in enumerate(periods)]
    activity = [_activity(i, p) for i, p in enumerate(periods)]
    last = cost[-1]
    parts = ("commission", "bonuses", "overrides", "points_cost")
    month_cost = {k: Decimal(last[k]) for k in parts}
    t12_cost = {k: sum((Decimal(c[k]) for c in cost), Decimal(0)) for k in parts}
    t12_sales = sum((Decimal(c["net_sales"]) for c in cost), Decimal(0))
    report: dict[str, Any] = {
        "period": PERIOD,
        "from": periods[0],
        "schema_version": 1,
        "generated_at": "2026-11-01T02:41:07Z",
        "kpis": {
            "month": _k(Decimal(last["net_sales"]), month_cost, 1_312, 959, activity[-1]["retention_pct"]),
            "t12": _k(t12_sales, t12_cost, 1_340, 1_104, "81.4"),
        },
        "activity": activity,
        "tiers": {
            "distribution": [
                {"tier": "Bronze", "partners": 742},
                {"tier": "Silver", "partners": 381},
                {"tier": "Gold", "partners": 152},
                {"tier": "Platinum", "partners": 37},
            ],
            "movement": [
                {"from": "Bronze", "to": "Bronze", "partners": 690},
                {"from": "Bronze", "to": "Silver", "partners": 48},
                {"from": "Silver", "to": "Bronze", "partners": 21},
                {"from": "Silver", "to": "Silver", "partners": 338},
                {"from": "Silver", "to": "Gold", "partners": 19},
                {"from": "Gold", "to": "Silver", "partners": 7},
                {"from": "Gold", "to": "Gold", "partners": 141},
                {"from": "Gold", "to": "Platinum", "partners": 4},
                {"from": "Platinum", "to": "Gold", "partners": 2},
                {"from": "Platinum", "to": "Platinum", "partners": 33},
            ],
        },
        "sales": {
            "by_segment": [
                {"segment": "enterprise", "net_sales": "2310400.00", "t12": "24811300.50"},
                {"segment": "smb", "net_sales": "1480220.15", "t12": "16020400.00"},
                {"segment": "public", "net_sales": "589379.85", "t12": "5943000.00"},
            ],
            "by_category": [
                {"category": "hardware", "net_sales": "2204000.00", "t12": "23100200.00"},
                {"category": "software", "net_sales": "1450000.00", "t12": "16400500.50"},
                {"category": "services", "net_sales": "726000.00", "t12": "7274000.00"},
            ],
            "by_country": [
                {"country": "DE", "net_sales": "1990000.00", "t12": "21000000.00"},
                {"country": "RU", "net_sales": "1210000.00", "t12": "13300000.00"},
                {"country": "FR", "net_sales": "1180000.00", "t12": "12474700.50"},
            ],
        },
        "cost": cost,
        "payouts": [
            {
                "period": c["period"],
                "payout": _m(Decimal(c["net_sales"]) * Decimal("0.027")),
                "carried": _m(Decimal(c["net_sales"]) * Decimal("0.002")),
                "paid_partners": 700 + 8 * i,
            }
            for i, c in enumerate(cost)
        ],
        "top_movers": {
            "up": [
                {
                    "partner_id": "P00412",
                    "segment": "enterprise",
                    "net_sales": "182400.00",
                    "previous": "61000.00",
                    "change": "121400.00",
                },
                {
                    "partner_id": "P00077",
                    "segment": "smb",
                    "net_sales": "94000.50",
                    "previous": "40100.00",
                    "change": "53900.50",
                },
            ],
            "down": [
                {
                    "partner_id": "P00931",
                    "segment": "enterprise",
                    "net_sales": "12000.00",
                    "previous": "150500.00",
                    "change": "-138500.00",
                },
                {
                    "partner_id": "P01002",
                    "segment": "public",
                    "net_sales": "0.00",
                    "previous": "48000.00",
                    "change": "-48000.00",
                },
            ],
        },
        "at_risk": [
            {
                "partner_id": "P00310",
                "segment": "smb",
                "months": [
                    {"period": p, "net_sales": s}
                    for p, s in zip(
                        periods[-4:], ("52000.00", "41000.00", "30500.00", "11200.00"), strict=True
                    )
                ],
            },
            {
                "partner_id": "P00588",
                "segment": "public",
                "months": [
                    {"period": p, "net_sales": s}
                    for p, s in zip(periods[-4:], ("9000.00", "8100.00", "7000.00", "2500.00"), strict=True)
                ],
            },
        ],
        "pilots": [
            _pilot(
                "2026.2-pilot",
                64,
                1_180,
                [],
                cohort="pilot-2026",
                start="2026-07",
                uplift_eur="214.37",
                ci_low="96.10",
                ci_high="332.64",
                uplift_pct="7.9",
                pct_ci_low="3.5",
                pct_ci_high="12.3",
                p_value="0.0009",
                incremental_sales="54878.72",
                incremental_margin="16463.62",
                incremental_cost="6930.00",
                roi="1.3757",
            ),
            _pilot(
                "2026.3-smb-boost",
                12,
                410,
                [
                    "only 12 partners in the pilot group (at least 30 needed)",
                    "pre-period trends differ (p = 0.012 < 0.05): the uplift may be biased",
                ],
                segments=["smb"],
                start="2026-09",
                uplift_eur="-35.20",
                ci_low="-410.00",
                ci_high="339.60",
                uplift_pct="-1.2",
                pct_ci_low="-14.0",
                pct_ci_high="11.6",
                p_value="0.854",
                incremental_sales="-844.80",
                incremental_margin="-253.44",
                incremental_cost="0.00",
                roi=None,
            ),
        ],
        "warnings": ["2026-03: no facts for 4 partners (re-run the close's analytics step)"],
    }
    return copy.deepcopy(report)


def empty_report() -> dict[str, Any]:
    """A first close: every list empty, the figures zero."""
    zero = {
        k: "0.00"
        for k in (
            "net_sales",
            "commission",
            "bonuses",
            "overrides",
            "points_cost",
            "program_cost",
            "payouts",
            "carried",
            "points_liability",
        )
    }
    k = {"partners": 0, "active_partners": 0, "retention_pct": None, "cost_per_eur": None, **zero}
    return {
        "period": PERIOD,
        "from": months_back(PERIOD, 12)[0],
        "schema_version": 1,
        "generated_at": "2026-11-01T02:41:07Z",
        "kpis": {"month": dict(k), "t12": dict(k)},
        "activity": [],
        "tiers": {"distribution": [], "movement": []},
        "sales": {"by_segment": [], "by_category": [], "by_country": []},
        "cost": [],
        "payouts": [],
        "top_movers": {"up": [], "down": []},
        "at_risk": [],
        "pilots": [],
        "warnings": [],
    }
