"""Issue 13, point 5: the finance console links a close's program analytics: the report page as
a presigned GET shown in the browser and the month's key figures from the report's JSON, in the
caller's language; 404 until the analytics step wrote both; staff only."""

from __future__ import annotations

import json

from loyalty.adapters.memory.container import MemoryContainer
from loyalty.analytics.html import render_report_html
from loyalty.analytics.schema import report_key
from loyalty.console.analytics import KEY_FIGURES, key_figures

from tests.unit.analytics_fixture import empty_report, sample_report
from tests.unit.test_console_service import FIN, OPS, PARTNER, PM, awaiting, refused, world

PERIOD = "2026-10"


def _publish(c: MemoryContainer, report: dict[str, object], html: bool = True) -> None:
    c.blobs.put(report_key(PERIOD, "json"), json.dumps(report).encode(), "application/json")
    if html:
        c.blobs.put(report_key(PERIOD, "html"), render_report_html(report), "text/html; charset=utf-8")


def test_the_close_links_its_report_page_and_shows_the_months_key_figures() -> None:
    c = world()
    awaiting(c, PERIOD)
    _publish(c, sample_report())
    con = c.console()
    got = con.analytics(FIN, PERIOD, "en")
    assert got["period"] == PERIOD
    assert got["html_url"].startswith(f"memory://memory-bucket/{report_key(PERIOD, 'html')}?")
    assert "inline" in got["html_url"] and "attachment" not in got["html_url"]  # opens in the browser
    assert got["key_figures"] == [
        ["Partners", "1,312"],
        ["Active partners", "959"],
        ["Net sales", "€4,385,000.00"],
        ["Program cost", "€188,575.00"],
        ["Cost per EUR of sales", "4.30%"],
        ["Payouts", "€118,395.00"],
        ["Carried forward", "€8,770.00"],
        ["Points liability (EUR)", "€184,230.40"],
    ]
    ru = dict(con.analytics(PM, PERIOD, "ru")["key_figures"])
    assert ru["Чистые продажи"] == "4\xa0385\xa0000,00\xa0€" and ru["Партнёры"] == "1\xa0312"


def test_no_report_yet_is_a_404_and_partners_are_refused() -> None:
    c = world()
    awaiting(c, PERIOD)
    con = c.console()
    assert "no program analytics for 2026-10" in refused(404, con.analytics, FIN, PERIOD, "en")
    _publish(c, sample_report(), html=False)
    refused(404, con.analytics, OPS, PERIOD, "en")  # the JSON without its page: not yet
    _publish(c, sample_report())
    assert con.analytics(OPS, PERIOD, "en")["key_figures"]
    refused(403, con.analytics, PARTNER, PERIOD, "en")
    refused(404, con.analytics, FIN, "2025-01", "en")  # no close of that month
    refused(400, con.analytics, FIN, "2026-13", "en")


def test_key_figures_of_a_first_close_print_zeros_and_dashes() -> None:
    figures = dict(key_figures(empty_report(), "en"))
    assert len(figures) == len(KEY_FIGURES)
    assert figures["Partners"] == "0" and figures["Net sales"] == "€0.00"
    assert figures["Cost per EUR of sales"] == "\N{EM DASH}"  # no sales: no ratio
