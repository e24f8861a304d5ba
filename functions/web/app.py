"""The portal's pages and their assets, served by the stack itself (no CDN, nothing fetched from
the internet at run time): `GET /` (sign-in), `GET /partner` (partner dashboard), `GET /finance`
(finance console), `GET /assets/<name>` (scripts, styles, icons). Public routes: a page holds no
data; its script signs in (`/auth/login`) and reads the APIs with the user pool's token.

Pages are Jinja2 templates (autoescaped) rendered in the visitor's language: `?lang=`, else the
`lang` cookie the language switch sets, else Accept-Language, else English. Every answer carries
a strict Content-Security-Policy (scripts and styles only from the stack; connections to the
stack and to S3 for presigned downloads and uploads)."""

from __future__ import annotations

import json
import mimetypes
import os
from functools import cache
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from jinja2 import Environment, FileSystemLoader, TemplateNotFound, select_autoescape
from loyalty.kernel.i18n import LANGS, Lang, accept_language, choose_lang

HERE = Path(__file__).parent
STATIC = HERE / "static"
MESSAGES = HERE / "messages"
PAGES = {"/": "login.html", "/partner": "partner.html", "/finance": "finance.html"}
S3_ORIGIN = os.environ.get("S3_PUBLIC_ENDPOINT") or "https://*.amazonaws.com"

logger = Logger(service="web")
app = APIGatewayHttpResolver()
env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True))


def security_headers(kind: str) -> dict[str, str]:
    return {
        "Content-Type": kind,
        "Content-Security-Policy": (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"font-src 'self'; connect-src 'self' {S3_ORIGIN}; form-action 'self' {S3_ORIGIN}; "
            "base-uri 'none'; frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
    }


@cache
def messages(page: str, lang: Lang) -> dict[str, str]:
    """The page's words in `lang`: the common catalog, then the page's own (page keys win)."""
    out: dict[str, str] = {}
    for name in ("common", page):
        path = MESSAGES / f"{name}.{lang}.json"
        if path.is_file():
            out.update(json.loads(path.read_text(encoding="utf-8")))
    return out


def request_lang() -> Lang:
    event = app.current_event
    query = (event.query_string_parameters or {}).get("lang")
    cookies = dict(c.split("=", 1) for c in (event.cookies or []) if "=" in c)
    return choose_lang(query, cookies.get("lang"), accept_language(event.headers.get("accept-language")))


def page(path: str) -> Response[str]:
    lang = request_lang()
    name = PAGES[path]
    try:
        template = env.get_template(name)
    except TemplateNotFound:
        return Response(404, "text/plain", "no such page")
    words = messages(name.removesuffix(".html"), lang)
    html = template.render(lang=lang, langs=LANGS, t=words, messages=words, page=name.removesuffix(".html"))
    headers = security_headers("text/html; charset=utf-8") | {"Cache-Control": "no-store"}
    return Response(200, headers["Content-Type"], html, headers=headers)


@app.get("/")
def login_page() -> Response[str]:
    return page("/")


@app.get("/partner")
def partner_page() -> Response[str]:
    return page("/partner")


@app.get("/finance")
def finance_page() -> Response[str]:
    return page("/finance")


@app.get("/assets/<name>")
def asset(name: str) -> Response[Any]:
    path = (STATIC / name).resolve()
    if path.parent != STATIC.resolve() or not path.is_file():
        return Response(404, "text/plain", "no such asset")
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript", "image/svg+xml"):
        kind += "; charset=utf-8"
        body: Any = path.read_text(encoding="utf-8")
        headers = security_headers(kind) | {"Cache-Control": "public, max-age=300"}
        return Response(200, kind, body, headers=headers)
    headers = security_headers(kind) | {"Cache-Control": "public, max-age=300"}
    return Response(200, kind, path.read_bytes(), headers=headers)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
