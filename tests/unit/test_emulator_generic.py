"""The emulator (`loyalty_local`) knows no application: every name it uses comes from the template
or from its caller. It is checked three ways: its source holds none of template.yaml's names, it
imports neither the CLI nor the factories, and it runs a small unrelated template."""

from __future__ import annotations

import ast
import io
import json
import re
import tokenize
from pathlib import Path

import pytest
from loyalty_local.cloud import LocalCloud
from loyalty_local.template import Route, http_routes, load_template

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / "local"
EMULATOR = sorted((LOCAL / "loyalty_local").glob("*.py"))


def template_names() -> set[str]:
    tpl = load_template(ROOT / "template.yaml")
    return set(tpl.get("Parameters", {})) | set(tpl["Resources"]) | set(tpl.get("Outputs", {}))


def literal_text(path: Path) -> list[str]:
    """The strings and comments of a module: where a hard-coded name would be."""
    tokens = tokenize.generate_tokens(io.StringIO(path.read_text()).readline)
    return [t.string for t in tokens if t.type in (tokenize.STRING, tokenize.COMMENT)]


def test_the_template_has_the_names_this_test_looks_for() -> None:
    names = template_names()
    assert {"UploadBucket", "CloseStateMachine", "ApprovalsApiFunction", "ApprovalsApiUrl"} <= names
    assert len(EMULATOR) >= 8


def test_the_emulator_source_holds_no_name_of_the_template() -> None:
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, template_names()))) + r")\b")
    found = {
        (path.name, m.group(1))
        for path in EMULATOR
        for text in literal_text(path)
        for m in pattern.finditer(text)
    }
    # DynamoDB's own request field `TableName` (TransactWriteItems) and Cognito's own property
    # `UserPoolId` (of a client or a group) happen to be outputs' names too, and the resource
    # types `AWS::Cognito::UserPool` / `UserPoolClient` logical ids; the resource type
    # `AWS::Glue::Table` (issue 13: pruned locally) ends in the table's logical id
    assert found <= {
        ("seams.py", "TableName"),
        ("template.py", "Table"),
        ("cognito.py", "UserPoolId"),
        ("cognito.py", "UserPool"),
        ("cognito.py", "UserPoolClient"),
    }


def test_the_check_finds_a_hard_coded_name(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text('FN = "ApprovalsApiFunction"  # the CloseStateMachine\n')
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, template_names()))) + r")\b")
    assert {m.group(1) for t in literal_text(bad) for m in pattern.finditer(t)} == {
        "ApprovalsApiFunction",
        "CloseStateMachine",
    }


def imported_packages(package: str) -> set[str]:
    out: set[str] = set()
    for path in (LOCAL / package).glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                out |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                out.add(node.module.split(".")[0])
    return out


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("loyalty_local", {"loyalty", "loyalty_cli", "loyalty_factories"}),
        ("loyalty_factories", {"loyalty_cli", "loyalty_local", "boto3", "moto"}),
    ],
)
def test_imports_flow_from_the_cli_to_the_emulator_and_the_factories(
    package: str, forbidden: set[str]
) -> None:
    assert imported_packages(package) & forbidden == set()
    assert "loyalty_local" in imported_packages("loyalty_cli")
    assert "loyalty_factories" in imported_packages("loyalty_cli")


def test_routes_match_like_api_gateway() -> None:
    sam = {
        "Resources": {
            "Fn": {
                "Type": "AWS::Serverless::Function",
                "Properties": {
                    "Events": {
                        "One": {
                            "Type": "HttpApi",
                            "Properties": {"ApiId": {"Ref": "Api"}, "Path": "/things/{id}", "Method": "get"},
                        },
                        "Exact": {"Type": "HttpApi", "Properties": {"Path": "/things/new", "Method": "GET"}},
                        "Files": {
                            "Type": "HttpApi",
                            "Properties": {"Path": "/files/{path+}", "Method": "ANY"},
                        },
                        "Queue": {"Type": "SQS", "Properties": {"Queue": "q"}},
                    }
                },
            },
            "Other": {
                "Type": "AWS::Serverless::Function",
                "Properties": {"Events": {"All": {"Type": "HttpApi"}}},
            },
        }
    }
    routes = http_routes(sam)
    assert [r.key for r in routes] == [
        "GET /things/new",
        "GET /things/{id}",
        "ANY /files/{path+}",
        "ANY $default",
    ]
    assert routes[1] == Route("GET", "/things/{id}", "Fn", "Api")

    def first(method: str, path: str) -> str:
        return next(r.key for r in routes if r.matches(method, path))

    assert first("GET", "/things/new") == "GET /things/new"
    assert first("GET", "/things/42") == "GET /things/{id}"
    assert first("DELETE", "/files/a/b.txt") == "ANY /files/{path+}"
    assert first("POST", "/things/42") == "ANY $default"
    assert not routes[1].matches("GET", "/things/42/more")


APP = """
import json

def handler(event, context):
    ctx = event["requestContext"]
    return {"statusCode": 200, "body": json.dumps({"route": event["routeKey"], "path": event["rawPath"],
            "caller": ctx["authorizer"]["iam"]["userArn"], "body": event["body"]})}
"""

TEMPLATE = """
Transform: AWS::Serverless-2016-10-31
Resources:
  Box:
    Type: AWS::S3::Bucket
  Api:
    Type: AWS::Serverless::HttpApi
    Properties:
      Auth: { EnableIamAuthorizer: true, DefaultAuthorizer: AWS_IAM }
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: echo/
      Handler: app.handler
      Runtime: python3.11
      Events:
        Get: { Type: HttpApi, Properties: { ApiId: !Ref Api, Path: "/items/{id}", Method: GET } }
  Reader:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub "${AWS::StackName}-item-reader"
      AssumeRolePolicyDocument: { Version: "2012-10-17", Statement: [] }
      Policies:
        - PolicyName: read
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: execute-api:Invoke
                Resource: !Sub "arn:aws:execute-api:${AWS::Region}:${AWS::AccountId}:${Api}/*/GET/*"
Outputs:
  BoxName: { Value: !Ref Box }
  Url: { Value: !Sub "https://${Api}.execute-api.${AWS::Region}.amazonaws.com" }
"""


def test_another_template_runs_on_the_emulator(tmp_path: Path) -> None:
    (tmp_path / "echo").mkdir()
    (tmp_path / "echo" / "app.py").write_text(APP)
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    cloud = LocalCloud(
        stack_name="other", template=tmp_path / "template.yaml", log_path=tmp_path / "log", start_mock=False
    )
    cloud.start()
    try:
        assert cloud.bucket == cloud.outputs["BoxName"] == cloud.buckets["Box"]
        assert cloud.outputs["Url"] == "local:Api (in-process, see LocalCloud.api)"
        assert cloud.role_name("reader") == cloud.role_name("Reader") == "other-item-reader"
        assert cloud.role_name("someone-else") == "someone-else"
        code, body = cloud.api("GET", "/items/7", "ann", "reader", {"x": 1})
        assert code == 200
        assert body == {
            "route": "GET /items/{id}",
            "path": "/items/7",
            "caller": "arn:aws:sts::123456789012:assumed-role/other-item-reader/ann",
            "body": json.dumps({"x": 1}),
        }
        assert cloud.api("POST", "/items/7", "ann", "reader") == (404, {"message": "Not Found"})
        with pytest.raises(ValueError, match="name the state machine"):
            cloud.state_machine()
        cloud.upload("a.json", b'{"ok": true}')
        assert cloud.read_json("a.json") == {"ok": True}
    finally:
        cloud.stop()
