"""Issue 12, point 3: the portal API's OpenAPI document is generated from the code (every
resolver behind a `PortalApi` route of template.yaml), checked in, and this test fails when it is
stale; it documents every route of the template with the bearer JWT scheme."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from loyalty_cli.openapi import DOCUMENT, Handler, generate, merge, portal_handlers, render
from loyalty_local.template import load_template

ROOT = Path(__file__).resolve().parents[2]


def test_the_checked_in_document_is_what_the_code_generates() -> None:
    assert DOCUMENT.is_file(), "docs/openapi/portal.json is missing: run `make openapi`"
    assert DOCUMENT.read_text(encoding="utf-8") == render(generate()), "stale: run `make openapi`"


def test_every_portal_route_of_a_resolver_is_documented_and_nothing_else() -> None:
    doc = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    served = {
        r
        for h in portal_handlers(load_template(ROOT / "template.yaml"))
        if h.module.is_file()
        for r in h.routes
    }
    finance = {r for r in served if r[1].startswith("/finance/")}
    assert len(finance) == 15 and finance <= documented
    assert documented <= served  # a resolver route the template does not route is unreachable
    assert ("GET", "/finance") not in documented and ("GET", "/assets/{name}") not in documented  # pages


def test_the_document_asks_for_the_user_pools_bearer_token() -> None:
    doc = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    assert doc["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert doc["security"] == [{"bearerAuth": []}]
    approve = doc["paths"]["/finance/closes/{period}/approve"]["post"]
    assert set(approve["responses"]) >= {"200", "400", "401", "403", "404", "409"}
    assert "422" not in approve["responses"]  # bad input is a 400 with field and reason
    assert approve["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("/ApproveBody")


def _part(model: dict[str, Any], path: str, method: str = "get") -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "paths": {
            path: {
                method: {
                    "responses": {
                        "200": {
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/M"}}}
                        }
                    }
                }
            }
        },
        "components": {"schemas": {"M": model, "Unused": {"type": "string"}}},
    }


def test_merge_keeps_models_two_resolvers_define_differently_and_marks_public_routes() -> None:
    a = Handler("AFunction", Path("a.py"), frozenset({("GET", "/a")}), frozenset())
    b = Handler(
        "BFunction", Path("b.py"), frozenset({("POST", "/auth/login")}), frozenset({("POST", "/auth/login")})
    )
    doc = merge(
        [(a, _part({"type": "integer"}, "/a")), (b, _part({"type": "string"}, "/auth/login", "post"))]
    )
    schemas = doc["components"]["schemas"]
    assert {k: v for k, v in schemas.items() if k != "GatewayError"} == {
        "M": {"type": "integer"},
        "BFunction_M": {"type": "string"},
    }
    login = doc["paths"]["/auth/login"]["post"]
    assert login["security"] == []  # public: no token
    # API Gateway's own answers: throttling everywhere, 401 only where the JWT authorizer stands
    assert set(login["responses"]) == {"200", "429"}
    assert {"401", "429"} <= set(doc["paths"]["/a"]["get"]["responses"])
    assert schemas["GatewayError"]["required"] == ["message"]
    assert login["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/BFunction_M")
    assert "security" not in doc["paths"]["/a"]["get"]


def test_a_handler_module_not_written_yet_is_skipped(tmp_path: Path) -> None:
    ghost = Handler("GhostFunction", tmp_path / "nothing/app.py", frozenset({("GET", "/x")}), frozenset())
    assert generate([ghost])["paths"] == {}
