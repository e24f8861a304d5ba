"""A small IAM evaluator over template.yaml (issue 9, points 4, 5, 7, 8, 9), shared by the
template security tests: the SAM template is translated (policy templates expanded) and every
role's statements are evaluated with wildcards in actions and resources, Resource/NotResource,
and the `dynamodb:LeadingKeys` conditions the table's partition scoping uses."""

from __future__ import annotations

import copy
import fnmatch
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from loyalty_local.cloud import load_template, translate

ROOT = Path(__file__).resolve().parents[2]
SAM = load_template(ROOT / "template.yaml")
PSEUDO = {"AWS::StackName": "stk", "AWS::AccountId": "111122223333", "AWS::Region": "eu-west-1"}
PSEUDO |= {"AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}
BUCKET = "stk-uploads-111122223333-eu-west-1"
TABLE = "arn:aws:dynamodb:eu-west-1:111122223333:table/Table"

FUNCTIONS = (
    "IngestSplitterFunction",
    "AccrualWriterFunction",
    "ConfigLoaderFunction",
    "DlqReporterFunction",
    "CloseWorkerFunction",
    "CloseStarterFunction",
    "ApprovalSweeperFunction",
    "ApprovalsApiFunction",
    "SimulatorFunction",
    "FinanceApiFunction",  # issue 12 (finance helper)
    "AnalyticsFunction",  # issue 13: the close's Analytics step
)
PARSERS = ("IngestSplitterFunction", "AccrualWriterFunction", "DlqReporterFunction")
BANK_STEP = ("BankFilesFunction",)  # the only function that decrypts bank details and writes bank files


def translated() -> dict[str, Any]:
    tpl = copy.deepcopy(SAM)
    for res in tpl["Resources"].values():  # translation wants S3 locations for code
        props = res.get("Properties", {})
        for prop in ("CodeUri", "ContentUri", "DefinitionUri"):
            if isinstance(props.get(prop), str):
                props[prop] = "s3://artifacts/code.zip"
    return translate(tpl, {})


# -- a small IAM evaluator ------------------------------------------------------------------------
def arn_of(logical: str) -> str:
    res = SAM["Resources"].get(logical, {})
    if res.get("Type") == "AWS::S3::Bucket":
        return "arn:aws:s3:::" + render(res["Properties"]["BucketName"])
    if logical == "Table":
        return TABLE
    if res.get("Type") == "AWS::KMS::Key":
        return f"arn:aws:kms:eu-west-1:111122223333:key/ref:{logical}"
    return f"arn:{logical}"


def render(node: Any, local: dict[str, Any] | None = None) -> str:
    """A template value as a string: pseudo parameters fixed, ARNs of the stack's resources."""
    if isinstance(node, str):
        return node
    if "Ref" in node:
        name = node["Ref"]
        if name in PSEUDO:
            return PSEUDO[name]
        return "Table" if name == "Table" else f"ref:{name}"
    if "Fn::GetAtt" in node:
        logical, attr = (
            node["Fn::GetAtt"] if isinstance(node["Fn::GetAtt"], list) else node["Fn::GetAtt"].split(".")
        )
        return arn_of(logical) if attr == "Arn" else f"{logical}.{attr}"
    if "Fn::Sub" in node:
        sub = node["Fn::Sub"]
        text, mapping = (sub[0], sub[1]) if isinstance(sub, list) else (sub, {})

        def one(m: re.Match[str]) -> str:
            name = m.group(1)
            if name.startswith("!"):  # ${!x}: a literal ${x} (an IAM policy variable)
                return "${" + name[1:] + "}"
            if name in mapping:
                return render(mapping[name])
            if name in PSEUDO:
                return PSEUDO[name]
            if name.endswith(".Arn"):
                return arn_of(name[:-4])
            return "${" + name + "}" if ":" in name or "/" in name else f"ref:{name}"

        return re.sub(r"\$\{([^}]+)\}", one, text)
    if "Fn::Join" in node:
        sep, parts = node["Fn::Join"]
        return sep.join(render(p) for p in parts)
    raise ValueError(f"cannot render {node}")


def as_list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else [v]


def matches(pattern: str, value: str) -> bool:
    return fnmatch.fnmatchcase(value.lower(), pattern.replace("[", "[[]").lower())


def statements(cfn: dict[str, Any], role: str) -> list[dict[str, Any]]:
    res = cfn["Resources"].get(role)
    if res is None:
        return []
    out = []
    for pol in res["Properties"].get("Policies", []):
        out += pol["PolicyDocument"]["Statement"]
    return out


def _keys_ok(st: dict[str, Any], keys: Iterable[str] | None) -> bool:
    """The statement's conditions for a request on the table partitions `keys`."""
    for op, cond in (st.get("Condition") or {}).items():
        for key, want in cond.items():
            if key != "dynamodb:LeadingKeys":
                continue
            if keys is None:
                return op.startswith("ForAllValues")  # no key in the request: ForAll holds vacuously
            hit = [any(matches(render(p), k) for p in as_list(want)) for k in keys]
            if (op.startswith("ForAllValues") and not all(hit)) or (
                op.startswith("ForAnyValue") and not any(hit)
            ):
                return False
    return True


def _applies(st: dict[str, Any], action: str, resource: str, keys: Iterable[str] | None) -> bool:
    if not any(matches(a, action) for a in as_list(st.get("Action", []))):
        return False
    if "NotResource" in st:
        if any(matches(render(r), resource) for r in as_list(st["NotResource"])):
            return False
    elif not any(matches(render(r), resource) for r in as_list(st.get("Resource", []))):
        return False
    return _keys_ok(st, keys)


def allowed(
    cfn: dict[str, Any], role: str, action: str, resource: str, keys: Iterable[str] | None = None
) -> bool:
    sts = statements(cfn, role)
    keys = list(keys) if keys is not None else None
    if any(s["Effect"] == "Deny" and _applies(s, action, resource, keys) for s in sts):
        return False
    return any(s["Effect"] == "Allow" and _applies(s, action, resource, keys) for s in sts)


def functions(cfn: dict[str, Any]) -> list[str]:
    return [k for k, v in SAM["Resources"].items() if v["Type"] == "AWS::Serverless::Function"]


def all_roles(cfn: dict[str, Any]) -> list[str]:
    return [k for k, v in cfn["Resources"].items() if v["Type"] == "AWS::IAM::Role"]


def key_statements(logical: str) -> list[dict[str, Any]]:
    return SAM["Resources"][logical]["Properties"]["KeyPolicy"]["Statement"]  # type: ignore[no-any-return]


def tag_of(cfn: dict[str, Any], fn: str, tag: str) -> str | None:
    role = cfn["Resources"].get(f"{fn}Role")
    if role is None:
        return None
    tags = {t["Key"]: t["Value"] for t in role["Properties"].get("Tags", [])}
    return tags.get(tag)


def bucket_denies() -> list[dict[str, Any]]:
    policy = SAM["Resources"]["UploadBucketPolicy"]["Properties"]["PolicyDocument"]
    return [s for s in policy["Statement"] if s["Effect"] == "Deny"]


def key_allows_service(key: str, service: str, actions: Iterable[str]) -> bool:
    for action in actions:
        ok = False
        for st in key_statements(key):
            principal = st.get("Principal", {})
            services = as_list(principal.get("Service", [])) if isinstance(principal, dict) else []
            if (
                st["Effect"] == "Allow"
                and service in services
                and any(matches(a, action) for a in as_list(st["Action"]))
            ):
                ok = True
        if not ok:
            return False
    return True
