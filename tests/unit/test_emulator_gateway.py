"""The local HTTP API (loyalty_local.gateway) serves a template's JWT-authorized HTTP APIs as API
Gateway does: user pools are created for the template, moto's tokens are verified (signature,
issuer, audience, expiry), list claims reach the function flattened, public routes need no
token, the default route throttling answers 429, and the same answers come over a real port.
It runs a small unrelated template: the emulator knows no application."""

from __future__ import annotations

import gzip
import itertools
import json
import time
import urllib.error
import urllib.request
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from loyalty_local.cloud import LocalCloud
from loyalty_local.server import serve_apis

APP = """
import json

def handler(event, context):
    ctx = event["requestContext"]
    auth = ctx.get("authorizer") or {}
    return {"statusCode": 200, "headers": {"x-route": event["routeKey"]},
            "body": json.dumps({"params": event.get("pathParameters"), "query": event.get("queryStringParameters"),
                                "claims": (auth.get("jwt") or {}).get("claims"), "body": event.get("body")})}
"""

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Pool:
    Type: AWS::Cognito::UserPool
    Properties:
      UserPoolName: !Sub "${AWS::StackName}-people"
      Schema: [{ Name: team, AttributeDataType: String, Mutable: true }]
  Client:
    Type: AWS::Cognito::UserPoolClient
    Properties:
      UserPoolId: !Ref Pool
      ExplicitAuthFlows: [ALLOW_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH]
      ReadAttributes: [email, "custom:team"]
  Admins:
    Type: AWS::Cognito::UserPoolGroup
    Properties: { UserPoolId: !Ref Pool, GroupName: admins }
  Readers:
    Type: AWS::Cognito::UserPoolGroup
    Properties: { UserPoolId: !Ref Pool, GroupName: readers }
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth:
        DefaultAuthorizer: Jwt
        Authorizers:
          Jwt:
            IdentitySource: $request.header.Authorization
            JwtConfiguration:
              issuer: !Sub "https://cognito-idp.${AWS::Region}.amazonaws.com/${Pool}"
              audience: [!Ref Client]
      DefaultRouteSettings: { ThrottlingBurstLimit: 12, ThrottlingRateLimit: 0.001 }
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: echo/
      Handler: app.handler
      Runtime: python3.11
      Environment: { Variables: { CLIENT: !Ref Client } }
      Events:
        Get: { Type: HttpApi, Properties: { ApiId: !Ref Api, Path: "/teams/{team}/items", Method: GET } }
        Open: { Type: HttpApi, Properties: { ApiId: !Ref Api, Path: /hello, Method: GET, Auth: { Authorizer: NONE } } }
Outputs:
  PoolId: { Value: !Ref Pool }
  ClientId: { Value: !Ref Client }
"""


STACKS = itertools.count(1)


@pytest.fixture
def cloud(tmp_path: Path) -> Any:
    (tmp_path / "echo").mkdir()
    (tmp_path / "echo" / "app.py").write_text(APP)
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    c = LocalCloud(
        stack_name=f"gw{next(STACKS)}",
        template=tmp_path / "template.yaml",
        log_path=tmp_path / "log",
        start_mock=False,
    )
    c.start()
    yield c
    c.stop()


def signed_in(cloud: LocalCloud, user: str = "ann", groups: tuple[str, ...] = ("admins", "readers")) -> str:
    idp = cloud.client("cognito-idp")
    pool, client = cloud.outputs["PoolId"], cloud.outputs["ClientId"]
    idp.admin_create_user(
        UserPoolId=pool,
        Username=user,
        UserAttributes=[
            {"Name": "email", "Value": f"{user}@example.com"},
            {"Name": "custom:team", "Value": "T1"},
        ],
        MessageAction="SUPPRESS",
    )
    idp.admin_set_user_password(UserPoolId=pool, Username=user, Password="Passw0rd-long!", Permanent=True)
    for g in groups:
        idp.admin_add_user_to_group(UserPoolId=pool, Username=user, GroupName=g)
    out = idp.initiate_auth(
        ClientId=client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user, "PASSWORD": "Passw0rd-long!"},
    )
    return str(out["AuthenticationResult"]["IdToken"])


def forged(claims: dict[str, Any]) -> str:
    """A token signed with moto's own private key (what only the pool can do): to vary one claim."""
    data = resources.files("moto.cognitoidp").joinpath("resources/jwks-private.json.gz").read_bytes()
    key = RSAKey.import_key(json.loads(gzip.decompress(data)))
    return jwt.encode({"alg": "RS256", "kid": "dummy"}, claims, key)


def test_the_pools_exist_and_the_template_refers_to_them(cloud: LocalCloud) -> None:
    idp = cloud.client("cognito-idp")
    pool = idp.describe_user_pool(UserPoolId=cloud.outputs["PoolId"])["UserPool"]
    assert pool["Name"] == f"{cloud.stack_name}-people"
    groups = {g["GroupName"] for g in idp.list_groups(UserPoolId=pool["Id"])["Groups"]}
    assert groups == {"admins", "readers"}
    assert cloud.functions["Echo"].env["CLIENT"] == cloud.outputs["ClientId"]


def test_a_verified_token_reaches_the_function_with_its_claims_as_api_gateway_hands_them(
    cloud: LocalCloud,
) -> None:
    token = signed_in(cloud)
    answer = cloud.http("GET", "/teams/T1/items?page=2&tag=a&tag=b", token=token)
    assert answer.status == 200
    assert ("x-route", "GET /teams/{team}/items") in answer.headers
    body = answer.json()
    assert body["params"] == {"team": "T1"}
    assert body["query"] == {"page": "2", "tag": "a,b"}
    claims = body["claims"]
    assert claims["cognito:username"] == "ann"
    assert claims["cognito:groups"] in ("[admins readers]", "[readers admins]")  # a list claim, flattened
    assert claims["custom:team"] == "T1"
    assert claims["aud"] == cloud.outputs["ClientId"]


def test_requests_without_a_valid_token_never_reach_the_function(cloud: LocalCloud) -> None:
    token = signed_in(cloud)
    invocations = cloud.functions["Echo"].invocations
    head, payload, sig = token.split(".")
    tampered = f"{head}.{payload}.{sig[:-4]}AAAA"
    good = jwt.decode(token, _keys()).claims
    now = int(time.time())
    cases = {
        "none": None,
        "garbage": "not-a-jwt",
        "tampered": tampered,
        "other audience": forged({**good, "aud": "someone-else"}),
        "other issuer": forged({**good, "iss": "https://issuer.example/other"}),
        "expired": forged({**good, "exp": now - 5}),
        "not yet valid": forged({**good, "nbf": now + 600}),
    }
    for name, bad in cases.items():
        answer = cloud.http("GET", "/teams/T1/items", token=bad)
        assert (answer.status, answer.json()) == (401, {"message": "Unauthorized"}), name
    assert cloud.functions["Echo"].invocations == invocations
    assert (
        cloud.http("GET", "/teams/T1/items", token=forged(dict(good))).status == 200
    )  # the forger signs right


def _keys() -> KeySet:
    from loyalty_local.cognito import jwks

    return KeySet.import_key_set(jwks())  # type: ignore[arg-type]


def test_public_routes_unknown_routes_and_throttling(cloud: LocalCloud) -> None:
    assert cloud.http("GET", "/hello").status == 200
    assert cloud.http("GET", "/hello").json()["claims"] is None
    assert cloud.http("POST", "/hello").status == 404
    statuses = [cloud.http("GET", "/hello").status for _ in range(12)]
    assert statuses[:9] == [200] * 9  # burst 12 in all (3 used above), refilled at 0.001 per second
    assert set(statuses[9:]) == {429}


def test_the_api_is_served_on_a_real_port(cloud: LocalCloud) -> None:
    token = signed_in(cloud, "bob", ("readers",))
    servers = serve_apis(cloud, "127.0.0.1", 0)
    try:
        (server,) = servers
        req = urllib.request.Request(
            f"{server.url}/teams/T9/items", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 200
            assert json.loads(resp.read())["params"] == {"team": "T9"}
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{server.url}/teams/T9/items", timeout=10)
        assert refused.value.code == 401
    finally:
        for s in servers:
            s.stop()


def test_a_presigned_download_answers_with_the_headers_it_asks_for(cloud: LocalCloud) -> None:
    """S3 answers a presigned GET's `response-content-*` overrides (a PDF a browser must save, not
    show): moto ignores them, the emulator's seam applies them."""
    import requests

    s3 = cloud.client("s3")
    bucket = f"{cloud.stack_name}-files"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"})
    s3.put_object(Bucket=bucket, Key="a.pdf", Body=b"%PDF-1.7", ContentType="application/pdf")
    url = s3.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": bucket,
            "Key": "a.pdf",
            "ResponseContentDisposition": 'attachment; filename="a.pdf"',
        },
    )
    got = requests.get(url, timeout=10)
    assert got.status_code == 200 and got.content == b"%PDF-1.7"
    assert got.headers["Content-Disposition"] == 'attachment; filename="a.pdf"'
    assert got.headers["Content-Type"] == "application/pdf"
    plain = requests.get(
        s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "a.pdf"}), timeout=10
    )
    assert "Content-Disposition" not in plain.headers
