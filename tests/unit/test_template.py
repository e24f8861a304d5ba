"""Security and delivery promises of template.yaml that cfn-lint and checkov do not check."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from loyalty_local.cloud import load_template

from tests.unit.template_iam import translated

ROOT = Path(__file__).resolve().parents[2]
SAM = load_template(ROOT / "template.yaml")


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    return translated()


def resources(tpl: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in tpl["Resources"].items() if v["Type"] == kind}


def test_bucket_is_tls_only_private_and_encrypted() -> None:
    policy = resources(SAM, "AWS::S3::BucketPolicy")["UploadBucketPolicy"]["Properties"]["PolicyDocument"]
    deny = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert (
        deny
        and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        and deny[0]["Principal"] == "*"
    )
    bucket = SAM["Resources"]["UploadBucket"]["Properties"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    enc = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert enc["SSEAlgorithm"] == "aws:kms"


def test_table_queues_topics_are_encrypted_with_pitr() -> None:
    table = SAM["Resources"]["Table"]["Properties"]
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert table["SSESpecification"]["SSEEnabled"] is True and table["SSESpecification"]["SSEType"] == "KMS"
    for name, q in resources(SAM, "AWS::SQS::Queue").items():
        assert "KmsMasterKeyId" in q["Properties"], name
    for name, t in resources(SAM, "AWS::SNS::Topic").items():
        assert "KmsMasterKeyId" in t["Properties"], name


def test_no_wildcard_actions_on_data(cfn: dict[str, Any]) -> None:
    data_services = ("s3", "dynamodb", "sqs", "sns", "kms", "lambda", "states")
    for name, role in resources(cfn, "AWS::IAM::Role").items():
        for pol in role["Properties"].get("Policies", []):
            for st in pol["PolicyDocument"]["Statement"]:
                actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
                for a in actions:
                    assert a != "*", (name, pol["PolicyName"])
                    svc, _, verb = a.partition(":")
                    assert not (svc in data_services and "*" in verb), (name, pol["PolicyName"], a)


def test_sqs_consumers_follow_the_delivery_rules(cfn: dict[str, Any]) -> None:
    functions = resources(cfn, "AWS::Lambda::Function")
    params = {k: v.get("Default") for k, v in SAM["Parameters"].items()}
    for name, esm in resources(cfn, "AWS::Lambda::EventSourceMapping").items():
        props = esm["Properties"]
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"], name
        queue = SAM["Resources"][props["EventSourceArn"]["Fn::GetAtt"][0]]["Properties"]
        fn = functions[props["FunctionName"]["Ref"]]["Properties"]
        timeout = fn["Timeout"]
        if isinstance(timeout, dict):
            timeout = params[timeout["Ref"]]
        assert int(queue["VisibilityTimeout"]) >= 6 * int(timeout), name
    chunk = SAM["Resources"]["ChunkQueue"]["Properties"]
    assert chunk["RedrivePolicy"]["maxReceiveCount"] >= 5
    alarms = {
        a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for a in resources(SAM, "AWS::CloudWatch::Alarm").values()
        if "Fn::GetAtt" in a["Properties"]["Dimensions"][0]["Value"]
    }
    assert {"ChunkDLQ", "AsyncDLQ"} <= alarms


def test_one_runtime_within_the_pythons_the_project_supports() -> None:
    """One Lambda runtime for every function and the layer, inside pyproject's requires-python (the
    tests run on its lower end; tests/deploy imports every handler on the runtime's version)."""
    from packaging.specifiers import SpecifierSet

    runtime = SAM["Globals"]["Function"]["Runtime"]
    for layer in resources(SAM, "AWS::Serverless::LayerVersion").values():
        assert layer["Properties"]["CompatibleRuntimes"] == [runtime]
        assert layer["Metadata"]["BuildMethod"] == runtime
    for name, fn in resources(SAM, "AWS::Serverless::Function").items():
        assert "Runtime" not in fn["Properties"], f"{name} overrides the global runtime"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    supported = SpecifierSet(pyproject["project"]["requires-python"])
    assert runtime.removeprefix("python") + ".0" in supported, (runtime, str(supported))
    assert f"{sys.version_info.major}.{sys.version_info.minor}.0" in supported


def test_the_deployed_build_is_arm64_and_arm64_names_only_the_architecture() -> None:
    """`make build` derives the host build by replacing the word arm64: it must mean nothing else."""
    layers = resources(SAM, "AWS::Serverless::LayerVersion")
    assert SAM["Globals"]["Function"]["Architectures"] == ["arm64"]
    for layer in layers.values():
        assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
        assert layer["Metadata"]["BuildArchitecture"] == "arm64"
    for name, fn in resources(SAM, "AWS::Serverless::Function").items():
        assert "Architectures" not in fn["Properties"], f"{name} overrides the global architecture"
    assert len(re.findall(r"\barm64\b", (ROOT / "template.yaml").read_text())) == 1 + 2 * len(layers)
