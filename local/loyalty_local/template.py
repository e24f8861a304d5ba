"""Reading a SAM template: CloudFormation tags, the SAM translation, what moto cannot create, and
the facts the runtime needs (HTTP API routes, resources by type). Names come from the template
itself, never from this code."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


class _CfnLoader(yaml.SafeLoader):
    pass


def _cfn_tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _cfn_tag)


def load_template(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.load(path.read_text(), Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    return data


class _AnyManagedPolicy(dict[str, str]):
    def get(self, key: str, default: Any = None) -> str:  # type: ignore[override]
        return f"arn:aws:iam::aws:policy/service-role/{key}"

    def __missing__(self, key: str) -> str:
        return self.get(key)


class _PolicyLoader:
    def load(self) -> dict[str, str]:
        return _AnyManagedPolicy()


def translate(template: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    from samtranslator.translator.transform import transform

    out: dict[str, Any] = transform(template, params, _PolicyLoader())  # type: ignore[arg-type]
    return out


def zip_dir(path: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(path.rglob("*")):
            if f.is_file() and "__pycache__" not in f.parts and not f.name.endswith(".egg-info"):
                z.write(f, f.relative_to(path).as_posix())
    return buf.getvalue()


def of_type(tpl: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    """The template's resources of one type, by logical id."""
    return {k: v for k, v in tpl.get("Resources", {}).items() if v.get("Type") == kind}


# -- HTTP API routes ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    """One `HttpApi` event of a function: `GET /closes/{period}` -> the function's logical id."""

    method: str
    path: str
    function: str
    api: str
    authorizer: str | None = None  # the event's `Auth.Authorizer` (None: the API's default; "NONE": public)

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    def parameters(self, path: str) -> dict[str, str]:
        """The path parameters of a matching request path (`{period}` -> "2026-10")."""
        names = [n.strip("{}+") for n in re.findall(r"\{[^}]+\}", self.path)]
        m = _path_pattern(self.path, capture=True).fullmatch(path)
        return dict(zip(names, m.groups(), strict=True)) if m else {}

    def matches(self, method: str, path: str) -> bool:
        if self.method not in {"ANY", method.upper()}:
            return False
        return self.path == "$default" or _path_pattern(self.path).fullmatch(path) is not None


def _path_pattern(template_path: str, capture: bool = False) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template_path)
    out = []
    for part in parts:
        if part.startswith("{") and part.endswith("+}"):
            out.append(r"(.+)" if capture else r".+")  # greedy path variable, e.g. {proxy+}
        elif part.startswith("{"):
            out.append(r"([^/]+)" if capture else r"[^/]+")
        else:
            out.append(re.escape(part))
    return re.compile("".join(out))


def http_routes(sam_template: dict[str, Any]) -> list[Route]:
    """Every `HttpApi` event of every function in a SAM template; exact paths before templated
    ones (API Gateway prefers the most specific route), `$default` last."""
    routes = []
    for logical, res in of_type(sam_template, "AWS::Serverless::Function").items():
        for ev in (res.get("Properties", {}).get("Events") or {}).values():
            if ev.get("Type") != "HttpApi":
                continue
            props = ev.get("Properties") or {}
            api = props.get("ApiId", {})
            auth = (props.get("Auth") or {}).get("Authorizer")
            routes.append(
                Route(
                    method=str(props.get("Method", "ANY")).upper(),
                    path=str(props.get("Path", "$default")),
                    function=logical,
                    api=api.get("Ref", "") if isinstance(api, dict) else str(api),
                    authorizer=str(auth) if auth else None,
                )
            )
    return sorted(routes, key=lambda r: (r.path == "$default", r.path.count("{"), r.method == "ANY"))


# -- what moto's CloudFormation cannot create -----------------------------------------------------
# Resource types moto's CloudFormation cannot create; their behaviour is provided by the runtime
# (EventInvokeConfig: retries; HTTP APIs: in-process calls) or has no local meaning (alarms are
# checked on AWS, applied through the CloudWatch API).
UNSUPPORTED_BY_MOTO = frozenset(
    {
        "AWS::Lambda::EventInvokeConfig",
        "AWS::SNS::Subscription",
        "AWS::S3::BucketPolicy",
        "AWS::SNS::TopicPolicy",
        "AWS::CloudWatch::Alarm",
        "AWS::ApiGatewayV2::Api",
        "AWS::ApiGatewayV2::Stage",
        # emails (issue 12): applied by loyalty_local.mail (SES) or with no local meaning (queue policy)
        "AWS::SQS::QueuePolicy",
        "AWS::SES::EmailIdentity",
        "AWS::SES::ConfigurationSet",
        "AWS::SES::ConfigurationSetEventDestination",
        # analytics (issue 13): locally DuckDB runs the queries over the same Parquet (no Athena)
        "AWS::Glue::Database",
        "AWS::Glue::Table",
        "AWS::Athena::WorkGroup",
    }
)


def refs(node: Any) -> set[str]:
    """Logical ids a template node refers to (Ref, GetAtt, Sub)."""
    out: set[str] = set()
    if isinstance(node, dict):
        for k, v in node.items():
            if k == "Ref" and isinstance(v, str):
                out.add(v)
            elif k == "Fn::GetAtt":
                out.add(v[0] if isinstance(v, list) else str(v).split(".")[0])
            elif k == "Fn::Sub":
                text = v[0] if isinstance(v, list) else v
                out |= {m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text)}
                out |= refs(v[1] if isinstance(v, list) else None)
            else:
                out |= refs(v)
    elif isinstance(node, list):
        for v in node:
            out |= refs(v)
    return out


def prune_unsupported(tpl: dict[str, Any]) -> set[str]:
    """Drop resources moto cannot create and, transitively, what refers to them (locally an HTTP
    API is replaced by in-process calls of its functions; see LocalCloud.api)."""
    res = tpl["Resources"]
    gone = {k for k, v in res.items() if v["Type"] in UNSUPPORTED_BY_MOTO}
    changed = True
    while changed:
        changed = False
        for k, v in res.items():
            if k not in gone and refs(v) & gone:
                gone.add(k)
                changed = True
    tpl["Resources"] = {k: v for k, v in res.items() if k not in gone}
    tpl["Outputs"] = {k: v for k, v in tpl.get("Outputs", {}).items() if not refs(v) & gone}
    return gone


def local_api_outputs(full: dict[str, Any], kept: dict[str, str]) -> dict[str, str]:
    """Outputs dropped with an HTTP API (its URL): a note that the API is served in-process."""
    apis = set(of_type(full, "AWS::ApiGatewayV2::Api"))
    out = {}
    for name, spec in full.get("Outputs", {}).items():
        used = refs(spec) & apis
        if name not in kept and used:
            out[name] = f"local:{sorted(used)[0]} (in-process, see LocalCloud.api)"
    return out
