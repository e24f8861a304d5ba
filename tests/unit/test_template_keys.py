"""Issue 9, points 4, 5, 8, 9: dedicated keys, retention, Object Lock, alarms and dead letters
that can be delivered, the finance callback and the people roles (proven by reading
template.yaml, see template_iam)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.template_iam import (
    BANK_STEP,
    BUCKET,
    SAM,
    all_roles,
    allowed,
    arn_of,
    as_list,
    functions,
    key_allows_service,
    key_statements,
    matches,
    render,
    tag_of,
    translated,
)


@pytest.fixture(scope="module")
def cfn() -> dict[str, Any]:
    return translated()


# -- point 8: keys -----------------------------------------------------------------------------------
def _key_use(logical: str, action: str) -> list[dict[str, Any]]:
    return [
        s
        for s in key_statements(logical)
        if s["Effect"] == "Allow" and any(matches(a, action) for a in as_list(s["Action"]))
    ]


def _check_dedicated_key(
    cfn: dict[str, Any], key: str, tag: str, context: str, users: dict[str, set[str]]
) -> None:
    res = SAM["Resources"][key]
    assert res["DeletionPolicy"] == "Retain" and res["UpdateReplacePolicy"] == "Retain"
    assert res["Properties"]["EnableKeyRotation"] is True
    for action, holders in users.items():
        grants = _key_use(key, action)
        assert grants, (key, action)
        for st in grants:  # only principals carrying the tag, only with the encryption context
            cond = st["Condition"]
            assert cond["StringEquals"][f"aws:PrincipalTag/{tag}"] == action.split(":")[1].lower(), (key, st)
            assert context in cond["StringEquals"] or context in cond.get("ForAllValues:StringEquals", {}), st
        arn = arn_of(key)
        with_iam = {fn for fn in functions(cfn) if allowed(cfn, f"{fn}Role", action, arn)}
        with_tag = {fn for fn in functions(cfn) if tag_of(cfn, fn, tag) == action.split(":")[1].lower()}
        assert with_iam == with_tag, (key, action, with_iam, with_tag)
        assert with_iam and with_iam <= holders, (key, action, with_iam)
    # the account (administrators) manages the key but cannot use it
    for st in key_statements(key):
        if st["Effect"] == "Allow" and "Condition" not in st:
            acts = as_list(st["Action"])
            assert not any(
                matches(a, x) for a in acts for x in ("kms:Decrypt", "kms:Encrypt", "kms:ReEncryptFrom")
            ), st


def test_bank_details_key_encrypts_only_in_the_registry_loader_and_decrypts_only_at_the_bank_file_step(
    cfn: dict[str, Any],
) -> None:
    _check_dedicated_key(
        cfn,
        "BankDetailsKey",
        "loyalty-bank-details",
        "kms:EncryptionContextKeys",
        {"kms:Encrypt": {"ConfigLoaderFunction"}, "kms:Decrypt": set(BANK_STEP)},
    )
    for fn in ("ConfigLoaderFunction", *BANK_STEP):
        if fn in SAM["Resources"]:
            env = SAM["Resources"][fn]["Properties"]["Environment"]["Variables"]
            assert env["BANK_KEY_ID"] == {"Ref": "BankDetailsKey"}, fn


def test_approval_token_key_encrypts_at_await_approval_and_decrypts_only_in_the_approvals_functions(
    cfn: dict[str, Any],
) -> None:
    _check_dedicated_key(
        cfn,
        "ApprovalTokenKey",
        "loyalty-approval-token",
        "kms:EncryptionContext:purpose",
        {
            "kms:Encrypt": {"CloseWorkerFunction"},
            "kms:Decrypt": {"ApprovalsApiFunction", "ApprovalSweeperFunction", "FinanceApiFunction"},
        },
    )
    for st in _key_use("ApprovalTokenKey", "kms:Decrypt"):
        assert st["Condition"]["StringEquals"]["kms:EncryptionContext:purpose"] == "approval-token"
    for fn in (
        "CloseWorkerFunction",
        "ApprovalsApiFunction",
        "ApprovalSweeperFunction",
        "FinanceApiFunction",
    ):
        env = SAM["Resources"][fn]["Properties"]["Environment"]["Variables"]
        assert env["TOKEN_KEY_ID"] == {"Ref": "ApprovalTokenKey"}, fn


def test_keys_table_and_buckets_are_retained() -> None:
    kinds = ("AWS::KMS::Key", "AWS::DynamoDB::Table", "AWS::S3::Bucket")
    kept = [k for k, v in SAM["Resources"].items() if v["Type"] in kinds]
    assert len(kept) >= 4
    for name in kept:
        res = SAM["Resources"][name]
        assert (res.get("DeletionPolicy"), res.get("UpdateReplacePolicy")) == ("Retain", "Retain"), name


def test_bank_files_are_written_under_object_lock_governance() -> None:
    bucket = SAM["Resources"]["UploadBucket"]["Properties"]
    assert bucket["ObjectLockEnabled"] is True
    assert bucket["ObjectLockConfiguration"]["ObjectLockEnabled"] == "Enabled"
    assert bucket["VersioningConfiguration"]["Status"] == "Enabled"
    for fn in BANK_STEP:
        if fn not in SAM["Resources"]:
            continue
        env = SAM["Resources"][fn]["Properties"]["Environment"]["Variables"]
        assert env["LOCKED_PREFIX"] == "payouts/", fn
        days = env["LOCK_RETENTION_DAYS"]
        assert (
            int(SAM["Parameters"][days["Ref"]]["Default"]) >= 365
            if isinstance(days, dict)
            else int(days) >= 365
        )


def test_only_the_bank_file_step_may_retain_objects(cfn: dict[str, Any]) -> None:
    for fn in functions(cfn):
        arn = f"arn:aws:s3:::{BUCKET}/payouts/2026-08/pain001.xml"
        may = allowed(cfn, f"{fn}Role", "s3:PutObjectRetention", arn)
        assert may == (fn in BANK_STEP), fn
        assert not allowed(cfn, f"{fn}Role", "s3:BypassGovernanceRetention", arn), fn


# -- point 9: alarms and dead letters can be delivered ---------------------------------------------
def _topic_policy_allows(topic: str, service: str) -> bool:
    for res in SAM["Resources"].values():
        if res["Type"] != "AWS::SNS::TopicPolicy":
            continue
        props = res["Properties"]
        if {"Ref": topic} not in props["Topics"]:
            continue
        for st in props["PolicyDocument"]["Statement"]:
            if (
                st["Effect"] == "Allow"
                and service in as_list(st["Principal"].get("Service", []))
                and "sns:Publish" in as_list(st["Action"])
                and {"Ref": topic} in as_list(st["Resource"])
            ):
                return True
    return False


def _topic_key(topic: str) -> str:
    return str(SAM["Resources"][topic]["Properties"]["KmsMasterKeyId"]["Ref"])


def test_every_alarm_and_event_rule_can_publish_to_its_topic() -> None:
    targets = []
    for name, res in SAM["Resources"].items():
        if res["Type"] == "AWS::CloudWatch::Alarm":
            for t in res["Properties"].get("AlarmActions", []) + res["Properties"].get("OKActions", []):
                targets.append((name, t["Ref"], "cloudwatch.amazonaws.com"))
        if res["Type"] == "AWS::Events::Rule":
            for t in res["Properties"].get("Targets", []):
                if isinstance(t["Arn"], dict) and "Ref" in t["Arn"]:
                    targets.append((name, t["Arn"]["Ref"], "events.amazonaws.com"))
    for name, topic, service in targets:
        key = _topic_key(topic)
        assert key_allows_service(key, service, ["kms:GenerateDataKey", "kms:Decrypt"]), (name, topic, key)
        assert _topic_policy_allows(topic, service), (name, topic)
    assert len(targets) >= 5


def _queue_key(queue: str) -> str:
    return str(SAM["Resources"][queue]["Properties"]["KmsMasterKeyId"]["Ref"])


def test_every_dead_letter_queue_is_writable_by_its_producer(cfn: dict[str, Any]) -> None:
    checked = 0
    for fn, res in cfn["Resources"].items():  # Lambda's asynchronous DLQ is written with the function's role
        if res["Type"] != "AWS::Lambda::Function" or "DeadLetterConfig" not in res["Properties"]:
            continue
        queue = res["Properties"]["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0]
        role = res["Properties"]["Role"]["Fn::GetAtt"][0]
        assert allowed(cfn, role, "sqs:SendMessage", arn_of(queue)), (fn, queue)
        key_arn = arn_of(_queue_key(queue))
        for action in ("kms:GenerateDataKey", "kms:Decrypt"):
            assert allowed(cfn, role, action, key_arn), (fn, queue, action)
        checked += 1
    for name, res in SAM["Resources"].items():  # SQS moves messages to a redrive DLQ itself
        redrive = res.get("Properties", {}).get("RedrivePolicy")
        if res["Type"] == "AWS::SQS::Queue" and redrive:
            dlq = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
            key = _queue_key(dlq)
            assert key_allows_service(key, "sqs.amazonaws.com", ["kms:GenerateDataKey", "kms:Decrypt"]), name
            checked += 1
    assert checked >= 5


# -- points 4 and 5: people and the finance callback -------------------------------------------------
def test_only_the_approvals_functions_can_complete_the_finance_callback(cfn: dict[str, Any]) -> None:
    machine = "arn:aws:states:eu-west-1:111122223333:stateMachine:stk-close"
    holders = {
        r for r in all_roles(cfn) if allowed(cfn, r, "states:SendTaskSuccess", "ref:CloseStateMachine")
    }
    holders |= {r for r in all_roles(cfn) if allowed(cfn, r, "states:SendTaskSuccess", machine)}
    assert holders == {"ApprovalsApiFunctionRole", "ApprovalSweeperFunctionRole", "FinanceApiFunctionRole"}, (
        holders
    )


def test_a_send_task_success_by_any_other_principal_alarms_the_operators() -> None:
    rules = [
        r["Properties"]
        for r in SAM["Resources"].values()
        if r["Type"] == "AWS::Events::Rule" and "SendTaskSuccess" in str(r["Properties"].get("EventPattern"))
    ]
    assert len(rules) == 1
    detail = rules[0]["EventPattern"]["detail"]
    assert detail["eventSource"] == ["states.amazonaws.com"] and detail["eventName"] == ["SendTaskSuccess"]
    roles, others = detail["$or"]  # a session of any role but the two; or a user / root, not a role
    issuer = roles["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"]
    allowed_arns = {render(a) for a in issuer[0]["anything-but"]}
    assert allowed_arns == {
        arn_of("ApprovalsApiFunctionRole"),
        arn_of("ApprovalSweeperFunctionRole"),
        arn_of("FinanceApiFunctionRole"),
    }
    assert set(others["userIdentity"]["type"]) >= {"IAMUser", "Root"}
    assert [t["Arn"] for t in rules[0]["Targets"]] == [{"Ref": "OpsTopic"}]


def _trust(role: str) -> list[dict[str, Any]]:
    return SAM["Resources"][role]["Properties"]["AssumeRolePolicyDocument"]["Statement"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("role", ["FinanceApproverRole", "CloseOperatorRole"])
def test_people_roles_bind_the_person_to_the_session(role: str) -> None:
    for st in _trust(role):
        assert set(as_list(st["Action"])) == {"sts:AssumeRole", "sts:SetSourceIdentity"}, st
        cond = st["Condition"]
        assert cond["StringEquals"]["sts:SourceIdentity"] == "${aws:username}"
        assert cond["StringEquals"]["sts:RoleSessionName"] == "${aws:username}"
        assert cond["Bool"]["aws:MultiFactorAuthPresent"] == "true"


def test_finance_cannot_start_a_close_and_the_operator_cannot_decide(cfn: dict[str, Any]) -> None:
    api = "arn:aws:execute-api:eu-west-1:111122223333:ref:ApprovalsApi/$default"
    fin, op = "FinanceApproverRole", "CloseOperatorRole"
    assert not allowed(cfn, fin, "execute-api:Invoke", f"{api}/POST/closes")
    assert allowed(cfn, fin, "execute-api:Invoke", f"{api}/POST/closes/2026-08/approve")
    assert allowed(cfn, fin, "execute-api:Invoke", f"{api}/GET/closes/2026-08")
    assert allowed(cfn, op, "execute-api:Invoke", f"{api}/POST/closes")
    assert not allowed(cfn, op, "execute-api:Invoke", f"{api}/POST/closes/2026-08/approve")
    assert not allowed(cfn, op, "execute-api:Invoke", f"{api}/POST/closes/2026-08/reject")


# -- the settings the template sets, as the Lambda containers apply them ----------------------------
def test_bank_files_get_the_governance_retention_the_template_asks_for() -> None:
    import boto3
    from loyalty.adapters.s3sqs import S3Blobs
    from loyalty_local.env import REGION

    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(
        Bucket="lock-test",
        CreateBucketConfiguration={"LocationConstraint": REGION},
        ObjectLockEnabledForBucket=True,
    )
    env = SAM["Resources"]["BankFilesFunction"]["Properties"]["Environment"]["Variables"]
    days = int(SAM["Parameters"][env["LOCK_RETENTION_DAYS"]["Ref"]]["Default"])
    blobs = S3Blobs("lock-test", REGION, None, env["LOCKED_PREFIX"], days)
    # the bank-file step writes its files once (put_new: If-None-Match), and they are locked
    bank_file = "payouts/2026-08/close-2026-08/pain001.xml"
    assert blobs.put_new(bank_file, b"<xml/>", "application/xml")
    assert not blobs.put_new(bank_file, b"<other/>", "application/xml")
    blobs.put("close/2026-08/close-2026-08/proposal.json", b"{}", "application/json")
    head = s3.head_object(Bucket="lock-test", Key=bank_file)
    assert head["ObjectLockMode"] == "GOVERNANCE"
    assert (head["ObjectLockRetainUntilDate"] - head["LastModified"]).days >= days - 1
    assert "ObjectLockMode" not in s3.head_object(
        Bucket="lock-test", Key="close/2026-08/close-2026-08/proposal.json"
    )
    version = head["VersionId"]
    with pytest.raises(s3.exceptions.ClientError):  # a bank file cannot be deleted
        s3.delete_object(Bucket="lock-test", Key=bank_file, VersionId=version)


def test_bank_details_are_encrypted_with_the_bank_key_when_the_template_sets_it() -> None:
    from loyalty.settings import Settings
    from loyalty.wiring import Container

    env = {"TABLE_NAME": "t", "UPLOAD_BUCKET": "b", "DATA_KEY_ID": "data-key", "BANK_KEY_ID": "bank-key"}
    store: Any = Container(Settings.from_env(env)).store
    assert store.cipher.key_id == "bank-key"
    store = Container(Settings.from_env({k: v for k, v in env.items() if k != "BANK_KEY_ID"})).store
    assert store.cipher.key_id == "data-key"
