"""Handlers against moto with the sample events of events/ (one per function)."""

from __future__ import annotations

import json
from decimal import Decimal

from loyalty_local.cloud import LocalCloud

from tests.conftest import event, sales_csv, summary


def test_ingest_splitter_with_sample_s3_event(cloud: LocalCloud) -> None:
    body = sales_csv([["S1", "P00001", "2026-10-02", "SKU-1", 2, "10.50", "EUR", "", "", ""]])
    cloud.client("s3").put_object(Bucket=cloud.bucket, Key="incoming/P00001/october 2026.csv", Body=body)
    cloud._async.clear()  # deliver the sample event instead of the one the upload queued
    head = cloud.client("s3").head_object(Bucket=cloud.bucket, Key="incoming/P00001/october 2026.csv")
    ev = event(
        "s3_put_sales.json",
        bucket=cloud.bucket,
        size=str(len(body)),
        etag=head["ETag"].strip('"'),
        version=head["VersionId"],  # the splitter reads exactly this version
    )
    result, error = cloud.invoke("IngestSplitterFunction", ev)
    assert error is None and result["uploads"][0]["chunks"] == 1
    cloud.run_until_idle()
    s = summary(cloud, "incoming/P00001/october 2026.csv")
    assert s["accepted"] == 1 and s["totals"]["commission_eur"] == "0.42"
    assert s["principal"] == "AWS:AIDAEXAMPLEPARTNER"  # recorded from the event's userIdentity


def test_accrual_writer_with_sample_sqs_batch(cloud: LocalCloud) -> None:
    result, error = cloud.invoke("AccrualWriterFunction", event("sqs_chunk_batch.json"))
    assert error is None and result == {"batchItemFailures": []}
    from loyalty.adapters.dynamo import DynamoStore
    from loyalty_local.cloud import REGION

    store = DynamoStore(cloud.outputs["TableName"], REGION)
    lines = {s.sale_id: s for s in store.partner_sales("P00001")}
    assert set(lines) == {"S-100", "S-101", "S-102"}
    # 99.90 USD / 1.12 (rate of 2026-10-15) = 89.196.. EUR, a return (-1) in services: Bronze 2 % + 1 pp
    assert lines["S-101"].net_eur == -Decimal("89.20")
    assert lines["S-101"].commission == -Decimal("2.68")


def test_writer_reports_partial_failures(cloud: LocalCloud) -> None:
    ev = event("sqs_chunk_batch.json")
    ev["Records"][0]["body"] = "{broken"
    ev["Records"][0]["attributes"]["MessageGroupId"] = "other"
    result, error = cloud.invoke("AccrualWriterFunction", ev)
    assert error is None
    assert result == {"batchItemFailures": [{"itemIdentifier": ev["Records"][0]["messageId"]}]}


def test_config_loader_with_sample_registry_event(cloud: LocalCloud) -> None:
    reg = b"partner_id,name,email,segment,joined_on\nP77777,Seventy,s@x.example,smb,2026-02-01\nbad id!,X,nope,smb,2026-01-01\n"
    cloud.client("s3").put_object(Bucket=cloud.bucket, Key="registry/partners 2026-11.csv", Body=reg)
    cloud._async.clear()
    result, error = cloud.invoke("ConfigLoaderFunction", event("s3_put_registry.json", bucket=cloud.bucket))
    assert error is None
    report = result["reports"][0]
    assert (
        report["accepted"] == 1 and report["rejected"] == 1 and report["errors"][0]["column"] == "partner_id"
    )


def test_dlq_reporter_with_sample_dead_letter(cloud: LocalCloud) -> None:
    result, error = cloud.invoke("DlqReporterFunction", event("sqs_dlq_chunk.json"))
    assert error is None and result == {"batchItemFailures": []}
    keys = [
        o["Key"]
        for o in cloud.client("s3").list_objects_v2(Bucket=cloud.bucket, Prefix="reports/dlq/")["Contents"]
    ]
    report = cloud.read_json(keys[0])
    assert report["kind"] == "chunk" and report["detail"]["rows"] == 2
    assert json.loads(report["body"])["chunk_id"] == "0003-000001"


def test_close_starter_with_sample_schedule_event(cloud: LocalCloud) -> None:
    """The 1st of September 02:00 closes August; a duplicate delivery starts nothing new."""
    result, error = cloud.invoke("CloseStarterFunction", event("schedule_monthly_close.json"))
    assert error is None and (result["period"], result["run"], result["started"]) == (
        "2026-08",
        "close-2026-08",
        True,
    )
    again, error = cloud.invoke("CloseStarterFunction", event("schedule_monthly_close.json"))
    assert error is None and again["started"] is False
    ex = cloud.wait_execution(
        "close-2026-08",
        until=lambda c: (
            c.api("GET", "/closes/2026-08", "fiona", "finance")[1]["status"] == "awaiting_approval"
        ),
    )
    assert ex["status"] == "RUNNING"


def test_close_worker_plan_step_with_sample_event(cloud: LocalCloud) -> None:
    cloud.api("POST", "/closes", "olga", "operator", {"period": "2026-08"})
    result, error = cloud.invoke("CloseWorkerFunction", event("sfn_close_step_plan.json"))
    assert error is None and result["partners"] == 4 and result["batches"] == 1
    batch = json.loads(cloud.read_bytes("close/2026-08/close-2026-08/batches/00000.json"))
    assert [p["id"] for p in batch] == ["D00001", "P00001", "P00002", "P00003"]
    bad = dict(event("sfn_close_step_plan.json"), step="drop-tables")
    _, error = cloud.invoke("CloseWorkerFunction", bad)
    assert error is not None and error.startswith("ValidationError")


def test_approvals_api_with_sample_event(cloud: LocalCloud) -> None:
    cloud.fire_schedule("CloseStarterFunction", {"period": "2026-08"})
    cloud.wait_execution(
        "close-2026-08",
        until=lambda c: (
            c.api("GET", "/closes/2026-08", "fiona", "finance")[1]["status"] == "awaiting_approval"
        ),
    )
    digest = cloud.api("GET", "/closes/2026-08", "fiona", "finance")[1]["proposal_digest"]
    role = cloud.role_name("finance")
    sample = event("api_approve.json", user="frank", role=role, digest=digest)
    result, error = cloud.invoke("ApprovalsApiFunction", sample)
    assert error is None and result["statusCode"] == 200
    body = json.loads(result["body"])
    assert (body["approved_by"], body["exclude"]) == ("frank", ["P00003"])
    again, _ = cloud.invoke("ApprovalsApiFunction", sample)  # an API retry: the recorded decision
    assert again["statusCode"] == 200 and json.loads(again["body"]) == body
    other = event("api_approve.json", user="fiona", role=role, digest=digest)
    refused, _ = cloud.invoke("ApprovalsApiFunction", other)
    assert refused["statusCode"] == 409 and "approved by frank" in json.loads(refused["body"])["error"]
    stranger, _ = cloud.invoke(
        "ApprovalsApiFunction", event("api_approve.json", user="mallory", role="SomeOtherRole", digest=digest)
    )
    assert stranger["statusCode"] == 403
    assert cloud.wait_execution("close-2026-08")["status"] == "SUCCEEDED"


def test_approvals_api_binds_the_person_to_the_role_session(cloud: LocalCloud) -> None:
    """Issue 9, point 4: alice starts as operator; as finance, "alice.2", "Alice" or "alice " is
    still alice or nobody, never her own checker. Finance does not start closes."""
    code, refused = cloud.api("POST", "/closes", "fiona", "finance", {"period": "2026-08"})
    assert code == 403 and "needs the operator role" in refused["error"]
    code, started = cloud.api("POST", "/closes", "alice", "operator", {"period": "2026-08"})
    assert code == 200 and started["started"]
    cloud.wait_execution(
        "close-2026-08",
        until=lambda c: (
            c.api("GET", "/closes/2026-08", "frank", "finance")[1]["status"] == "awaiting_approval"
        ),
    )
    shown = cloud.api("GET", "/closes/2026-08", "frank", "finance")[1]
    assert shown["started_by"] == "alice"
    ask = {"run": shown["run"], "digest": shown["proposal_digest"], "comment": "mine"}
    for session in ("alice.2", "Alice", "alice ", "ALICE"):
        code, body = cloud.api("POST", "/closes/2026-08/approve", session, "finance", ask)
        assert code == 403, (session, body)
    code, body = cloud.api(
        "POST", "/closes/2026-08/approve", "frank", "finance", {**ask, "digest": "sha256:0"}
    )
    assert code == 409 and "nothing was decided" in body["error"]
    code, body = cloud.api("POST", "/closes/2026-08/approve", "frank", "finance", {"comment": "no run"})
    assert code == 400  # the approval names what finance was shown
    assert cloud.api("GET", "/closes/2026-08", "frank", "finance")[1]["status"] == "awaiting_approval"
    code, body = cloud.api("POST", "/closes/2026-08/approve", "frank", "finance", ask)
    assert code == 200 and body["approved_by"] == "frank"
    assert cloud.wait_execution("close-2026-08")["status"] == "SUCCEEDED"


def test_approval_sweeper_with_sample_schedule_event(cloud: LocalCloud) -> None:
    result, error = cloud.invoke(
        "ApprovalSweeperFunction", event("schedule_hourly_sweep.json", time="2026-11-23T10:00:00Z")
    )
    assert error is None and result == {"reminded": [], "timed_out": [], "heartbeats": 0, "redelivered": []}
