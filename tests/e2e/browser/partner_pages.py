"""The partner dashboard in Debian's Chromium against the served demo stack: a partner signs in
and sees its tier, balance, earnings chart, lines, points, rank, statements, rewards and uploads;
downloads a statement; redeems a reward; uploads a sales file and sees its report; is refused
another partner's pages; and the page works in Russian at phone width. Screenshots go to
artifacts/screenshots/."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from loyalty.adapters.dynamo import DynamoStore
from loyalty.adapters.dynamo.notify import NotifierTables
from loyalty_factories.small import sales_csv
from loyalty_local.env import REGION
from playwright.sync_api import Page, expect

from tests.e2e.browser.conftest import Portal, shot
from tests.unit.rewards_world import grant, lot


def chosen(portal: Portal) -> tuple[str, str]:
    """A demo partner user that is not a distributor, and its partner id."""
    for user, pid in portal.demo.partner_users.items():
        partner = next(p for p in portal.demo.partners if p.pid == pid)
        if not partner.distributor_for:
            return user, pid
    raise AssertionError("the demo has no plain partner user")


def ready(page: Page) -> None:
    expect(page.locator("#app[data-ready=true]")).to_be_attached(timeout=30_000)


def test_partner_dashboard_statement_redeem_upload_and_refusal(
    portal: Portal, sign_in: Callable[..., Page]
) -> None:
    user, pid = chosen(portal)
    store = DynamoStore(portal.cloud.outputs["TableName"], REGION)
    expiry = (dt.date.today() + dt.timedelta(days=300)).isoformat()
    grant(store, pid, [lot(f"BROWSER-{pid}", 100_000, expiry, pid=pid)])  # enough for any reward
    page = sign_in(user)
    ready(page)
    expect(page.locator("#tier-badge")).to_be_visible()
    expect(page.get_by_role("progressbar").first).to_be_visible()
    for key in ("provisional", "payable", "paid"):
        expect(page.locator(f"#bal-{key}")).to_contain_text("€")
    expect(page.locator("#balance")).to_contain_text("days after the sale")  # holding explained
    expect(page.locator("svg.chart rect")).to_have_count(12)
    expect(page.locator("#lines tbody tr").first).to_be_visible()
    shot(page, "partner-dashboard")

    # a statement downloads (a presigned S3 link)
    button = page.locator("#statements button", has_text="CSV").first
    with page.expect_download() as got:
        button.click()
    assert got.value.suggested_filename.endswith(".csv")
    # and as the PDF people open (rendered from the statement's page on its first download)
    with page.expect_download() as got:
        page.locator("#statements button", has_text="PDF").first.click()
    assert got.value.suggested_filename.endswith(".pdf")
    assert Path(got.value.path()).read_bytes().startswith(b"%PDF")

    # the emails the partner wants: payouts off, saved where the notifier reads them
    page.get_by_label("a payout is sent").uncheck()
    page.locator("#email-form button[type=submit]").click()
    expect(page.locator("#flash")).to_contain_text("email choices are saved")
    prefs = NotifierTables(portal.cloud.outputs["TableName"], REGION).prefs(pid)
    assert not prefs.wants("payout_sent") and prefs.wants("statement_ready")

    # a reward is redeemed: the points balance goes down, the page says so
    before = page.locator("#points-balance").inner_text()
    page.locator("#catalog button", has_text="Redeem").first.click()
    expect(page.locator("#flash")).to_contain_text("Redeemed")
    expect(page.locator("#points-balance")).not_to_have_text(before)

    # a sales file is uploaded through the presigned POST and its report shows
    day = dt.date.today().replace(day=1).isoformat()
    body = sales_csv(
        [
            ["WEB-1", pid, day, "SKU-1", 1, "99.00", "EUR", "", "", ""],
            ["WEB-2", pid, "not a date", "SKU-1", 1, "99.00", "EUR", "", "", ""],
        ]
    )
    page.set_input_files(
        "#upload-file", files=[{"name": "browser.csv", "mimeType": "text/csv", "buffer": body}]
    )
    page.get_by_role("button", name="Upload").click()
    report = page.locator("#upload-list li", has_text="browser.csv").first
    expect(report).to_contain_text("1 accepted, 1 rejected of 2 rows", timeout=60_000)
    expect(report.get_by_role("link", name="Errors report")).to_be_visible()
    shot(page, "partner-upload-report")

    # another partner's page is refused (the API answers 404: its existence is not revealed)
    other = next(p.pid for p in portal.demo.partners if p.pid != pid and pid not in p.distributor_for)
    page.goto(f"{portal.url}/partner?partner={other}&lang=en")
    expect(page.get_by_role("alert")).to_have_text("You may not see this partner's pages.")
    shot(page, "partner-refused")


def test_partner_dashboard_in_russian_at_phone_width(portal: Portal, sign_in: Callable[..., Page]) -> None:
    user, _ = chosen(portal)
    page = sign_in(user, lang="ru", phone=True)
    ready(page)
    expect(page.get_by_role("heading", name="Мой кабинет партнёра")).to_be_visible()
    expect(page.locator("#bal-paid")).to_contain_text("€")
    expect(page.locator("#balance")).to_contain_text("Комиссия становится к выплате")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, width  # nothing wider than the phone
    page.keyboard.press("Tab")  # the skip link is the first stop
    assert page.evaluate("document.activeElement.className") == "skip"
    shot(page, "partner-dashboard-ru-phone")
