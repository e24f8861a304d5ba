"""The portal API's OpenAPI document, generated from the code: every function that serves a route
of `PortalApi` in template.yaml and whose handler module is a validating Powertools resolver
(`app` with `enable_validation=True`; the web pages' resolver is not an API) contributes its
routes and models; the document gets the user pool's bearer
JWT scheme (public routes, `Auth: {Authorizer: NONE}` in the template, need none).

    python -m loyalty_cli.openapi            # writes docs/openapi/portal.json (`make openapi`)
    python -m loyalty_cli.openapi --check    # exit 1 when the checked-in document is stale

A handler module that does not exist yet (another surface still being written) is skipped; the
document lists the routes of the modules that do."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import os
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loyalty_local.template import load_template, of_type

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
DOCUMENT = ROOT / "docs/openapi/portal.json"
API = "PortalApi"
TITLE = "Loyalty portal API (partner portal and finance console)"
VERSION = "1"
BEARER = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "JWT",
    "description": "the user pool's id token (`POST /auth/login`); groups partner, finance, operator,"
    " program_manager",
}
# what a handler module reads at import (its container): placeholders, nothing is called
IMPORT_ENV = {
    "TABLE_NAME": "openapi",
    "UPLOAD_BUCKET": "openapi",
    "AWS_REGION": "eu-central-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "openapi",
}
PLACEHOLDER = "openapi-placeholder-0123456789abcdef"  # long enough for any key a module checks
REF = re.compile(r'"#/components/schemas/([^"]+)"')


@dataclass(frozen=True)
class Handler:
    """A function of the portal API: its handler module and the template routes it serves."""

    function: str
    module: Path
    routes: frozenset[tuple[str, str]]  # (METHOD, /path/{param})
    public: frozenset[tuple[str, str]]
    env: Mapping[str, str] = field(default_factory=dict)  # its template environment (placeholders)


def portal_handlers(template: Mapping[str, Any]) -> list[Handler]:
    """Every function with an `HttpApi` event on the portal API, in logical-id order."""
    out = []
    for logical, res in sorted(of_type(dict(template), "AWS::Serverless::Function").items()):
        props = res.get("Properties") or {}
        routes: set[tuple[str, str]] = set()
        public: set[tuple[str, str]] = set()
        for ev in (props.get("Events") or {}).values():
            p = ev.get("Properties") or {}
            if ev.get("Type") != "HttpApi" or p.get("ApiId") != {"Ref": API}:
                continue
            key = (str(p.get("Method", "ANY")).upper(), str(p.get("Path", "$default")))
            routes.add(key)
            if str((p.get("Auth") or {}).get("Authorizer", "")).upper() == "NONE":
                public.add(key)
        if routes:
            module = (
                ROOT
                / str(props.get("CodeUri", ""))
                / (str(props.get("Handler", "app.handler")).split(".")[0] + ".py")
            )
            params = template.get("Parameters") or {}
            env = {
                str(k): _env_value(v, params)
                for k, v in ((props.get("Environment") or {}).get("Variables") or {}).items()
            }
            out.append(Handler(logical, module, frozenset(routes), frozenset(public), env))
    return out


def _env_value(value: Any, params: Mapping[str, Any]) -> str:
    """A template environment value at import: literal, a parameter's default, else a placeholder."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value and "Default" in (params.get(value["Ref"]) or {}):
        return str(params[value["Ref"]]["Default"])
    return PLACEHOLDER


@contextlib.contextmanager
def import_env(extra: Mapping[str, str]) -> Iterator[None]:
    wanted = {**extra, **IMPORT_ENV}
    saved = {k: os.environ.get(k) for k in wanted}
    for k, v in wanted.items():
        os.environ.setdefault(k, v)
    try:
        yield
    finally:
        for k, old in saved.items():
            if old is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = old


def resolver_schema(module: Path, env: Mapping[str, str] | None = None) -> dict[str, Any] | None:
    """The OpenAPI schema of a handler module's resolver (None: no such module, or no resolver).
    The module is imported with its template environment (`env`; values the template computes
    are placeholders: nothing is called at import)."""
    if not module.is_file():
        return None
    name = f"openapi_{module.parent.name}_{module.stem}"
    spec = importlib.util.spec_from_file_location(name, module)
    if spec is None or spec.loader is None:
        return None
    mod = importlib.util.module_from_spec(spec)
    with import_env(env or {}):
        spec.loader.exec_module(mod)
    app = getattr(mod, "app", None)
    # an API resolver validates its requests and answers; the pages' resolver (HTML, assets) does not
    if (
        app is None
        or not hasattr(app, "get_openapi_json_schema")
        or not getattr(app, "_enable_validation", False)
    ):
        return None
    schema: dict[str, Any] = json.loads(app.get_openapi_json_schema(title=TITLE, version=VERSION))
    return schema


def _drop_default_422(paths: dict[str, Any]) -> None:
    """Powertools documents a 422 for every validated route; these resolvers answer bad input
    with 400 (field and reason), so the 422 only stays where a route documents its own."""
    for ops in paths.values():
        for op in ops.values():
            got = op.get("responses", {}).get("422")
            if got and "HTTPValidationError" in json.dumps(got):
                del op["responses"]["422"]


GATEWAY_ERROR = {
    "title": "GatewayError",
    "type": "object",
    "properties": {"message": {"type": "string", "title": "Message"}},
    "required": ["message"],
    "description": "An answer of API Gateway itself (the function never ran).",
}


def _gateway_answers(paths: dict[str, Any], schemas: dict[str, Any]) -> None:
    """What API Gateway answers before any function runs, on every route: 429 when throttled,
    and 401 on a route behind the JWT authorizer when the token is missing or not valid."""
    name = next(
        (k for k, v in schemas.items() if k.endswith("GatewayError") and v == GATEWAY_ERROR), "GatewayError"
    )
    schemas.setdefault(name, GATEWAY_ERROR)
    body = {"content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}}}
    for ops in paths.values():
        for op in ops.values():
            answers = op.setdefault("responses", {})
            answers.setdefault("429", {"description": "throttled (API Gateway)", **body})
            if op.get("security") != []:
                answers.setdefault("401", {"description": "no verified token (API Gateway)", **body})


def _rename(doc: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    text = json.dumps(doc).replace(f'"#/components/schemas/{old}"', f'"#/components/schemas/{new}"')
    out: dict[str, Any] = json.loads(text)
    return out


def reachable(paths: Mapping[str, Any], schemas: Mapping[str, Any]) -> dict[str, Any]:
    """The models the paths use, directly or through other models (Powertools' own validation
    models go once no route documents them)."""
    todo = set(REF.findall(json.dumps(paths)))
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        todo |= set(REF.findall(json.dumps(schemas[name])))
    return {k: v for k, v in schemas.items() if k in seen}


def merge(parts: Sequence[tuple[Handler, dict[str, Any]]]) -> dict[str, Any]:
    """One document for the one API: paths of every resolver, their models (a model two resolvers
    define differently is kept twice, the later under `<Function>_<Model>`), the bearer scheme."""
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    tags: set[str] = set()
    for handler, given in parts:
        part = given
        for model, body in sorted(given.get("components", {}).get("schemas", {}).items()):
            if model in schemas and schemas[model] != body:
                renamed = f"{handler.function}_{model}"
                part = _rename(part, model, renamed)
                own = part["components"]["schemas"]
                own[renamed] = own.pop(model)
        for model, body in part.get("components", {}).get("schemas", {}).items():
            schemas.setdefault(model, body)
        for path, ops in part.get("paths", {}).items():
            for method, op in ops.items():
                if (method.upper(), path) in handler.public:
                    op["security"] = []
                tags.update(op.get("tags", []))
                paths.setdefault(path, {})[method] = op
    _drop_default_422(paths)
    _gateway_answers(paths, schemas)
    schemas = reachable(paths, schemas)
    return {
        "openapi": parts[0][1].get("openapi", "3.1.0") if parts else "3.1.0",
        "info": {"title": TITLE, "version": VERSION},
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": t} for t in sorted(tags)],
        "paths": {p: dict(sorted(paths[p].items())) for p in sorted(paths)},
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {"bearerAuth": BEARER},
        },
    }


def generate(handlers: Sequence[Handler] | None = None) -> dict[str, Any]:
    chosen = portal_handlers(load_template(TEMPLATE)) if handlers is None else handlers
    parts = [(h, s) for h in chosen if (s := resolver_schema(h.module, h.env)) is not None]
    return merge(parts)


def render(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, indent=1, sort_keys=False, ensure_ascii=False) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m loyalty_cli.openapi", description=__doc__)
    ap.add_argument("--check", action="store_true", help="exit 1 when the checked-in document is stale")
    ap.add_argument("--out", type=Path, default=DOCUMENT)
    args = ap.parse_args(argv)
    text = render(generate())
    if args.check:
        current = args.out.read_text(encoding="utf-8") if args.out.is_file() else ""
        if current != text:
            print(f"{args.out} is stale: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
