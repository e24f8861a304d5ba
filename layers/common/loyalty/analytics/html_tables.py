"""The report page's tables, formatted: key figures (month and trailing 12 months), activity,
cost and payouts by month, net sales by segment, category and country, the tier movement matrix
(shaded), top movers, partners at risk and the pilots. A table is `{"head", "rows", "num_from"}`
(columns from `num_from` on are figures, right-aligned); an empty list renders "no data"."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from loyalty.analytics.html_figures import Fmt, dec

Table = dict[str, Any]
SHADES = 5  # the movement matrix's shade levels (1 = fewest partners .. 5 = most)


def _table(head: list[str], rows: list[list[str]], num_from: int = 1) -> Table:
    return {"head": head, "rows": rows, "num_from": num_from}


def kpi_rows(kpis: Mapping[str, Any], f: Fmt, w: Mapping[str, str], order: Sequence[str]) -> Table:
    month, t12 = kpis.get("month") or {}, kpis.get("t12") or {}
    rows = [[w[k], f.kpi(k, month.get(k)), f.kpi(k, t12.get(k))] for k in order if k in month or k in t12]
    return _table([w["figure"], w["month"], w["t12"]], rows)


def activity_rows(rows: Sequence[Mapping[str, Any]], f: Fmt) -> list[list[str]]:
    return [
        [
            f.period(r.get("period")),
            f.count(r.get("partners")),
            f.count(r.get("active")),
            f.count(r.get("retained")),
            f.pct(r.get("retention_pct")),
        ]
        for r in rows
    ]


def cost_rows(rows: Sequence[Mapping[str, Any]], f: Fmt) -> list[list[str]]:
    return [
        [
            f.period(r.get("period")),
            *(
                f.money(r.get(k))
                for k in ("commission", "bonuses", "overrides", "points_cost", "program_cost")
            ),
            f.money(r.get("net_sales")),
            f.ratio(r.get("cost_per_eur"), 2),
        ]
        for r in rows
    ]


def payout_rows(rows: Sequence[Mapping[str, Any]], f: Fmt) -> list[list[str]]:
    return [
        [
            f.period(r.get("period")),
            f.money(r.get("payout")),
            f.money(r.get("carried")),
            f.count(r.get("paid_partners")),
        ]
        for r in rows
    ]


def sales_tables(sales: Mapping[str, Any], f: Fmt, w: Mapping[str, str]) -> list[dict[str, Any]]:
    """By segment, category and country: the month, the trailing 12 months and the share of them."""
    out = []
    for key, col in (("by_segment", "segment"), ("by_category", "category"), ("by_country", "country")):
        rows = list(sales.get(key) or [])
        whole = sum((dec(r.get("t12")) or 0 for r in rows), dec(0) or 0)
        cells = []
        for r in rows:
            t12 = dec(r.get("t12"))
            share = f.ratio(t12 / whole) if t12 is not None and whole else "\N{EM DASH}"
            cells.append([str(r.get(col, "")), f.money(r.get("net_sales")), f.money(t12), share])
        out.append({"title": w[col], **_table([w[col], w["month"], w["t12"], "%"], cells)})
    return out


def movement(tiers: Mapping[str, Any], f: Fmt) -> dict[str, Any] | None:
    """The movement matrix from (rows) to (columns), tiers in the distribution's order (the
    program's, lowest first) then any other tier the moves name; each cell shaded by its count
    against the largest: up (right of the diagonal) green, down red, held blue."""
    moves = list(tiers.get("movement") or [])
    if not moves:
        return None
    order: list[str] = []
    for t in [str(d.get("tier", "")) for d in tiers.get("distribution") or []] + [
        str(m.get(k, "")) for m in moves for k in ("from", "to")
    ]:
        if t not in order:
            order.append(t)
    count: dict[tuple[str, str], int] = {}
    for m in moves:
        key = (str(m.get("from", "")), str(m.get("to", "")))
        count[key] = count.get(key, 0) + int(dec(m.get("partners")) or 0)
    top = max(count.values(), default=0) or 1
    rows = []
    for i, a in enumerate(order):
        cells = []
        for j, b in enumerate(order):
            n = count.get((a, b), 0)
            kind = "hold" if i == j else "up" if j > i else "down"
            level = math.ceil(SHADES * n / top) if n > 0 else 0
            cells.append({"text": f.count(n) if n else "", "css": f"{kind}{level}" if n else "empty"})
        total = sum(count.get((a, b), 0) for b in order)
        rows.append({"tier": a, "cells": cells, "total": f.count(total)})
    return {"tiers": order, "rows": rows}


def movers(top: Mapping[str, Any], f: Fmt, w: Mapping[str, str]) -> list[dict[str, Any]]:
    head = [w["partner"], w["segment"], w["month"], w["previous"], w["change"]]
    return [
        {
            "title": w[title],
            **_table(
                head,
                [
                    [
                        str(m.get("partner_id", "")),
                        str(m.get("segment", "")),
                        f.money(m.get("net_sales")),
                        f.money(m.get("previous")),
                        f.money(m.get("change"), signed=True),
                    ]
                    for m in top.get(key) or []
                ],
                2,
            ),
        }
        for key, title in (("up", "movers_up"), ("down", "movers_down"))
    ]


def at_risk(rows: Sequence[Mapping[str, Any]], f: Fmt) -> dict[str, Any]:
    """Partners whose net sales fell three months in a row: the four months side by side (the
    months of the first row head the columns; every row has the same four)."""
    months = [str(m.get("period", "")) for m in (rows[0].get("months") or [])] if rows else []
    return {
        "months": [f.period(p) for p in months],
        "rows": [
            [str(r.get("partner_id", "")), str(r.get("segment", ""))]
            + [f.money(m.get("net_sales")) for m in r.get("months") or []]
            for r in rows
        ],
    }


def pilot_view(p: Mapping[str, Any], f: Fmt, w: Mapping[str, str]) -> dict[str, Any]:
    """A pilot's estimate with its interval, the incremental margin and cost, the ROI and its
    warnings."""

    def ci(low: str, high: str) -> str:
        return f"{w['ci']}: {low} … {high}"

    roi = f.ratio(p.get("roi"), 0, signed=True) if dec(p.get("roi")) is not None else w["roi_none"]
    segments = p.get("segments") or []
    rows = [
        (w["start"], f.period(p.get("start"))),
        (w["groups"], f"{f.count(p.get('pilot_partners'))} / {f.count(p.get('control_partners'))}"),
        (w["months"], f"{f.count(p.get('pre_months'))} / {f.count(p.get('post_months'))}"),
        (
            w["uplift_eur"],
            f"{f.money(p.get('uplift_eur'), signed=True)} ({ci(f.money(p.get('ci_low')), f.money(p.get('ci_high')))})",
        ),
        (
            w["uplift_pct"],
            f"{f.pct(p.get('uplift_pct'), signed=True)} ({ci(f.pct(p.get('pct_ci_low')), f.pct(p.get('pct_ci_high')))})",
        ),
        (w["p_value"], f.p_value(p.get("p_value"))),
        (w["incremental_sales"], f.money(p.get("incremental_sales"), signed=True)),
        (
            w["incremental_margin"],
            f"{f.money(p.get('incremental_margin'), signed=True)} ({w['at_margin']} {f.ratio(p.get('gross_margin_rate'), 0)})",
        ),
        (w["incremental_cost"], f.money(p.get("incremental_cost"), signed=True)),
        (w["roi"], roi),
        (w["method"], str(p.get("method", ""))),
    ]
    return {
        "version": str(p.get("version", "")),
        "cohort": str(p.get("cohort") or "\N{EM DASH}"),
        "segments": ", ".join(str(s) for s in segments) or "\N{EM DASH}",
        "period": f.period(p.get("period")),
        "rows": rows,
        "warnings": [str(x) for x in p.get("warnings") or []],
        "roi_css": ""
        if dec(p.get("roi")) is None
        else "roi-pos"
        if (dec(p.get("roi")) or 0) > 0
        else "roi-neg",
        "raw": p,
    }
