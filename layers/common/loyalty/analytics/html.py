"""The program analytics report as a page people open from the finance console: one
self-contained HTML file rendered from the report's JSON (the shape `loyalty.analytics.report`
writes, docs/analytics-html.md), in Russian or English.

Jinja2 with autoescape (partner ids, segments, tiers and cohorts come from registry and rules
files: always escaped); figures formatted by `loyalty.kernel.i18n` (Babel); the charts inline SVG
drawn here (`charts`): no script, no external fetch, and a Content-Security-Policy that allows
neither (its one style block is allowed by hash). The same report renders the same bytes.

Value conventions of the JSON: money and ratios are decimal strings; fields named `*_pct` are
percentages (`"87.5"` = 87.5 %); `cost_per_eur`, `roi` and `gross_margin_rate` are ratios
(`"0.047"` = 4.7 %); a missing or null figure prints as a dash."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import cache
from typing import Any

import jinja2

from loyalty.analytics import html_tables as tables
from loyalty.analytics.charts import Chart, Series, bars, hbars, interval, lines
from loyalty.analytics.figures import KPI_KEYS
from loyalty.analytics.html_figures import Fmt, dec
from loyalty.analytics.html_words import WORDS
from loyalty.kernel.i18n import Lang, as_lang, number_text, percent_text

COST_PARTS = ("commission", "bonuses", "overrides", "points_cost")


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("loyalty.analytics", "templates"),
        autoescape=True,  # ids, segments, tiers and cohorts come from files: always escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


@cache
def _css() -> tuple[str, str]:
    """The page's style sheet and its CSP source (`'sha256-...'`)."""
    loader = _env().loader
    assert loader is not None
    css = loader.get_source(_env(), "report.css")[0]
    digest = base64.b64encode(hashlib.sha256(css.encode("utf-8")).digest()).decode("ascii")
    return css, f"'sha256-{digest}'"


def _fl(v: Any) -> float | None:
    d = dec(v)
    return None if d is None else float(d)


def _money_axis(values: Sequence[float | None], w: Mapping[str, str], lang: Lang) -> tuple[Any, str, float]:
    """Tick labels of a money axis in EUR, thousands or millions by the largest figure."""
    top = max([abs(v) for v in values if v is not None] or [0.0])
    scale, unit = (
        (1e6, w["unit_meur"]) if top >= 5e6 else (1e3, w["unit_keur"]) if top >= 5e3 else (1.0, w["unit_eur"])
    )

    def tick(t: float) -> str:
        return number_text(Decimal(f"{t / scale:.2f}").normalize() + 0, lang)

    return tick, unit, scale


# -- the page -------------------------------------------------------------------------------------
def _charts(report: Mapping[str, Any], f: Fmt, w: Mapping[str, str]) -> dict[str, Any]:
    cost = list(report.get("cost") or [])
    activity = list(report.get("activity") or [])
    out: dict[str, Any] = dict.fromkeys(
        ("sales_cost", "cost_parts", "cost_ratio", "active", "retention", "tiers")
    )
    if cost:
        cats, years = _months([str(r.get("period", "")) for r in cost], f)
        sales = [_fl(r.get("net_sales")) for r in cost]
        prog = [_fl(r.get("program_cost")) for r in cost]
        tick, unit, _ = _money_axis([*sales, *prog], w, f.lang)
        out["sales_cost"] = bars(
            f"{w['sales_cost']}, {unit}",
            cats,
            [Series(w["net_sales"], sales, "s1"), Series(w["program_cost"], prog, "s2")],
            tick,
            years,
        )
        parts = [Series(w[k], [_fl(r.get(k)) for r in cost], f"s{i + 2}") for i, k in enumerate(COST_PARTS)]
        tick, unit, _ = _money_axis([_fl(r.get("program_cost")) for r in cost], w, f.lang)
        out["cost_parts"] = bars(f"{w['cost_parts']}, {unit}", cats, parts, tick, years, stacked=True)
        ratio = [_fl(r.get("cost_per_eur")) for r in cost]
        out["cost_ratio"] = lines(
            w["cost_ratio"], cats, [Series(w["cost_per_eur"], ratio, "s2")], _pct_tick(f, 100), years
        )
    if activity:
        cats, years = _months([str(r.get("period", "")) for r in activity], f)
        total = [_fl(r.get("partners")) for r in activity]
        active = [_fl(r.get("active")) for r in activity]
        out["active"] = bars(
            w["active_chart"],
            cats,
            [Series(w["partners"], total, "s5"), Series(w["active"], active, "s1")],
            lambda t: number_text(int(t), f.lang),
            years,
        )
        kept = [_fl(r.get("retention_pct")) for r in activity]
        out["retention"] = lines(
            w["retention_chart"], cats, [Series(w["retention_pct"], kept, "s1")], _pct_tick(f, 1), years
        )
    dist = list((report.get("tiers") or {}).get("distribution") or [])
    if dist:
        counts = [_fl(r.get("partners")) or 0.0 for r in dist]
        whole = sum(counts) or 1.0
        texts = [
            f"{f.count(r.get('partners'))} · {f.ratio(Decimal(str(c / whole)), 0)}"
            for r, c in zip(dist, counts, strict=True)
        ]
        out["tiers"] = hbars(w["tier_distribution"], [str(r.get("tier", "")) for r in dist], counts, texts)
    return out


def _pct_tick(f: Fmt, per: int) -> Any:
    """Percent tick labels of a chart whose values are ratios (per=100) or percentages (per=1)."""

    def tick(t: float) -> str:
        return percent_text(Decimal(f"{t * per:.4f}").normalize() / 100, f.lang, 1 if per == 100 else 0)

    return tick


def _months(periods: Sequence[str], f: Fmt) -> tuple[list[str], list[str]]:
    labels = [f.month(p) for p in periods]
    years = [
        y if i == 0 or p.endswith("-01") else ""
        for i, (p, (_, y)) in enumerate(zip(periods, labels, strict=True))
    ]
    return [m for m, _ in labels], years


def report_context(report: Mapping[str, Any], lang: str = "en") -> dict[str, Any]:
    """Everything the template prints, formatted."""
    lg = as_lang(lang)
    w = WORDS[lg]
    f = Fmt(lg)
    css, css_hash = _css()
    period = str(report.get("period", ""))
    pilots = [tables.pilot_view(p, f, w) for p in report.get("pilots") or []]
    warnings = [str(x) for x in report.get("warnings") or []]
    warnings += [f"{p['version']}: {x}" for p in pilots for x in p["warnings"]]
    for p in pilots:
        p["chart"] = _pilot_chart(p["raw"], f, w)
    return {
        "lang": lg,
        "w": w,
        "css": css,
        "csp": f"default-src 'none'; style-src {css_hash}; img-src 'none'; form-action 'none'; base-uri 'none'",
        "period": period,
        "period_text": f.period(period),
        "from_text": f.period(report.get("from", "")),
        "generated_at": str(report.get("generated_at", "")),
        "schema_version": str(report.get("schema_version", "")),
        "warnings": warnings,
        "kpis": tables.kpi_rows(report.get("kpis") or {}, f, w, KPI_KEYS),
        "charts": _charts(report, f, w),
        "activity": tables.activity_rows(report.get("activity") or [], f),
        "cost": tables.cost_rows(report.get("cost") or [], f),
        "payouts": tables.payout_rows(report.get("payouts") or [], f),
        "movement": tables.movement(report.get("tiers") or {}, f),
        "sales": tables.sales_tables(report.get("sales") or {}, f, w),
        "movers": tables.movers(report.get("top_movers") or {}, f, w),
        "at_risk": tables.at_risk(report.get("at_risk") or [], f),
        "pilots": pilots,
    }


def _pilot_chart(p: Mapping[str, Any], f: Fmt, w: Mapping[str, str]) -> Chart | None:
    est, lo, hi = (_fl(p.get(k)) for k in ("uplift_pct", "pct_ci_low", "pct_ci_high"))
    if est is None or lo is None or hi is None:
        return None
    return interval(w["pilot_chart"], est, lo, hi, _pct_tick(f, 1))


def render_report_html(report: Mapping[str, Any], lang: str = "en") -> bytes:
    """The report of a period as one self-contained, script-free HTML page (UTF-8)."""
    html = _env().get_template("report.html").render(**report_context(report, lang))
    return html.encode("utf-8")
