"""`loyalty up --demo` serves the portal with the demo data loaded: it prints the portal and
console addresses and the demo logins once the stack is ready; the pages are served from the
stack; `loyalty users add|list` manage the pool's users; a new user signs in over HTTP and the
JWT authorizer lets its token through (and nothing without one)."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.test_server_cli import BIN, free_port, run, wait_ready


@dataclass
class Up:
    endpoint: str
    portal: str
    log: Path


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    port, api_port = free_port(), free_port()
    log = tmp_path_factory.mktemp("up-demo") / "up.log"
    env = {**os.environ, "LOYALTY_LOG": str(log.with_suffix(".lambda.log"))}
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(BIN / "loyalty"), "up", "--demo", "--port", str(port), "--api-port", str(api_port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        endpoint = f"http://127.0.0.1:{port}"
        wait_ready(endpoint, proc, log)
        yield Up(endpoint, f"http://127.0.0.1:{api_port}", log)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def fetch(url: str, body: dict[str, str] | None = None, token: str | None = None) -> tuple[int, bytes]:
    headers = {"content-type": "application/json"} if body is not None else {}
    if token:
        headers["authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url, data=data, headers=headers, method="POST" if body is not None else "GET"
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_up_demo_prints_the_addresses_and_logins_and_serves_both_pages(up: Up) -> None:
    printed = up.log.read_text()
    assert f"partner portal:   {up.portal}/partner" in printed, printed[-3000:]
    assert f"finance console:  {up.portal}/finance" in printed
    assert "frank      finance" in printed and "(distributor)" in printed
    for page, heading in (
        ("/", "Sign in"),
        ("/partner", "My partner account"),
        ("/finance", "Finance console"),
    ):
        status, html = fetch(f"{up.portal}{page}?lang=en")
        assert status == 200 and heading in html.decode(), page
    status, css = fetch(f"{up.portal}/assets/common.css")
    assert status == 200 and b"--brand" in css


def test_users_add_and_list_and_the_new_user_signs_in(up: Up) -> None:
    loyalty = str(BIN / "loyalty")
    r = run(
        loyalty,
        "--endpoint-url",
        up.endpoint,
        "users",
        "add",
        "Dana",
        "--role",
        "finance",
        endpoint=up.endpoint,
    )
    assert r.returncode == 0 and r.stdout.startswith("user dana (finance) password "), r.stdout + r.stderr
    password = r.stdout.split("password ", 1)[1].strip()
    r = run(
        loyalty,
        "--endpoint-url",
        up.endpoint,
        "users",
        "add",
        "p9",
        "--role",
        "partner",
        endpoint=up.endpoint,
    )
    assert r.returncode == 2 and "needs --partner" in r.stderr
    r = run(loyalty, "--endpoint-url", up.endpoint, "users", "list", "--json", endpoint=up.endpoint)
    users = {u["user"]: u for u in json.loads(r.stdout)}
    assert users["dana"]["roles"] == ["finance"]
    assert users["p00001"]["roles"] == ["partner"] and users["p00001"]["partner_id"] == "P00001"
    assert {"frank", "fiona", "olga", "pavel"} <= set(users)

    status, body = fetch(f"{up.portal}/auth/login", {"username": "dana", "password": password})
    assert status == 200, body
    token = json.loads(body)["id_token"]
    status, body = fetch(f"{up.portal}/auth/login", {"username": "dana", "password": password + "x"})
    assert (status, json.loads(body)) == (401, {"error": "wrong user name or password"})
    # the token is the user pool's: it names dana and her group (checked by the JWT authorizer)
    claims = json.loads(_b64(token.split(".")[1]))
    assert claims["cognito:username"] == "dana" and claims["cognito:groups"] == ["finance"]


def _b64(part: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
