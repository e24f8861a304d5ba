"""HTTP APIs in-process: a request is routed to the function whose `HttpApi` event (path and
method, read from the template) matches, with the event API Gateway (payload 2.0) hands a
function after IAM (SigV4) authentication.

The caller's identity is made as on AWS: `user` assumes the role through STS with `user` as
source identity and as session name (what the roles' trust policies require), and the request
context carries what STS answered (`userArn`, `userId`/`callerId`: `<role id>:<session>`). moto
evaluates no trust policy and keeps no source identity, so the local cloud cannot refuse a
session name that differs from the source identity: it never makes one."""

from __future__ import annotations

import json
import re
from typing import Any

from loyalty_local import gateway
from loyalty_local.env import ACCOUNT_ID
from loyalty_local.runtime import CloudBase
from loyalty_local.template import Route


class HttpApiMixin(CloudBase):
    # -- HTTP APIs with a JWT authorizer (or none), served as API Gateway serves them -------------
    def http_api(self, logical_id: str | None = None) -> gateway.HttpApi:
        """An HTTP API of the stack by logical id (None: the only one that is not IAM-authorized)."""
        if logical_id is not None:
            return self.apis[logical_id]  # type: ignore[no-any-return]
        served = [a for a in self.apis.values() if not a.iam]
        if len(served) != 1:
            raise ValueError(f"name the API, one of {sorted(self.apis)}")
        return served[0]  # type: ignore[no-any-return]

    def http(
        self,
        method: str,
        path: str,
        token: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
        api: str | None = None,
    ) -> gateway.Answer:
        """One request through an HTTP API in-process (routes, JWT authorizer, throttle, the
        function, the answer mapping), as the served port would answer it. `body`: bytes as is,
        anything else as JSON."""
        raw_path, _, query = path.partition("?")
        hdrs = {k.lower(): v for k, v in (headers or {}).items()}
        data = b""
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            hdrs.setdefault("content-type", "application/json")
        if token:
            hdrs["authorization"] = f"Bearer {token}"
        return gateway.serve(self.http_api(api), self.invoke, method.upper(), raw_path, query, hdrs, data)

    # -- the user pool ------------------------------------------------------------------------
    def pool_ids(self) -> tuple[str, str]:
        """(user pool id, client id) of the stack's only user pool and its only client."""
        pools = self.pools.pool_ids if self.pools is not None else []
        clients = self.pools.client_ids if self.pools is not None else []
        if len(pools) != 1 or len(clients) != 1:
            raise ValueError(f"the stack has {len(pools)} user pools and {len(clients)} clients: name them")
        return pools[0], clients[0]

    def add_user(
        self, username: str, password: str, email: str, groups: list[str], partner_id: str | None = None
    ) -> None:
        add_user(
            self.client("cognito-idp"), self.pool_ids()[0], username, password, email, groups, partner_id
        )

    def sign_in(self, username: str, password: str) -> str:
        """The id token the user pool gives `username` (what the portal sends as bearer token)."""
        return str(sign_in(self.client("cognito-idp"), self.pool_ids()[1], username, password)["IdToken"])

    # -- IAM-authorized APIs (in-process only) --------------------------------------------------
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
        arn, user_id = assume_role_as(self.client("sts"), self.role_name(role), user)
        event = http_api_event(method, path, arn, body, route.key, user_id)
        result, error = self.invoke(route.function, event)
        if error:
            return 502, {"error": error}
        payload = result.get("body") or "null"
        return int(result["statusCode"]), json.loads(payload)


def assumed_role_arn(role_name: str, user: str) -> str:
    """The identity IAM gives `user` after assuming the role: what an IAM-authorised API reads."""
    return f"arn:aws:sts::{ACCOUNT_ID}:assumed-role/{role_name}/{user}"


def assume_role_as(sts: Any, role_name: str, user: str) -> tuple[str, str]:
    """(userArn, userId) of `user`'s session of the role, from STS: source identity and session
    name are both `user` (as the CLI assumes roles on AWS)."""
    out = sts.assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/{role_name}", RoleSessionName=user, SourceIdentity=user
    )["AssumedRoleUser"]
    return str(out["Arn"]), str(out["AssumedRoleId"])


def http_api_event(
    method: str,
    path: str,
    user_arn: str,
    body: dict[str, Any] | None,
    route_key: str | None = None,
    user_id: str | None = None,
) -> dict[str, Any]:
    """The event API Gateway (HTTP API, payload 2.0) hands the function after IAM authentication."""
    user = user_arn.rsplit("/", 1)[-1]
    user_id = user_id or f"AROALOCAL:{user}"
    iam = {
        "iam": {
            "accessKey": "ASIALOCAL",
            "accountId": ACCOUNT_ID,
            "callerId": user_id,
            "principalOrgId": None,
            "userArn": user_arn,
            "userId": user_id,
        }
    }
    data = json.dumps(body).encode() if body is not None else b""
    return _event(method, path, route_key, {"content-type": "application/json"}, data, iam)


def jwt_http_api_event(
    method: str,
    path: str,
    claims: dict[str, Any],
    body: Any = None,
    headers: dict[str, str] | None = None,
    route_key: str | None = None,
    path_parameters: dict[str, str] | None = None,
    raw_body: str | bytes | None = None,
) -> dict[str, Any]:
    """The event API Gateway (HTTP API, payload 2.0) hands a function after its JWT authorizer
    verified a token with these claims (`gateway.request_event`: list claims flattened, the query
    string parsed, bytes bodies base64-encoded). `body` is JSON-encoded unless `raw_body` is given."""
    hdrs = {"content-type": "application/json"} if body is not None else {}
    hdrs.update(headers or {})
    if raw_body is not None:
        data = raw_body if isinstance(raw_body, bytes) else raw_body.encode()
    else:
        data = json.dumps(body).encode() if body is not None else b""
    return _event(method, path, route_key, hdrs, data, gateway.jwt_context(claims), path_parameters)


def _event(
    method: str,
    path: str,
    route_key: str | None,
    headers: dict[str, str],
    body: bytes,
    authorizer: dict[str, Any],
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    raw_path, _, query = path.partition("?")
    key_method, _, key_path = (route_key or f"{method} {raw_path}").partition(" ")
    route = Route(key_method, key_path, "", "local")
    hdrs = {"host": "local", "user-agent": "loyalty", **{k.lower(): v for k, v in headers.items()}}
    event = gateway.request_event(route, method, raw_path, query, hdrs, body, authorizer)
    if path_parameters is not None:
        event["pathParameters"] = path_parameters or None
    return event


def add_user(
    idp: Any,
    pool_id: str,
    username: str,
    password: str,
    email: str,
    groups: list[str],
    partner_id: str | None = None,
) -> None:
    """Create (or update) a user as an administrator does: attributes, a permanent password and
    group memberships. Re-running it changes nothing."""
    attrs = [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}]
    if partner_id:
        attrs.append({"Name": "custom:partner_id", "Value": partner_id})
    try:
        idp.admin_create_user(
            UserPoolId=pool_id, Username=username, UserAttributes=attrs, MessageAction="SUPPRESS"
        )
    except idp.exceptions.UsernameExistsException:
        idp.admin_update_user_attributes(UserPoolId=pool_id, Username=username, UserAttributes=attrs)
    idp.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=password, Permanent=True)
    for group in groups:
        idp.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName=group)


def sign_in(idp: Any, client_id: str, username: str, password: str) -> dict[str, Any]:
    """The user pool's tokens for a user name and password (USER_PASSWORD_AUTH)."""
    out: dict[str, Any] = idp.initiate_auth(
        ClientId=client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )["AuthenticationResult"]
    return out
