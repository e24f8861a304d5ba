"""Fixtures of the contract suites: every port family runs against its AWS adapter (on the
session's moto, see tests/conftest.py) and its in-memory adapter, through one parametrized fixture.

Stable names (other suites use them): `make_table`, `dynamo_store`, `memory_store`, `store`
(memory|dynamo), `blobs` (memory|s3), `queue` (memory|sqs) with `drain`, `notifier` (memory|sns)
with `published`, `cipher` (memory|kms)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from loyalty.adapters.dynamo import DynamoStore
from loyalty.adapters.memory import MemoryStore
from loyalty.adapters.memory.ingest import MemoryQueue
from loyalty.adapters.memory.kernel import MemoryBlobs, MemoryCipher, MemoryNotifier, Published
from loyalty.adapters.s3sqs import KmsCipher, S3Blobs, SnsNotifier, SqsFifoQueue
from loyalty.ingest.ports import QueueMessage
from loyalty.kernel.ports import BlobStore, Cipher, Notifier
from loyalty_local.cloud import REGION

_names = itertools.count(1)


def make_table(name: str | None = None) -> str:
    """A fresh DynamoDB table on moto with the template's key schema (pk/sk and the GSI gsi1)."""
    name = name or f"contract-{next(_names)}"
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[
            {"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "gsi1pk", "gsi1sk")
        ],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "gsi1",
                "KeySchema": [
                    {"AttributeName": "gsi1pk", "KeyType": "HASH"},
                    {"AttributeName": "gsi1sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    )
    return name


@pytest.fixture()
def dynamo_store() -> DynamoStore:
    """A DynamoStore on a fresh moto table (bank details encrypted with the in-memory cipher)."""
    return DynamoStore(make_table(), REGION, cipher=MemoryCipher())


@pytest.fixture()
def memory_store() -> MemoryStore:
    return MemoryStore(cipher=MemoryCipher())


@pytest.fixture(params=["memory", "dynamo"])
def store(request: pytest.FixtureRequest) -> Any:
    """The store ports of program, ingest and earning: in memory and on DynamoDB."""
    if request.param == "memory":
        return MemoryStore(cipher=MemoryCipher())
    return DynamoStore(make_table(), REGION, cipher=MemoryCipher())


@pytest.fixture(params=["memory", "s3"])
def blobs(request: pytest.FixtureRequest) -> BlobStore:
    if request.param == "memory":
        return MemoryBlobs()
    bucket = f"contract-blobs-{next(_names)}"
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return S3Blobs(bucket, REGION)


@dataclass
class QueueUnderTest:
    queue: MemoryQueue | SqsFifoQueue
    drain: Callable[[], list[QueueMessage]]  # every message delivered so far, in delivery order


def _drain_sqs(url: str) -> list[QueueMessage]:
    sqs = boto3.client("sqs", region_name=REGION)
    out: list[QueueMessage] = []
    while True:
        got = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=300
        ).get("Messages", [])
        if not got:
            return out
        for m in got:
            a = m["Attributes"]
            out.append(QueueMessage(m["Body"], a["MessageGroupId"], a["MessageDeduplicationId"]))
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)],
        )


@pytest.fixture(params=["memory", "sqs"])
def queue(request: pytest.FixtureRequest) -> QueueUnderTest:
    if request.param == "memory":
        mq = MemoryQueue()
        return QueueUnderTest(mq, mq.drain)
    url = boto3.client("sqs", region_name=REGION).create_queue(
        QueueName=f"contract-{next(_names)}.fifo",
        Attributes={"FifoQueue": "true", "DeduplicationScope": "messageGroup"},
    )["QueueUrl"]
    return QueueUnderTest(SqsFifoQueue(url, REGION), lambda: _drain_sqs(url))


@dataclass
class NotifierUnderTest:
    notifier: Notifier
    published: Callable[[], list[Published]]  # what subscribers received, in order


def _sns_reader(topic_arn: str) -> Callable[[], list[Published]]:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName=f"contract-sub-{next(_names)}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    boto3.client("sns", region_name=REGION).subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)

    def read() -> list[Published]:
        out: list[Published] = []
        while got := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
            for m in got:
                env = json.loads(m["Body"])
                attrs = {k: v["Value"] for k, v in env.get("MessageAttributes", {}).items()}
                out.append(Published(env["Subject"], json.loads(env["Message"]), attrs))
                sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return out

    return read


@pytest.fixture(params=["memory", "sns"])
def notifier(request: pytest.FixtureRequest) -> NotifierUnderTest:
    if request.param == "memory":
        mn = MemoryNotifier()
        return NotifierUnderTest(mn, lambda: list(mn.published))
    arn = boto3.client("sns", region_name=REGION).create_topic(Name=f"contract-{next(_names)}")["TopicArn"]
    return NotifierUnderTest(SnsNotifier(arn, REGION), _sns_reader(arn))


@pytest.fixture(params=["memory", "kms"])
def cipher(request: pytest.FixtureRequest) -> Cipher:
    if request.param == "memory":
        return MemoryCipher()
    key = boto3.client("kms", region_name=REGION).create_key(Description="contract")["KeyMetadata"]["KeyId"]
    return KmsCipher(key, REGION)
