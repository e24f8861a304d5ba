"""At-least-once delivery everywhere, exactly-once effect: every case ends with the balances of
one clean run, to the cent."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest
from loyalty_factories.small import sales_csv
from loyalty_local.cloud import LocalCloud

from tests.conftest import balances, summary

PARTNERS = ["P00001", "P00002", "P00003"]
MONTHS = ["2026-09", "2026-10", "2026-11"]
SMALL_CHUNKS = {"ChunkRows": "25", "ChunkGroups": "8"}


def october(seed: int = 1) -> list[list[Any]]:
    """Sales of three partners (one via distributor D00001), USD and EUR, services, returns."""
    rnd = random.Random(seed)
    rows: list[list[Any]] = []
    for i in range(120):
        partner = PARTNERS[i % 3]
        cur = "USD" if i % 5 == 0 else "EUR"
        cat = ["hardware", "software", "services"][i % 3]
        rows.append(
            [
                f"S{i:04d}",
                partner,
                f"2026-10-{1 + i % 28:02d}",
                f"SKU-{i % 9}",
                1 + rnd.randrange(5),
                f"{rnd.randint(100, 99999) / 100:.2f}",
                cur,
                cat,
                f"C{i % 17}",
                "",
            ]
        )
    for j in range(0, 30, 2):  # returns of earlier lines, at the original's rate
        o = rows[j]
        rows.append([f"R{j:04d}", o[1], "2026-10-29", o[3], -1, o[5], o[6], o[7], "", o[0]])
    return rows


def by_uploader(rows: list[list[Any]]) -> dict[str, list[list[Any]]]:
    out: dict[str, list[list[Any]]] = {"P00001": [], "P00002": [], "D00001": []}
    for r in rows:
        out["D00001" if r[1] == "P00003" else r[1]].append(r)
    return out


def upload_all(cloud: LocalCloud, rows: list[list[Any]], tag: str) -> list[str]:
    keys = []
    for uploader, part in by_uploader(rows).items():
        key = f"incoming/{uploader}/{tag}.csv"
        cloud.upload(key, sales_csv(part))
        keys.append(key)
    return keys


@pytest.fixture(scope="module")
def clean() -> dict[str, Any]:
    """Balances after one clean run (its own stack)."""
    from tests.conftest import load_program

    c = LocalCloud(stack_name="clean-run", parameters=SMALL_CHUNKS, start_mock=False)
    c.start()
    try:
        load_program(c)
        upload_all(c, october(), "oct")
        c.settle()
        return balances(c, PARTNERS, MONTHS)
    finally:
        c.stop()


def assert_reconciled(cloud: LocalCloud, keys: list[str]) -> None:
    for k in keys:
        s = summary(cloud, k)
        assert s["reconciled"] and s["rows"] == s["accepted"] + s["rejected"], s


def test_clean_run_is_sane(clean: dict[str, Any]) -> None:
    lines = sum(len(clean[f"{p}/lines"]) for p in PARTNERS)
    assert lines == 135
    for p in PARTNERS:
        returned = [line for line in clean[f"{p}/lines"] if line[0].startswith("R")]
        assert returned and all(line[2].startswith("-") for line in returned)
    assert clean["P00002/2026-10"]["tier"] == "Silver"  # starting tier from the registry


def test_duplicate_s3_events(new_cloud: Callable[..., LocalCloud], clean: dict[str, Any]) -> None:
    cloud = new_cloud(SMALL_CHUNKS)
    keys = upload_all(cloud, october(), "oct")
    events = [json.loads(json.dumps(i.event)) for i in cloud._async]
    cloud.settle()
    for e in events:  # S3 delivers at least once: the same events again, twice
        cloud.send_s3_event("IngestSplitterFunction", e)
        cloud.send_s3_event("IngestSplitterFunction", json.loads(json.dumps(e)))
    cloud.settle()
    assert balances(cloud, PARTNERS, MONTHS) == clean
    assert_reconciled(cloud, keys)
    assert sum(summary(cloud, k)["new"] for k in keys) == 135


def test_duplicate_sqs_deliveries(new_cloud: Callable[..., LocalCloud], clean: dict[str, Any]) -> None:
    cloud = new_cloud(SMALL_CHUNKS)
    sqs = cloud.client("sqs")
    url = cloud.outputs["ChunkQueueUrl"]
    keys = upload_all(cloud, october(), "oct")
    cloud.step(poll=False)  # only the splitter runs: the chunks wait in the queue
    bodies = cloud.queued_bodies(url)
    for i, body in enumerate(bodies):  # SQS delivers at least once: every chunk a second time
        group = json.loads(body)["chunk_id"].split("-")[0]
        sqs.send_message(
            QueueUrl=url, MessageBody=body, MessageGroupId=f"g{group}", MessageDeduplicationId=f"dup-{i}"
        )
    cloud.settle()
    assert len(bodies) >= 6
    assert balances(cloud, PARTNERS, MONTHS) == clean
    assert_reconciled(cloud, keys)


def _writer_calls(new_cloud: Callable[..., LocalCloud]) -> int:
    """How many AWS calls one warm accrual-writer invocation makes (finalising included)."""
    cloud = new_cloud(SMALL_CHUNKS)
    upload_all(cloud, october()[:20], "warm")
    cloud.settle()
    cloud.upload("incoming/P00001/one.csv", sales_csv(october()[:1]))
    cloud.settle()
    return cloud.faults.last_calls["AccrualWriterFunction"]


def test_crash_after_each_aws_call_of_the_writer(
    new_cloud: Callable[..., LocalCloud], clean: dict[str, Any]
) -> None:
    n_calls = _writer_calls(new_cloud)
    assert n_calls >= 8
    cloud = new_cloud(SMALL_CHUNKS)
    upload_all(cloud, october(), "oct")
    cloud.settle()
    assert balances(cloud, PARTNERS, MONTHS) == clean
    for n in range(1, n_calls + 1):
        # the same lines sent again under a new name: every line is replaced by itself
        cloud.faults.crash_after("AccrualWriterFunction", n)
        keys = upload_all(cloud, october(), f"again-{n}")
        cloud.settle()
        assert cloud.faults.fired and cloud.faults.fired[-1][:2] == ("AccrualWriterFunction", n)
        assert balances(cloud, PARTNERS, MONTHS) == clean, f"crash after call {n}"
        assert_reconciled(cloud, keys)
        assert sum(summary(cloud, k)["replaced"] for k in keys) == 135


def test_poison_chunk_goes_to_dlq_is_reported_and_nothing_is_lost(
    new_cloud: Callable[..., LocalCloud], clean: dict[str, Any]
) -> None:
    cloud = new_cloud(SMALL_CHUNKS)
    already = len(cloud.faults.fired)
    for _ in range(5):  # the writer fails on every delivery of the first chunk it gets
        cloud.faults.crash_after("AccrualWriterFunction", 1)
    sqs = cloud.client("sqs")
    q = sqs.create_queue(QueueName=f"{cloud.stack_name}-ops-tap")["QueueUrl"]
    qarn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    cloud.client("sns").subscribe(TopicArn=cloud.outputs["OpsTopicArn"], Protocol="sqs", Endpoint=qarn)
    keys = upload_all(cloud, october(), "oct")
    cloud.settle(rounds=20)
    dead = [f for f in cloud.faults.fired[already:] if f[0] == "AccrualWriterFunction"]
    assert len(dead) == 5
    reports = cloud.client("s3").list_objects_v2(Bucket=cloud.bucket, Prefix="reports/dlq/")["Contents"]
    assert len(reports) == 1
    report = cloud.read_json(reports[0]["Key"])
    assert report["kind"] == "chunk" and report["detail"]["rows"] > 0
    lost_rows = report["detail"]["rows"]
    # every row is accounted for: the dead chunk's rows are reported rejected, with the reason
    s = {k: summary(cloud, k) for k in keys}
    assert all(v["reconciled"] for v in s.values())
    assert sum(v["rejected"] for v in s.values()) == lost_rows
    errors = "".join(
        cloud.read_bytes(v["errors_report"]).decode() for v in s.values() if v.get("errors_report")
    )
    assert errors.count("could not be processed after repeated attempts") == lost_rows
    sns_msgs = [
        m["Body"] for m in sqs.receive_message(QueueUrl=q, MaxNumberOfMessages=10).get("Messages", [])
    ]
    assert any("poison message" in m for m in sns_msgs)
    # the kept message is redriven once the cause is gone: balances equal the clean run
    chunk = json.loads(report["body"])
    sqs.send_message(
        QueueUrl=cloud.outputs["ChunkQueueUrl"],
        MessageBody=report["body"],
        MessageGroupId="g" + chunk["chunk_id"].split("-")[0],
        MessageDeduplicationId="redrive-1",
    )
    cloud.settle()
    assert balances(cloud, PARTNERS, MONTHS) == clean
    after = {k: summary(cloud, k) for k in keys}
    assert sum(v["rejected"] for v in after.values()) == 0 and all(v["reconciled"] for v in after.values())


def test_same_file_uploaded_twice(new_cloud: Callable[..., LocalCloud], clean: dict[str, Any]) -> None:
    cloud = new_cloud(SMALL_CHUNKS)
    upload_all(cloud, october(), "oct")
    cloud.settle()
    keys = upload_all(cloud, october(), "oct")  # the very same objects again (new S3 events)
    cloud.settle()
    assert balances(cloud, PARTNERS, MONTHS) == clean
    assert sum(summary(cloud, k)["replaced"] for k in keys) == 135
    assert sum(summary(cloud, k)["new"] for k in keys) == 0


def test_corrected_file_replaces_lines(new_cloud: Callable[..., LocalCloud]) -> None:
    original = october()
    corrected = [list(r) for r in original]
    for r in corrected[:40]:
        if int(r[4]) > 0:
            r[4] = int(r[4]) + 1  # quantities corrected
    corrected[5][6] = "EUR"  # a currency corrected
    # clean run: only the corrected data
    a = new_cloud(SMALL_CHUNKS)
    upload_all(a, corrected, "oct")
    a.settle()
    # original, then a correction file with just the changed lines
    b = new_cloud(SMALL_CHUNKS)
    upload_all(b, original, "oct")
    b.settle()
    changed = [c for c, o in zip(corrected, original, strict=True) if c != o]
    keys = upload_all(b, changed, "oct-correction")
    b.settle()
    assert balances(b, PARTNERS, MONTHS) == balances(a, PARTNERS, MONTHS)
    assert sum(summary(b, k)["replaced"] for k in keys) == len(changed)
