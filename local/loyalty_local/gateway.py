"""API Gateway (HTTP APIs) locally: each `AWS::Serverless::HttpApi` of the template with a JWT
authorizer (or none) is served as API Gateway would serve it - its routes (most specific
first), its JWT authorizer (the token's RS256 signature checked against the user pool's keys,
then issuer, audience or client id, expiry and not-before), its default route throttling
(a token bucket: burst and rate per second, 429 beyond), and the payload 2.0 event its
functions get (`requestContext.authorizer.jwt.claims` with list claims flattened as AWS does,
`pathParameters`, `queryStringParameters`, base64 bodies for binary content). The answer is
mapped back as API Gateway maps it (statusCode, headers, cookies, isBase64Encoded; a bare value
is 200 JSON; a crash is 500 `Internal Server Error`).

APIs whose authorizer is IAM (SigV4) stay in-process (`LocalCloud.api`): a local server cannot
verify a SigV4 signature against moto's credentials.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from loyalty_local import cognito
from loyalty_local.env import ACCOUNT_ID
from loyalty_local.template import Route, of_type

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript", "image/svg+xml")


@dataclass(frozen=True)
class JwtAuthorizer:
    name: str
    issuer: str
    audience: tuple[str, ...]
    header: str = "authorization"


@dataclass
class Throttle:
    """API Gateway's token bucket: `burst` requests at once, refilled at `rate` per second."""

    rate: float
    burst: int
    tokens: float = 0.0
    at: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.tokens = float(self.burst)

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(float(self.burst), self.tokens + (now - self.at) * self.rate)
            self.at = now
            if self.tokens < 1:
                return False
            self.tokens -= 1
            return True


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


class Unauthorized(Exception):
    pass


@dataclass
class HttpApi:
    """One HTTP API of the stack: routes, authorizers, throttle."""

    logical_id: str
    routes: list[Route]
    authorizers: dict[str, JwtAuthorizer]
    default_authorizer: str | None
    throttle: Throttle | None
    keys: KeySet
    iam: bool = False

    def route(self, method: str, path: str) -> Route | None:
        return next((r for r in self.routes if r.matches(method, path)), None)

    def authorizer_of(self, route: Route) -> JwtAuthorizer | None:
        name = route.authorizer or self.default_authorizer
        if name in (None, "NONE"):
            return None
        return self.authorizers[name]

    def verify(self, auth: JwtAuthorizer, headers: Mapping[str, str]) -> dict[str, Any]:
        """The claims of the request's token, after API Gateway's JWT authorizer checks."""
        raw = headers.get(auth.header, "").strip()
        if raw.lower().startswith("bearer "):
            raw = raw[7:].strip()
        if not raw:
            raise Unauthorized("no token")
        try:
            token = jwt.decode(raw, self.keys, algorithms=["RS256"])
        except (JoseError, ValueError) as exc:
            raise Unauthorized(f"bad token: {exc}") from None
        claims: dict[str, Any] = dict(token.claims)
        now = time.time()
        if claims.get("iss") != auth.issuer:
            raise Unauthorized("wrong issuer")
        aud = claims.get("aud", claims.get("client_id"))
        auds = aud if isinstance(aud, list) else [aud]
        if not set(map(str, auds)) & set(auth.audience):
            raise Unauthorized("wrong audience")
        if float(claims.get("exp", 0)) <= now or float(claims.get("nbf", 0)) > now + 1:
            raise Unauthorized("token expired or not yet valid")
        return claims


def apis_of(sam: dict[str, Any], routes: list[Route], resolve: Callable[[Any], str]) -> dict[str, HttpApi]:
    """The template's HTTP APIs with their routes, authorizers and throttling (`resolve` turns a
    template value - Sub, Ref - into its deployed value)."""
    keys = KeySet.import_key_set(cognito.jwks())  # type: ignore[arg-type]
    out = {}
    for logical, res in of_type(sam, "AWS::Serverless::HttpApi").items():
        props = res.get("Properties", {})
        auth = props.get("Auth") or {}
        authorizers = {}
        for name, spec in (auth.get("Authorizers") or {}).items():
            conf = spec.get("JwtConfiguration")
            if conf is None:
                continue
            source = str(spec.get("IdentitySource", "$request.header.Authorization"))
            authorizers[name] = JwtAuthorizer(
                name,
                resolve(conf["issuer"]),
                tuple(resolve(a) for a in conf.get("audience", [])),
                source.rsplit(".", 1)[-1].lower(),
            )
        settings = props.get("DefaultRouteSettings") or {}
        throttle = None
        if "ThrottlingRateLimit" in settings:
            throttle = Throttle(
                float(settings["ThrottlingRateLimit"]), int(settings.get("ThrottlingBurstLimit", 1))
            )
        out[logical] = HttpApi(
            logical,
            [r for r in routes if r.api == logical],
            authorizers,
            auth.get("DefaultAuthorizer"),
            throttle,
            keys,
            iam=auth.get("DefaultAuthorizer") == "AWS_IAM",
        )
    return out


def _flat(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + " ".join(str(v) for v in value) + "]"
    return str(value)


def jwt_context(claims: Mapping[str, Any]) -> dict[str, Any]:
    """The request context's authorizer part after a JWT authorizer: list claims flattened."""
    return {"jwt": {"claims": {k: _flat(v) for k, v in claims.items()}, "scopes": None}}


def request_event(
    route: Route,
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    authorizer: Mapping[str, Any] | None,
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """The payload 2.0 event API Gateway hands the route's function (`authorizer`: what its
    authorizer verified, e.g. `jwt_context(claims)`)."""
    params: dict[str, str] = {}
    for k, v in parse_qsl(query, keep_blank_values=True):
        params[k] = f"{params[k]},{v}" if k in params else v
    kind = headers.get("content-type", "")
    text = kind.startswith(TEXT_TYPES) or kind.endswith("+json")
    payload: str | None = None
    encoded = bool(body) and not text
    if encoded:
        payload = base64.b64encode(body).decode()
    elif body:
        payload = body.decode("utf-8", "replace")
    cookies = [c.strip() for c in headers.get("cookie", "").split(";") if c.strip()]
    now = time.time()
    return {
        "version": "2.0",
        "routeKey": route.key,
        "rawPath": path,
        "rawQueryString": query,
        "cookies": cookies or None,
        "headers": dict(headers),
        "queryStringParameters": params or None,
        "pathParameters": route.parameters(path) or None,
        "requestContext": {
            "accountId": ACCOUNT_ID,
            "apiId": route.api.lower(),
            "authorizer": dict(authorizer) if authorizer else None,
            "domainName": headers.get("host", "localhost"),
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route.key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "body": payload,
        "isBase64Encoded": encoded,
    }


def answer_of(result: Any) -> Answer:
    """API Gateway's mapping of a payload 2.0 function answer to the HTTP response."""
    if not isinstance(result, dict) or "statusCode" not in result:
        body = json.dumps(result).encode()
        return Answer(200, [("content-type", "application/json")], body)
    headers = [(str(k).lower(), str(v)) for k, v in (result.get("headers") or {}).items()]
    for k, values in (result.get("multiValueHeaders") or {}).items():
        headers += [(str(k).lower(), str(v)) for v in values]
    headers += [("set-cookie", str(c)) for c in result.get("cookies") or []]
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode()
    if not any(k == "content-type" for k, _ in headers):
        headers.append(("content-type", "application/json"))
    return Answer(int(result["statusCode"]), headers, body)


def message(status: int, text: str, extra: Iterable[tuple[str, str]] = ()) -> Answer:
    return Answer(
        status, [("content-type", "application/json"), *extra], json.dumps({"message": text}).encode()
    )


def serve(
    api: HttpApi,
    invoke: Callable[[str, dict[str, Any]], tuple[Any, str | None]],
    method: str,
    path: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    source_ip: str = "127.0.0.1",
) -> Answer:
    """One request through the API: throttle, route, authorizer, function, answer."""
    headers = {k.lower(): v for k, v in headers.items()}
    if api.throttle is not None and not api.throttle.take():
        return message(429, "Too Many Requests")
    route = api.route(method, path)
    if route is None:
        return message(404, "Not Found")
    claims = None
    auth = api.authorizer_of(route)
    if auth is not None:
        try:
            claims = api.verify(auth, headers)
        except Unauthorized:
            return message(401, "Unauthorized", [("www-authenticate", 'Bearer error="invalid_token"')])
    context = jwt_context(claims) if claims is not None else None
    event = request_event(route, method, path, query, headers, body, context, source_ip)
    result, error = invoke(route.function, event)
    if error:
        return message(500, "Internal Server Error")
    return answer_of(result)


def wsgi_app(
    api: HttpApi, invoke: Callable[[str, dict[str, Any]], tuple[Any, str | None]]
) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """The API as a WSGI application (served on a local port by `loyalty up`)."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        headers = {
            k[5:].replace("_", "-").lower(): str(v) for k, v in environ.items() if k.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["content-type"] = str(environ["CONTENT_TYPE"])
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        path = environ.get("PATH_INFO") or "/"
        out = serve(
            api,
            invoke,
            str(environ.get("REQUEST_METHOD", "GET")),
            path,
            str(environ.get("QUERY_STRING", "")),
            headers,
            body,
            str(environ.get("REMOTE_ADDR", "127.0.0.1")),
        )
        try:
            reason = HTTPStatus(out.status).phrase
        except ValueError:
            reason = "Unknown"
        start_response(f"{out.status} {reason}", [*out.headers, ("content-length", str(len(out.body)))])
        return [out.body]

    return app
