"""A local cloud with a close awaiting finance: three partners with bank details (one without),
sales that mature by the cut-off, and the finance API called with the JWT claims a user pool
token of each group carries (the JWT authorizer's verified claims, payload 2.0)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from loyalty_local.cloud import LocalCloud
from loyalty_local.httpapi import jwt_http_api_event

from tests.conftest import sales_csv

PERIOD = "2026-08"
REGISTRY = (
    b"partner_id,name,email,segment,country,sponsor_id,joined_on,cohort,distributor_for,starting_tier,iban,bic\n"
    b"P00001,Acme Systems,finance@acme.example,smb,DE,,2026-01-01,,,,DE89370400440532013000,COBADEFFXXX\n"
    b"P00002,Beta IT,finance@beta.example,smb,RU,,2026-01-01,,,,DE02120300000000202051,BYLADEM1001\n"
    b"P00003,Gamma Trade,finance@gamma.example,enterprise,US,,2026-01-01,,,,,\n"
)
FINANCE = {"cognito:username": "fiona", "cognito:groups": ["finance"], "email": "fiona@example.com"}
FINANCE2 = {"cognito:username": "frank", "cognito:groups": ["finance"]}
OPERATOR = {"cognito:username": "olga", "cognito:groups": ["operator"]}
MANAGER = {"cognito:username": "petra", "cognito:groups": ["program_manager"]}
PARTNER = {"cognito:username": "acme", "cognito:groups": ["partner"], "custom:partner_id": "P00001"}


def awaiting(cloud: LocalCloud) -> dict[str, Any]:
    """Registry with bank details, July sales (matured by the August cut-off), the close of
    August started by an operator and proposed: the header finance is shown."""
    cloud.upload("registry/partners.csv", REGISTRY)
    cloud.run_until_idle()
    rows = [
        ["S1", "P00001", "2026-07-02", "SKU-1", 30, "1000.00", "EUR", "", "C1", ""],
        ["S2", "P00002", "2026-07-03", "SKU-1", 40, "100.00", "EUR", "", "C2", ""],
        ["S3", "P00003", "2026-07-04", "SKU-1", 50, "100.00", "EUR", "", "C3", ""],
    ]
    for r in rows:
        cloud.upload(f"incoming/{r[1]}/july.csv", sales_csv([r]))
    cloud.run_until_idle()
    code, started = call(cloud, "POST", "/finance/closes", OPERATOR, body={"period": PERIOD})
    assert code == 200 and started["started"], started
    cloud.wait_execution(
        f"close-{PERIOD}",
        until=lambda c: (
            call(c, "GET", f"/finance/closes/{PERIOD}", FINANCE)[1]["status"] == "awaiting_approval"
        ),
    )
    return call(cloud, "GET", f"/finance/closes/{PERIOD}", FINANCE)[1]  # type: ignore[no-any-return]


def call(
    cloud: LocalCloud,
    method: str,
    path: str,
    claims: dict[str, Any] | None,
    body: Any = None,
    query: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    raw: bool = False,
) -> tuple[int, Any]:
    """The finance function behind the portal API's route, as API Gateway invokes it after its
    JWT authorizer verified a token with `claims` (None: no authorizer context at all)."""
    route = cloud.route(method, path)
    assert route is not None and route.function == "FinanceApiFunction", (method, path)
    full = path + ("?" + urlencode(query) if query else "")
    event = jwt_http_api_event(method, full, claims or {}, body=body, headers=headers, route_key=route.key)
    if claims is None:
        event["requestContext"]["authorizer"] = {}
    result, error = cloud.invoke("FinanceApiFunction", event)
    assert error is None, error
    if raw:
        return int(result["statusCode"]), result
    return int(result["statusCode"]), json.loads(result.get("body") or "null")
