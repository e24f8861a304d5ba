"""The finance console in a real browser (issue 12, points 4 and 5): finance opens the close
awaiting its decision, reads eligible against held, the largest payouts and the anomalies with
their reasons, opens a partner's details, excludes that partner and approves the run it was
shown (a second finance person too when the total needs two), and sees its approval in the audit
trail; in Russian at phone width nothing is wider than the screen."""

from __future__ import annotations

from collections.abc import Callable

from loyalty.kernel.periods import previous_period
from playwright.sync_api import Page, expect

from tests.e2e.browser.conftest import Portal, shot


def test_the_console_reads_in_russian_at_phone_width(portal: Portal, sign_in: Callable[..., Page]) -> None:
    page = sign_in("fiona", lang="ru", phone=True)
    expect(page.get_by_role("heading", name="Финансовая консоль")).to_be_visible()
    expect(page.locator("#period")).to_have_value(portal.demo.awaiting)
    expect(page.locator("#close-facts")).to_contain_text("ждёт вашего решения")
    eligible = page.locator(".fig.eligible .figure")
    expect(eligible).to_contain_text("€")
    assert "," in eligible.inner_text()  # 1 234,56 € as Russian writes it
    expect(page.locator("#top tbody tr").first).to_be_visible()
    expect(page.get_by_role("button", name="Согласовать выплату")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, width
    shot(page, "finance-console-ru-phone")


def _exclude_and_approve(page: Page, partner: str | None) -> str:
    """Exclude `partner` (None: the second-largest payee) and approve; the flash text."""
    rows = page.locator("#top tbody tr")
    expect(rows.first).to_be_visible()
    box = (
        page.locator(f'input[data-partner="{partner}"]')
        if partner
        else rows.nth(1).locator("input[type=checkbox]")
    )
    chosen = box.get_attribute("data-partner") or ""
    box.check()
    expect(page.locator("#decision-excluded")).to_contain_text(chosen)
    page.get_by_label("Comment").fill(f"{chosen} held back pending a review of its returns")
    page.get_by_role("button", name="Approve payout run").click()
    flash = page.locator("#flash")
    expect(flash).to_be_visible(timeout=20_000)
    return chosen


def test_finance_excludes_a_partner_and_approves(portal: Portal, sign_in: Callable[..., Page]) -> None:
    page = sign_in("frank")
    expect(page.locator("#period")).to_have_value(portal.demo.awaiting)
    expect(page.locator("#close-facts")).to_contain_text("awaiting your decision")
    expect(page.locator(".fig.held")).to_be_visible()
    second = page.locator("#top tbody tr").nth(1)
    expect(second).to_be_visible()
    partner = second.locator("input[type=checkbox]").get_attribute("data-partner") or ""
    second.get_by_role("button").click()  # the partner's details
    expect(page.locator("#drill-body")).to_contain_text(partner)
    expect(page.locator("#drill-body")).to_contain_text("Why")
    shot(page, "finance-console")
    _exclude_and_approve(page, partner)
    flash = page.locator("#flash").inner_text()
    if "needs" in flash:  # above the dual-approval total: a second finance person approves too
        page = sign_in("fiona")
        _exclude_and_approve(page, partner)
    expect(page.locator("#flash")).to_contain_text("Approved", timeout=20_000)
    audit = page.locator("#audit tbody")
    expect(audit).to_contain_text("frank")
    expect(audit).to_contain_text("approved")
    expect(audit).to_contain_text(partner)
    expect(page.locator("#decision-none")).to_be_visible()  # decided: nothing left to decide
    expect(page.locator("#period option:checked")).not_to_contain_text("awaiting")
    shot(page, "finance-console-approved")


def test_the_console_links_a_closed_month_s_program_analytics(
    portal: Portal, sign_in: Callable[..., Page]
) -> None:
    """Issue 13: on a closed month the console shows the Program analytics card with the key
    figures and a link to the report page the close's Analytics step wrote; the link opens it."""
    closed = previous_period(portal.demo.awaiting)
    page = sign_in("frank")
    page.goto(f"{portal.url}/finance?period={closed}&lang=en")
    card = page.locator("#analytics-card")
    expect(card).to_be_visible()
    expect(page.locator("#analytics-figures")).to_contain_text("Net sales")
    href = page.locator("#analytics-link").get_attribute("href")
    assert href and href.startswith(portal.s3), href
    answer = page.request.get(href)
    assert answer.ok and "text/html" in answer.headers["content-type"]
    assert "<svg" in answer.text() and closed[:4] in answer.text()
    shot(page, "finance-console-analytics")
