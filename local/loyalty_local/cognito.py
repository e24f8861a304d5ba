"""User pools locally: moto's CloudFormation cannot create Cognito resources, so the runtime
creates the template's user pools, clients and groups through moto's Cognito API before the
stack, and writes their ids into the template where it refers to them (Ref, GetAtt, Sub), as
CloudFormation would. moto's Cognito then signs in users and issues RS256-signed tokens with its
own key pair; the local HTTP API's JWT authorizer verifies them against that key set
(`jwks`), the issuer and the audience, as API Gateway does against the pool's JWKS URL.

`loyalty users add|list` (loyalty_cli.users) manages the users of a running local cloud through
the same Cognito API, so the same calls work against a deployed stack."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any

from loyalty_local.env import ACCOUNT_ID, REGION
from loyalty_local.template import of_type

POOL = "AWS::Cognito::UserPool"
CLIENT = "AWS::Cognito::UserPoolClient"
GROUP = "AWS::Cognito::UserPoolGroup"
COGNITO_TYPES = frozenset({POOL, CLIENT, GROUP})


@dataclass(frozen=True)
class PoolIds:
    """A created pool's physical ids by logical id (pools and clients) and their ARNs."""

    ids: dict[str, str]
    arns: dict[str, str]
    clients: frozenset[str] = frozenset()  # the logical ids that are clients (the others are pools)

    @property
    def pool_ids(self) -> list[str]:
        return [v for k, v in self.ids.items() if k not in self.clients]

    @property
    def client_ids(self) -> list[str]:
        return [v for k, v in self.ids.items() if k in self.clients]


def jwks() -> dict[str, Any]:
    """The public key set moto signs every user pool token with (its `jwks.json`)."""
    data = resources.files("moto.cognitoidp").joinpath("resources/jwks-public.json.gz").read_bytes()
    out: dict[str, Any] = json.loads(gzip.decompress(data))
    return out


def issuer(pool_id: str) -> str:
    return f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}"


def _sub(text: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    return text


def _reference(node: dict[str, Any], ids: PoolIds) -> Any:
    """What a Ref / GetAtt / Sub node becomes once the pools exist (None: not theirs)."""
    if set(node) == {"Ref"} and node["Ref"] in ids.ids:
        return ids.ids[node["Ref"]]
    if set(node) == {"Fn::GetAtt"} and node["Fn::GetAtt"][0] in ids.ids:
        logical, attr = node["Fn::GetAtt"]
        return ids.arns[logical] if attr == "Arn" else ids.ids[logical]
    if set(node) == {"Fn::Sub"}:
        value = node["Fn::Sub"]
        if isinstance(value, str):
            return {"Fn::Sub": _sub(value, ids.ids)}
        return {"Fn::Sub": [_sub(value[0], ids.ids), resolve(value[1], ids)]}
    return None


def resolve(node: Any, ids: PoolIds) -> Any:
    """`node` with every reference to a created pool or client replaced by its id (Ref), its ARN
    (GetAtt .Arn) or either inside a Sub string."""
    if isinstance(node, dict):
        done = _reference(node, ids)
        return done if done is not None else {k: resolve(v, ids) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, ids) for v in node]
    return node


def _literal(value: Any, stack: str) -> Any:
    """A property value with the pseudo parameters a pool's names use resolved."""
    if isinstance(value, dict) and "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
        pseudo = {"AWS::StackName": stack, "AWS::Region": REGION, "AWS::AccountId": ACCOUNT_ID}
        return _sub(value["Fn::Sub"], pseudo)
    return value


def _schema(attr: dict[str, Any]) -> dict[str, Any]:
    keys = ("Name", "AttributeDataType", "Mutable", "Required", "StringAttributeConstraints")
    return {k: attr[k] for k in keys if k in attr}


def create_pools(client: Any, tpl: dict[str, Any], stack: str) -> PoolIds:
    """Create the template's user pools, clients and groups through Cognito's API; drop them from
    `tpl` and write their ids where the template refers to them."""
    ids: dict[str, str] = {}
    arns: dict[str, str] = {}
    for logical, res in of_type(tpl, POOL).items():
        props = res.get("Properties", {})
        kwargs: dict[str, Any] = {"PoolName": _literal(props.get("UserPoolName", logical), stack)}
        for key in ("Policies", "AutoVerifiedAttributes", "AdminCreateUserConfig", "UsernameConfiguration"):
            if key in props:
                kwargs[key] = props[key]
        if "Schema" in props:
            kwargs["Schema"] = [_schema(a) for a in props["Schema"]]
        pool = client.create_user_pool(**kwargs)["UserPool"]
        ids[logical], arns[logical] = pool["Id"], pool["Arn"]
    for logical, res in of_type(tpl, CLIENT).items():
        props = resolve(res.get("Properties", {}), PoolIds(ids, arns))
        kwargs = {
            "UserPoolId": props["UserPoolId"],
            "ClientName": _literal(props.get("ClientName", logical), stack),
        }
        for key in ("GenerateSecret", "ExplicitAuthFlows", "ReadAttributes", "WriteAttributes"):
            if key in props:
                kwargs[key] = props[key]
        created = client.create_user_pool_client(**kwargs)["UserPoolClient"]
        ids[logical] = created["ClientId"]
        arns[logical] = created["ClientId"]
    for res in of_type(tpl, GROUP).values():
        props = resolve(res.get("Properties", {}), PoolIds(ids, arns))
        client.create_group(
            UserPoolId=props["UserPoolId"],
            GroupName=props["GroupName"],
            Description=props.get("Description", ""),
        )
    made = PoolIds(ids, arns, frozenset(of_type(tpl, CLIENT)))
    tpl["Resources"] = {k: v for k, v in tpl["Resources"].items() if v.get("Type") not in COGNITO_TYPES}
    for section in ("Resources", "Outputs"):
        tpl[section] = resolve(tpl.get(section, {}), made)
    return made
