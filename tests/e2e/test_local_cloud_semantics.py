"""The local cloud delivers events as AWS does: each semantic has its test."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from botocore.exceptions import ClientError
from loyalty_factories.small import sales_csv
from loyalty_local.cloud import LocalCloud

from tests.conftest import summary


def rows(n: int, partner: str = "P00001", prefix: str = "S") -> list[list[object]]:
    return [
        [f"{prefix}{i}", partner, f"2026-10-{1 + i % 28:02d}", "SKU-1", 1 + i % 3, "10.00", "EUR", "", "", ""]
        for i in range(n)
    ]


def test_s3_notifications_are_asynchronous_with_url_encoded_keys(cloud: LocalCloud) -> None:
    key = "incoming/P00001/oct 2026+final.csv"
    cloud.upload(key, sales_csv(rows(3)))
    queued = [i.event for i in cloud._async]
    assert len(queued) == 1, "the upload returned before the handler ran"
    rec = queued[0]["Records"][0]
    assert rec["s3"]["object"]["key"] == "incoming/P00001/oct+2026%2Bfinal.csv"
    assert rec["eventName"] == "ObjectCreated:Put" and rec["s3"]["object"]["sequencer"]
    cloud.run_until_idle()
    s = summary(cloud, key)
    assert s["key"] == key and s["accepted"] == 3 and s["reconciled"]


def test_sqs_batches_have_the_configured_size(new_cloud: Callable[..., LocalCloud]) -> None:
    cloud = new_cloud({"ChunkRows": "10", "ChunkGroups": "64"})
    partners = "".join(f"Q{i:03d},Q {i},q{i}@x.example,smb,DE,,2026-01-01,,,\n" for i in range(25))
    reg = "partner_id,name,email,segment,country,sponsor_id,joined_on,cohort,distributor_for,starting_tier\n"
    dist = f"DIST,Distributor,d@x.example,dist,DE,,2026-01-01,,{'|'.join(f'Q{i:03d}' for i in range(25))},\n"
    cloud.upload("registry/more.csv", (reg + partners + dist).encode())
    cloud.run_until_idle()
    data = [r for i in range(25) for r in rows(12, f"Q{i:03d}", f"S{i}-")]
    cloud.upload("incoming/DIST/all.csv", sales_csv(data))
    cloud.run_until_idle()
    sizes = [n for fn, arn, n in cloud.batches if fn == "AccrualWriterFunction"]
    assert max(sizes) == 10 and all(1 <= n <= 10 for n in sizes)
    assert sum(sizes) == 50  # 25 partners x (a chunk of 10 rows + one of 2): one partner, one group
    assert summary(cloud, "incoming/DIST/all.csv")["accepted"] == 300


def test_partial_batch_failure_visibility_timeout_and_redrive_to_dlq(cloud: LocalCloud) -> None:
    sqs = cloud.client("sqs")
    url = cloud.outputs["ChunkQueueUrl"]
    good = json.loads(
        json.dumps(
            {
                "upload_id": "u-x",
                "chunk_id": "0001-000001",
                "key": "incoming/P00001/x.csv",
                "uploader": "P00001",
                "version": "2026-11-01T00:00:00.000Z~1~u-x",
                "rows": {
                    "line": [2],
                    "sale_id": ["G1"],
                    "partner_id": ["P00001"],
                    "sold_at": ["2026-10-01T00:00:00Z"],
                    "sku": ["A"],
                    "quantity": [1],
                    "unit_price": ["1.00"],
                    "currency": ["EUR"],
                    "category": [""],
                    "customer_id": [""],
                    "original_sale_id": [""],
                },
            }
        )
    )
    sqs.send_message(
        QueueUrl=url, MessageBody="not json", MessageGroupId="poison", MessageDeduplicationId="p1"
    )
    sqs.send_message(
        QueueUrl=url, MessageBody=json.dumps(good), MessageGroupId="good", MessageDeduplicationId="g1"
    )
    cloud.run_until_idle()
    # the good record was deleted, the poison one reported as a batch item failure and kept
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (
        attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "1"
    )
    calls = cloud.functions["AccrualWriterFunction"].invocations
    cloud.run_until_idle()
    assert cloud.functions["AccrualWriterFunction"].invocations == calls, "invisible until the timeout passes"
    cloud.advance(300)  # (the clock also runs for real: keep a margin around the 360 s)
    cloud.run_until_idle()
    assert cloud.functions["AccrualWriterFunction"].invocations == calls
    cloud.advance(65)  # visibility timeout 360 s = 6 x the writer's 60 s
    cloud.run_until_idle()
    assert cloud.functions["AccrualWriterFunction"].invocations == calls + 1
    for _ in range(5):  # maxReceiveCount 5, then moto's redrive moves it to the DLQ
        cloud.advance(361)
        cloud.run_until_idle()
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert (
        attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
    )
    assert cloud.functions["AccrualWriterFunction"].invocations == calls + 4  # 5 receives in all
    dlq = sqs.get_queue_attributes(QueueUrl=cloud.outputs["ChunkDLQUrl"], AttributeNames=["All"])[
        "Attributes"
    ]
    assert dlq["ApproximateNumberOfMessages"] == "0"  # consumed by the DLQ reporter
    # the DLQ consumer kept and reported it
    reports = cloud.client("s3").list_objects_v2(Bucket=cloud.bucket, Prefix="reports/dlq/")["Contents"]
    report = cloud.read_json(reports[0]["Key"])
    assert report["kind"] == "unreadable" and report["body"] == "not json" and report["receive_count"] >= 1


def test_async_invocation_retries_then_dead_letters(cloud: LocalCloud) -> None:
    cloud.faults.crash_after("ConfigLoaderFunction", 1)
    cloud.faults.crash_after("ConfigLoaderFunction", 1)
    cloud.faults.crash_after("ConfigLoaderFunction", 1)
    cloud.upload("rates/more.csv", b"date,currency,units_per_eur\n2026-11-02,GBP,0.86\n")
    cloud.run_until_idle()
    fn = cloud.functions["ConfigLoaderFunction"]
    errors = fn.errors
    assert errors == 1
    cloud.advance(61)
    cloud.run_until_idle()
    assert fn.errors == 2
    cloud.advance(121)
    cloud.run_until_idle()
    assert fn.errors == 3  # 1 try + MaximumRetryAttempts 2
    reports = (
        cloud.client("s3").list_objects_v2(Bucket=cloud.bucket, Prefix="reports/dlq/").get("Contents", [])
    )
    assert len(reports) == 1 and cloud.read_json(reports[0]["Key"])["kind"] == "s3_event"


def test_upload_processed_notification_with_partner_attributes(cloud: LocalCloud) -> None:
    sqs = cloud.client("sqs")
    q = sqs.create_queue(QueueName=f"{cloud.stack_name}-events-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    cloud.client("sns").subscribe(TopicArn=cloud.outputs["EventsTopicArn"], Protocol="sqs", Endpoint=arn)
    cloud.upload(
        "incoming/P00001/nov.csv",
        sales_csv([*rows(4), ["X1", "P00001", "bad-date", "A", 1, "1", "EUR", "", "", ""]]),
    )
    cloud.settle()
    cloud.upload("incoming/P00001/nov.csv", sales_csv(rows(4)))  # the same key again: a new upload
    cloud.settle()
    msgs = [
        json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=q, MaxNumberOfMessages=10)["Messages"]
    ]
    processed = [m for m in msgs if m["MessageAttributes"]["type"]["Value"] == "upload_processed"]
    assert len(processed) == 2  # one per upload, however many chunks and redeliveries
    assert {m["MessageAttributes"]["partner"]["Value"] for m in processed} == {"P00001"}
    bodies = sorted((json.loads(m["Message"]) for m in processed), key=lambda b: b["processed_at"])
    assert (bodies[0]["accepted"], bodies[0]["rejected"], bodies[1]["replaced"]) == (4, 1, 4)


def test_cancelled_transactions_roll_back_every_item(cloud: LocalCloud) -> None:
    """TransactWriteItems is all or nothing (the local seam snapshots only touched partitions)."""
    ddb = cloud.client("dynamodb")
    table = cloud.outputs["TableName"]
    ddb.put_item(TableName=table, Item={"pk": {"S": "T#1"}, "sk": {"S": "A"}, "n": {"N": "1"}})
    with pytest.raises(ClientError) as err:
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"pk": {"S": "T#2"}, "sk": {"S": "B"}}}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": "T#1"}, "sk": {"S": "A"}},
                        "UpdateExpression": "SET n = :two",
                        "ExpressionAttributeValues": {":two": {"N": "2"}},
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"pk": {"S": "T#3"}, "sk": {"S": "C"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    assert err.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "T#2"}, "sk": {"S": "B"}})
    item = ddb.get_item(TableName=table, Key={"pk": {"S": "T#1"}, "sk": {"S": "A"}})["Item"]
    assert item["n"] == {"N": "1"}


def test_an_overwrite_before_the_read_neither_loses_nor_mixes_rows(cloud: LocalCloud) -> None:
    """Issue 9, point 17: each S3 event is processed on the object version it names; a version
    written before the splitter ran is its own upload (the bucket is versioned)."""
    from loyalty.adapters.dynamo import DynamoStore
    from loyalty_local.cloud import REGION

    key = "incoming/P00001/overwrite.csv"
    cloud.upload(key, sales_csv(rows(3, prefix="OLD")))
    cloud.upload(key, sales_csv(rows(4, prefix="NEW")))  # before the first event is delivered
    assert len(cloud._async) == 2
    cloud.run_until_idle()
    store = DynamoStore(cloud.outputs["TableName"], REGION)
    by_upload: dict[str, set[str]] = {}
    for s in store.partner_sales("P00001"):
        by_upload.setdefault(s.source.split(":")[0], set()).add(s.sale_id)
    assert sorted(map(sorted, by_upload.values())) == [
        ["NEW0", "NEW1", "NEW2", "NEW3"],
        ["OLD0", "OLD1", "OLD2"],
    ]


def test_s3_notifications_of_a_versioned_bucket_name_the_version(cloud: LocalCloud) -> None:
    key = "incoming/P00001/versioned.csv"
    cloud.upload(key, sales_csv(rows(1)))
    (item,) = cloud._async
    s3 = cloud.client("s3")
    bucket = item.event["Records"][0]["s3"]["bucket"]["name"]
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    head = s3.head_object(Bucket=bucket, Key=key)
    assert item.event["Records"][0]["s3"]["object"]["versionId"] == head["VersionId"]
