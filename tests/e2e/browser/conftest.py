"""Browser tests: Debian's Chromium driven by Playwright against the stack served as `loyalty up
--demo` serves it - moto's endpoint on a port (presigned S3 downloads and uploads), the portal's
HTTP API on another (routes, JWT authorizer), the portal demo data loaded and the demo users
created - with the event pump running beside it. Screenshots go to artifacts/screenshots/."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from loyalty_cli import portal_demo
from loyalty_local.cloud import LocalCloud
from loyalty_local.server import ApiServer, Server, serve_apis
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from tests.e2e.test_server_cli import free_port

ROOT = Path(__file__).resolve().parents[3]
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
PHONE: ViewportSize = {"width": 375, "height": 812}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


@dataclass
class Portal:
    cloud: LocalCloud
    url: str  # the portal HTTP API (pages and API)
    s3: str  # moto's endpoint (presigned URLs)
    demo: portal_demo.PortalDemo


class Pump(threading.Thread):
    """Delivers the stack's events (S3 notifications, queues) while the browser works."""

    def __init__(self, cloud: LocalCloud) -> None:
        super().__init__(daemon=True)
        self.cloud = cloud
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            if not self.cloud.step():
                time.sleep(0.05)


@pytest.fixture(scope="session")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    host, port, api_port = "127.0.0.1", free_port(), free_port()
    saved = os.environ.get("S3_PUBLIC_ENDPOINT")
    os.environ["S3_PUBLIC_ENDPOINT"] = f"http://{host}:{port}"
    server = Server("portal", host, port)
    server.start()
    cloud = LocalCloud(
        stack_name="portal",
        start_mock=False,
        log_path=tmp_path_factory.mktemp("portal") / "lambda.log",
        # the pages may POST uploads to S3; the emails link to the portal
        parameters={"PortalOrigin": f"http://{host}:{api_port}", "PortalUrl": f"http://{host}:{api_port}"},
    )
    apis: list[ApiServer] = []
    pump = Pump(cloud)
    try:
        cloud.start()
        server.gate.open(cloud.outputs)
        apis = serve_apis(cloud, host, api_port)
        loaded = portal_demo.load(cloud)
        pump.start()
        yield Portal(cloud, apis[0].url, f"http://{host}:{port}", loaded)
    finally:
        pump.halt.set()
        if pump.is_alive():
            pump.join(10)
        for api in apis:
            api.stop()
        cloud.stop()
        server.stop()
        if saved is None:
            os.environ.pop("S3_PUBLIC_ENDPOINT", None)
        else:
            os.environ["S3_PUBLIC_ENDPOINT"] = saved


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield b
        b.close()


def shot(page: Page, name: str) -> Path:
    """A full-page screenshot kept as a test artifact (and shown in the README)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture
def sign_in(portal: Portal, browser: Browser) -> Iterator[Callable[..., Page]]:
    """sign_in(user, lang="en", phone=False) -> a page signed in as `user` (demo password), on the
    page the user's group opens (/partner or /finance)."""
    contexts: list[Any] = []

    def make(user: str, lang: str = "en", phone: bool = False) -> Page:
        ctx = browser.new_context(viewport=PHONE if phone else DESKTOP, accept_downloads=True, locale=lang)
        contexts.append(ctx)
        page = ctx.new_page()
        page.goto(f"{portal.url}/?lang={lang}")
        page.get_by_label("User name" if lang == "en" else "Имя пользователя").fill(user)
        page.get_by_label("Password" if lang == "en" else "Пароль").fill(portal.demo.password)
        page.get_by_role("button", name="Sign in" if lang == "en" else "Войти").click()
        page.wait_for_url(lambda u: "/partner" in u or "/finance" in u, timeout=20_000)
        return page

    yield make
    for ctx in contexts:
        ctx.close()
