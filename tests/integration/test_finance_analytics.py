"""Issue 13, point 5: the finance API's link to a close's program analytics
(`GET /finance/closes/{period}/analytics`): the report page as a presigned GET the browser opens
and the month's key figures from the report's JSON, in the caller's language; 404 until the
close's analytics step wrote them; staff only. docs/analytics-html.md."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

import requests
from loyalty.analytics.html import render_report_html
from loyalty.analytics.schema import report_key
from loyalty_local.cloud import LocalCloud
from loyalty_local.httpapi import jwt_http_api_event

from tests.integration.finance_world import FINANCE, MANAGER, OPERATOR, PARTNER, PERIOD, awaiting
from tests.unit.analytics_fixture import sample_report

ROUTE = "GET /finance/closes/{period}/analytics"
PATH = f"/finance/closes/{PERIOD}/analytics"


def ask(cloud: LocalCloud, claims: dict[str, Any], path: str = PATH, **query: str) -> tuple[int, Any]:
    """The finance function as API Gateway invokes it for the route after its JWT authorizer
    verified a token with `claims` (payload 2.0)."""
    full = path + ("?" + urlencode(query) if query else "")
    event = jwt_http_api_event("GET", full, claims, route_key=ROUTE)
    result, error = cloud.invoke("FinanceApiFunction", event)
    assert error is None, error
    return int(result["statusCode"]), json.loads(result.get("body") or "null")


def publish(cloud: LocalCloud) -> bytes:
    """What the close's analytics step writes for the month: the report's JSON and its page."""
    report = {**sample_report(), "period": PERIOD}
    page = render_report_html(report)
    cloud.upload(report_key(PERIOD, "json"), json.dumps(report).encode())
    cloud.upload(report_key(PERIOD, "html"), page)
    return page


def test_the_close_links_its_program_analytics_once_written(cloud: LocalCloud) -> None:
    awaiting(cloud)
    code, none = ask(cloud, FINANCE)
    assert code == 404 and none == {
        "error": f"no program analytics for {PERIOD} yet (written after the close is paid)"
    }
    page = publish(cloud)

    code, got = ask(cloud, FINANCE)
    assert code == 200 and got["period"] == PERIOD
    assert got["key_figures"][0] == ["Partners", "1,312"]
    assert ["Net sales", "€4,385,000.00"] in got["key_figures"] and len(got["key_figures"]) == 8
    url = urlsplit(got["html_url"])
    assert unquote(url.path).endswith(f"/{report_key(PERIOD, 'html')}") and "X-Amz-Signature" in url.query
    assert "inline" in unquote(url.query) and "attachment" not in unquote(url.query)
    opened = requests.get(got["html_url"], timeout=10)  # what the browser gets from the bucket
    assert opened.status_code == 200 and opened.content == page
    assert opened.headers["Content-Disposition"].startswith("inline")

    code, ru = ask(cloud, MANAGER, lang="ru")  # program managers read the program's analytics
    assert code == 200 and ru["key_figures"][2] == ["Чистые продажи", "4\xa0385\xa0000,00\xa0€"]
    assert ask(cloud, OPERATOR)[0] == 200


def test_partners_are_refused_and_bad_periods_answered(cloud: LocalCloud) -> None:
    awaiting(cloud)
    publish(cloud)
    code, body = ask(cloud, PARTNER)
    assert code == 403 and "program analytics" in body["error"]
    code, body = ask(cloud, FINANCE, "/finance/closes/2026-13/analytics")
    assert code == 400 and body["details"][0]["field"] == "period"
    assert ask(cloud, FINANCE, "/finance/closes/2025-01/analytics")[0] == 404  # no close of that month
    assert ask(cloud, PARTNER, "/finance/closes/2026-13/analytics")[0] == 403  # who before what
