"""Contracts of the kernel ports: blobs (S3 | memory), notifications (SNS | memory), field
encryption (KMS | memory), and the chunk queue (SQS FIFO | memory)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from botocore.exceptions import ClientError
from loyalty.adapters.memory.kernel import MemoryBlobs, WrongContext
from loyalty.adapters.s3sqs import S3Blobs
from loyalty.ingest.ports import QueueMessage
from loyalty.kernel.ports import BlobStore, Cipher, MissingBlob

from tests.contract.conftest import NotifierUnderTest, QueueUnderTest


def test_blob_round_trip_and_overwrite(blobs: BlobStore) -> None:
    blobs.put("reports/a.json", b'{"a": 1}', "application/json")
    assert blobs.get("reports/a.json") == b'{"a": 1}'
    assert blobs.open("reports/a.json").read() == b'{"a": 1}'
    blobs.put("reports/a.json", b"", "application/json")
    assert blobs.get("reports/a.json") == b""


def test_blob_keys_are_taken_literally(blobs: BlobStore) -> None:
    key = "incoming/P 1/okt ä+b.csv"
    blobs.put(key, "ä".encode(), "text/csv")
    assert blobs.get(key) == "ä".encode()


def test_missing_blob_raises_missing_blob(blobs: BlobStore) -> None:
    with pytest.raises(MissingBlob):
        blobs.get("nope.csv")
    with pytest.raises(MissingBlob):
        blobs.open("nope.csv")


def test_put_new_never_overwrites_and_keys_list_a_prefix(blobs: BlobStore) -> None:
    """Bank files are immutable (issue 9, point 3): the conditional put of the close's blobs."""
    assert isinstance(blobs, (MemoryBlobs, S3Blobs))
    assert blobs.put_new("payouts/2026-08/close-2026-08/pain001.xml", b"first", "application/xml")
    assert not blobs.put_new("payouts/2026-08/close-2026-08/pain001.xml", b"second", "application/xml")
    assert blobs.get("payouts/2026-08/close-2026-08/pain001.xml") == b"first"
    blobs.put("payouts/2026-09/x.csv", b"", "text/csv")
    blobs.put("other/a", b"", "text/plain")
    assert blobs.keys("payouts/2026-08/") == ["payouts/2026-08/close-2026-08/pain001.xml"]
    assert blobs.keys("payouts/") == ["payouts/2026-08/close-2026-08/pain001.xml", "payouts/2026-09/x.csv"]


def test_published_messages_arrive_in_order_as_json(notifier: NotifierUnderTest) -> None:
    notifier.notifier.publish(
        "upload processed", {"n": 1, "amount": Decimal("1.50")}, {"type": "a", "partner": "P1"}
    )
    notifier.notifier.publish("x" * 150, {"nested": {"list": [1, 2]}}, {"type": "b", "partner": "P2"})
    got = notifier.published()
    assert [(p.subject, dict(p.message), dict(p.attributes)) for p in got] == [
        ("upload processed", {"n": 1, "amount": "1.50"}, {"type": "a", "partner": "P1"}),
        ("x" * 100, {"nested": {"list": [1, 2]}}, {"type": "b", "partner": "P2"}),
    ]


def test_cipher_round_trip_bound_to_its_context(cipher: Cipher) -> None:
    token = cipher.encrypt("DE89370400440532013000", "P00001")
    assert token != "DE89370400440532013000"
    assert cipher.decrypt(token, "P00001") == "DE89370400440532013000"
    with pytest.raises((WrongContext, ClientError)):  # KMS: InvalidCiphertextException
        cipher.decrypt(token, "P00002")


def m(body: str, group: str, dedup: str) -> QueueMessage:
    return QueueMessage(body, group, dedup)


def test_queue_keeps_order_and_drops_duplicates_within_a_group(queue: QueueUnderTest) -> None:
    queue.queue.send([m("a1", "g1", "u-1"), m("b1", "g2", "u-2"), m("a2", "g1", "u-3")])
    queue.queue.send([m("a1 again", "g1", "u-1"), m("a3", "g1", "u-4")])
    got = queue.drain()
    assert [x.body for x in got if x.group == "g1"] == ["a1", "a2", "a3"]
    assert [x.body for x in got if x.group == "g2"] == ["b1"]
    assert {(x.body, x.dedup_id) for x in got} == {("a1", "u-1"), ("b1", "u-2"), ("a2", "u-3"), ("a3", "u-4")}


def test_queue_sends_more_than_one_batch(queue: QueueUnderTest) -> None:
    msgs = [m(f"body {i}" + "x" * 30_000, "g1", f"d-{i}") for i in range(25)]  # > 10 a batch, > 256 KiB
    queue.queue.send(msgs)
    assert [x.body for x in queue.drain()] == [x.body for x in msgs]
