"""Signing in through the real browser: a wrong password is refused on the page, a partner lands
on the partner dashboard and finance on the console, the language switch reloads the page in
Russian and keeps the choice, and the page works at phone width."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Browser, Page, expect

from tests.e2e.browser.conftest import Portal, shot


def test_wrong_password_is_refused_on_the_page(portal: Portal, browser: Browser) -> None:
    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(f"{portal.url}/?lang=en")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("User name").fill("frank")
    page.get_by_label("Password").fill("not-the-password-1A")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong user name or password.")
    shot(page, "sign-in-refused")
    ctx.close()


def test_each_role_lands_on_its_page(portal: Portal, sign_in: Callable[..., Page]) -> None:
    partner_user = next(iter(portal.demo.partner_users))
    page = sign_in(partner_user)
    assert page.url.startswith(f"{portal.url}/partner")
    expect(page.locator("#who-name")).to_have_text(partner_user)
    page = sign_in("frank")
    assert page.url.startswith(f"{portal.url}/finance")


def test_the_language_switch_reloads_in_russian_and_is_kept(portal: Portal, browser: Browser) -> None:
    ctx = browser.new_context(viewport={"width": 375, "height": 812})
    page = ctx.new_page()
    page.goto(f"{portal.url}/?lang=en")
    page.get_by_role("link", name="Русский").click()
    expect(page.get_by_role("heading", name="Вход")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "ru"
    page.goto(f"{portal.url}/")  # no ?lang=: the cookie the switch set decides
    expect(page.get_by_role("heading", name="Вход")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, width  # nothing wider than a phone
    shot(page, "sign-in-ru-phone")
    ctx.close()
