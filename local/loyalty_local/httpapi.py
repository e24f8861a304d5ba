"""HTTP APIs in-process: a request is routed to the function whose `HttpApi` event (path and
method, read from the template) matches, with the event API Gateway (payload 2.0) hands a
function after IAM (SigV4) authentication."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

from loyalty_local.env import ACCOUNT_ID
from loyalty_local.runtime import CloudBase
from loyalty_local.template import Route


class HttpApiMixin(CloudBase):
    def route(self, method: str, path: str) -> Route | None:
        """The template's route for a request (most specific first), or None (API Gateway: 404)."""
        return next((r for r in self.routes if r.matches(method, path.split("?", 1)[0])), None)

    def role_name(self, role: str) -> str:
        """A role of the stack by its logical id, its name, or a word of its name that only one of
        the stack's roles has (e.g. "finance" for "<stack>-finance-approver"); any other name is
        taken as is (a role the stack does not know)."""
        if role in self.roles:
            return self.roles[role]
        names = self.roles.values()
        if role in names:
            return role
        hits = [n for n in names if role in re.split(r"[-_.]", n.removeprefix(f"{self.stack_name}-"))]
        return hits[0] if len(hits) == 1 else role

    def api(
        self, method: str, path: str, user: str, role: str, body: dict[str, Any] | None = None
    ) -> tuple[int, Any]:
        """Call the stack's HTTP API as API Gateway would after IAM (SigV4) authentication of
        `user` holding `role` (see `role_name`): the function behind the matching route runs."""
        route = self.route(method, path)
        if route is None:
            return 404, {"message": "Not Found"}
        arn = assumed_role_arn(self.role_name(role), user)
        result, error = self.invoke(route.function, http_api_event(method, path, arn, body, route.key))
        if error:
            return 502, {"error": error}
        payload = result.get("body") or "null"
        return int(result["statusCode"]), json.loads(payload)


def assumed_role_arn(role_name: str, user: str) -> str:
    """The identity IAM gives `user` after assuming the role: what an IAM-authorised API reads."""
    return f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role_name}/{user}"


def http_api_event(
    method: str, path: str, user_arn: str, body: dict[str, Any] | None, route_key: str | None = None
) -> dict[str, Any]:
    """The event API Gateway (HTTP API, payload 2.0) hands the function after IAM authentication."""
    user = user_arn.rsplit("/", 1)[-1]
    route_key = route_key or f"{method} {path}"
    raw_path, _, query = path.partition("?")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": {"content-type": "application/json", "host": "local"},
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": "local",
            "authorizer": {
                "iam": {
                    "accessKey": "ASIALOCAL",
                    "accountId": ACCOUNT_ID,
                    "callerId": f"AROALOCAL:{user}",
                    "principalOrgId": None,
                    "userArn": user_arn,
                    "userId": f"AROALOCAL:{user}",
                }
            },
            "domainName": "local",
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "loyalty",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "timeEpoch": int(time.time() * 1000),
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }
    return event
