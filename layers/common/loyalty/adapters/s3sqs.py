"""S3, SQS and SNS adapters (boto3), with region and retry mode set explicitly."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import IO, Any

import boto3
from botocore.config import Config

from loyalty.ports import QueueMessage

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)


def client(service: str, region: str, endpoint_url: str | None = None) -> Any:
    return boto3.session.Session().client(
        service, region_name=region, endpoint_url=endpoint_url or None, config=BOTO_CONFIG
    )


class S3Blobs:
    def __init__(self, bucket: str, region: str, endpoint_url: str | None = None) -> None:
        self.bucket = bucket
        self.s3 = client("s3", region, endpoint_url)

    def open(self, key: str) -> IO[bytes]:
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"]  # type: ignore[no-any-return]

    def get(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()  # type: ignore[no-any-return]

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self.s3.put_object(
            Bucket=self.bucket, Key=key, Body=body, ContentType=content_type, ServerSideEncryption="aws:kms"
        )


class SqsFifoQueue:
    """SendMessageBatch in groups of <= 10 messages and <= 256 KiB."""

    LIMIT = 250 * 1024

    def __init__(self, url: str, region: str, endpoint_url: str | None = None) -> None:
        self.url = url
        self.sqs = client("sqs", region, endpoint_url)

    def send(self, messages: Sequence[QueueMessage]) -> None:
        batch: list[dict[str, str]] = []
        size = 0
        for i, m in enumerate(messages):
            n = len(m.body.encode())
            if batch and (len(batch) == 10 or size + n > self.LIMIT):
                self._send(batch)
                batch, size = [], 0
            batch.append(
                {
                    "Id": str(i),
                    "MessageBody": m.body,
                    "MessageGroupId": m.group,
                    "MessageDeduplicationId": m.dedup_id,
                }
            )
            size += n
        if batch:
            self._send(batch)

    def _send(self, entries: list[dict[str, str]]) -> None:
        for _ in range(5):
            resp = self.sqs.send_message_batch(QueueUrl=self.url, Entries=entries)
            failed = {f["Id"] for f in resp.get("Failed", [])}
            if not failed:
                return
            entries = [e for e in entries if e["Id"] in failed]
        raise RuntimeError(f"SQS refused {len(entries)} chunk message(s) after retries")


class SnsNotifier:
    def __init__(self, topic_arn: str, region: str, endpoint_url: str | None = None) -> None:
        self.topic_arn = topic_arn
        self.sns = client("sns", region, endpoint_url)

    def publish(self, subject: str, message: Mapping[str, Any], attributes: Mapping[str, str]) -> None:
        if not self.topic_arn:
            return
        self.sns.publish(
            TopicArn=self.topic_arn,
            Subject=subject[:100],
            Message=json.dumps(message, default=str),
            MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()},
        )
