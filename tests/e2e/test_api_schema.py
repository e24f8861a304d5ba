"""Issue 12, point 3: schemathesis fuzzes the checked-in OpenAPI document against the local
cloud: every finance operation with a finance user's token and every partner operation with a
partner user's token, generated and deliberately invalid input; no answer is a 5xx, every answer matches the document (status code,
content type, body schema) and bad requests are refused with a 4xx.

Requests go through the local cloud's emulated API Gateway (`LocalCloud.http`: throttle, the
template's routes, the JWT authorizer verifying the user pool's signed id token, payload 2.0, the
function in-process) behind a small WSGI adapter. A close awaits finance's decision, so the data-bearing paths are exercised too:
each case runs as generated and again with the close's period (and a partner of it)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from loyalty_local.cloud import LocalCloud
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import load_program
from tests.integration.finance_world import PERIOD, awaiting

ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = json.loads((ROOT / "docs/openapi/portal.json").read_text(encoding="utf-8"))
schema = schemathesis.openapi.from_dict(DOCUMENT).include(path_regex="^/finance/")
# the bearer token is the test's (a finance user's); unknown query parameters are ignored, as by
# most APIs, so they are not generated as "invalid" input
schema.config.generation.update(with_security_parameters=False, allow_extra_parameters=False)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
partner_schema = schemathesis.openapi.from_dict(DOCUMENT).include(path_regex="^/(partners/|me$)")
partner_schema.config.generation.update(with_security_parameters=False, allow_extra_parameters=False)
# a few examples per operation, the same ones every run (derandomized)
FUZZ = settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
    derandomize=True,
)
BEARER: dict[str, str] = {}  # a finance user's id token from the user pool (set by the fixture)
PARTNER_BEARER: dict[str, str] = {}  # partner P00001's user's id token
PASSWORD = "Finance-password-2026"
StartResponse = Callable[[str, list[tuple[str, str]]], Any]
pytestmark = pytest.mark.e2e


def portal_wsgi(cloud: LocalCloud) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """A WSGI app that is the local cloud's portal API: the emulator's gateway (throttle, route,
    JWT authorizer against the user pool's keys, payload 2.0, the function, the answer)."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterator[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO") or "/"
        query = environ.get("QUERY_STRING", "")
        size = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(size) if size else b""
        headers = {k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")}
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = environ["CONTENT_TYPE"]
        answer = cloud.http(method, f"{path}?{query}" if query else path, body=body or None, headers=headers)
        start_response(f"{answer.status} {'OK' if answer.status < 400 else 'Error'}", list(answer.headers))
        yield answer.body

    return app


class Portal:
    """The WSGI app schemathesis calls (its own probes included): the local cloud's portal API
    once the module's fixture has started it."""

    def __init__(self) -> None:
        self.target: Callable[[dict[str, Any], StartResponse], Iterable[bytes]] | None = None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        assert self.target is not None, "the local cloud is not started"
        return self.target(environ, start_response)


PORTAL = Portal()
schema.app = PORTAL
partner_schema.app = PORTAL


@pytest.fixture(scope="module")
def finance_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    cloud = LocalCloud(
        stack_name="schema", log_path=tmp_path_factory.mktemp("schema") / "lambda.log", start_mock=False
    )
    cloud.start()
    try:
        load_program(cloud)
        awaiting(cloud)
        cloud.add_user("fiona", PASSWORD, "fiona@example.com", ["finance"])
        BEARER["Authorization"] = f"Bearer {cloud.sign_in('fiona', PASSWORD)}"
        cloud.add_user("p00001", PASSWORD, "p00001@example.com", ["partner"], "P00001")
        PARTNER_BEARER["Authorization"] = f"Bearer {cloud.sign_in('p00001', PASSWORD)}"
        PORTAL.target = portal_wsgi(cloud)
        yield PORTAL
    finally:
        PORTAL.target = None
        cloud.stop()


def _on_the_close(case: Any) -> None:
    """The same case about the close awaiting a decision and one of its partners."""
    params = case.path_parameters or {}
    if "period" in params:
        params["period"] = PERIOD
    if "partner_id" in params:
        params["partner_id"] = "P00001"


@schema.parametrize()
@FUZZ
def test_finance_routes_keep_to_the_document(case: Any, finance_api: Portal) -> None:
    case.call_and_validate(checks=CHECKS, headers=BEARER)
    if case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE:
        _on_the_close(case)
        case.call_and_validate(checks=CHECKS, headers=BEARER)


@partner_schema.parametrize()
@FUZZ
def test_partner_routes_keep_to_the_document(case: Any, finance_api: Portal) -> None:
    case.call_and_validate(checks=CHECKS, headers=PARTNER_BEARER)
    if case.meta is not None and case.meta.generation.mode == GenerationMode.POSITIVE:
        _on_the_close(case)  # the partner's own data, of the closed month
        case.call_and_validate(checks=CHECKS, headers=PARTNER_BEARER)
