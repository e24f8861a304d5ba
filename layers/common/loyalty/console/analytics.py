"""The program analytics of a closed month as the finance console links it: the report page
(`analytics/reports/<period>/report.html`, written by the close's analytics step) as a presigned
GET that opens in the browser, and the month's key figures read from the report's JSON beside it,
in the caller's language. No report yet (the step has not run, or the close is older than
analytics): 404. docs/analytics-html.md."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from loyalty.analytics.html_figures import Fmt
from loyalty.analytics.html_words import WORDS
from loyalty.analytics.schema import report_key
from loyalty.console.index import ConsoleError
from loyalty.console.ports import ConsoleBlobs, Presigner
from loyalty.kernel.i18n import Lang

# the month's figures the console shows beside the link (the report's `kpis.month`)
KEY_FIGURES = (
    "partners",
    "active_partners",
    "net_sales",
    "program_cost",
    "cost_per_eur",
    "payouts",
    "carried",
    "points_liability",
)
REPORT_LINK_SECONDS = 900  # the console fetches the link when the close is opened


def key_figures(report: Mapping[str, Any], lang: Lang) -> list[tuple[str, str]]:
    """(label, value) of the month's key figures, as the caller's language writes them."""
    month = (report.get("kpis") or {}).get("month") or {}
    f, w = Fmt(lang), WORDS[lang]
    return [(w[k], f.kpi(k, month.get(k))) for k in KEY_FIGURES]


def program_analytics(blobs: ConsoleBlobs, presigner: Presigner, period: str, lang: Lang) -> dict[str, Any]:
    html, data = report_key(period, "html"), report_key(period, "json")
    present = set(blobs.keys(data.rsplit("/", 1)[0] + "/"))
    if html not in present or data not in present:
        raise ConsoleError(f"no program analytics for {period} yet (written after the close is paid)", 404)
    report = json.loads(blobs.get(data))
    return {
        "period": period,
        "html_url": presigner.presign_get(
            html, f"program-analytics-{period}.html", REPORT_LINK_SECONDS, inline=True
        ),
        "key_figures": [list(kf) for kf in key_figures(report, lang)],
    }
