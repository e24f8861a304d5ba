"""S3, SQS and SNS adapters (boto3), with region and retry mode set explicitly."""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from loyalty.close.ports import CallbackGone
from loyalty.ingest.ports import QueueMessage
from loyalty.kernel.ports import MissingBlob, StaleBlob

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30)


_session: dict[str, boto3.session.Session] = {}
_session_lock = threading.Lock()


def client(service: str, region: str, endpoint_url: str | None = None) -> Any:
    """Clients share one session per process: a new session re-reads botocore's service models
    (about 0.1 s a client on a cold start)."""
    with _session_lock:
        if "s" not in _session:
            _session["s"] = boto3.session.Session()
        return _session["s"].client(
            service, region_name=region, endpoint_url=endpoint_url or None, config=BOTO_CONFIG
        )


class S3Blobs:
    """Objects of one bucket; those under `locked_prefix` (bank files) are written with an S3
    Object Lock GOVERNANCE retention of `retention_days` (the bucket has Object Lock enabled)."""

    def __init__(
        self,
        bucket: str,
        region: str,
        endpoint_url: str | None = None,
        locked_prefix: str = "",
        retention_days: int = 0,
    ) -> None:
        self.bucket = bucket
        self.s3 = client("s3", region, endpoint_url)
        self.locked_prefix = locked_prefix
        self.retention_days = retention_days

    def open(self, key: str) -> IO[bytes]:
        try:
            return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"]  # type: ignore[no-any-return]
        except self.s3.exceptions.NoSuchKey:
            raise MissingBlob(key) from None  # the same error as the in-memory blobs (contract tests)

    def open_version(self, key: str, version_id: str, etag: str) -> IO[bytes]:
        """GetObject by VersionId with If-Match on the ETag; without a version id (an unversioned
        bucket or an event that names none) If-Match on the key, else the stored version with
        that ETag. Never the newer content of an overwritten key."""
        args: dict[str, str] = {"Bucket": self.bucket, "Key": key}
        if etag:
            args["IfMatch"] = f'"{etag}"'
        try:
            if version_id:
                return self.s3.get_object(VersionId=version_id, **args)["Body"]  # type: ignore[no-any-return]
            return self.s3.get_object(**args)["Body"]  # type: ignore[no-any-return]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code not in ("PreconditionFailed", "412", "NoSuchKey", "NoSuchVersion", "InvalidArgument"):
                raise
        found = self._version_with_etag(key, etag) if etag and not version_id else None
        if found is None:
            raise StaleBlob(f"{key} version {version_id or '?'} (ETag {etag or '?'}) is no longer stored")
        return self.s3.get_object(Bucket=self.bucket, Key=key, VersionId=found)["Body"]  # type: ignore[no-any-return]

    def _version_with_etag(self, key: str, etag: str) -> str | None:
        pages = self.s3.get_paginator("list_object_versions").paginate(Bucket=self.bucket, Prefix=key)
        for page in pages:
            for v in page.get("Versions", []):
                if (
                    v["Key"] == key
                    and v["ETag"].strip('"') == etag
                    and v.get("VersionId") not in (None, "null")
                ):
                    return str(v["VersionId"])
        return None

    def get(self, key: str) -> bytes:
        return self.open(key).read()

    def _lock(self, key: str) -> dict[str, Any]:
        """Object Lock (governance) for a key under the locked prefix (bank files), else nothing."""
        if not (self.locked_prefix and self.retention_days > 0 and key.startswith(self.locked_prefix)):
            return {}
        until = dt.datetime.now(dt.UTC) + dt.timedelta(days=self.retention_days)
        return {
            "ObjectLockMode": "GOVERNANCE",
            "ObjectLockRetainUntilDate": until,
            "ChecksumAlgorithm": "SHA256",
        }

    def _put(self, key: str, body: bytes, content_type: str, **extra: Any) -> None:
        self.s3.put_object(
            Bucket=self.bucket,
            Key=key,
            Body=body,
            ContentType=content_type,
            ServerSideEncryption="aws:kms",
            **self._lock(key),
            **extra,
        )

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self._put(key, body, content_type)

    def put_new(self, key: str, body: bytes, content_type: str) -> bool:
        """Write only if nothing is at `key` (If-None-Match: *): immutable files (bank files),
        locked like every key under the locked prefix."""
        try:
            self._put(key, body, content_type, IfNoneMatch="*")
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {
                "PreconditionFailed",
                "ConditionalRequestConflict",
            }:
                return False
            raise

    def keys(self, prefix: str = "") -> list[str]:
        out: list[str] = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            out += [o["Key"] for o in page.get("Contents", [])]
        return sorted(out)


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


class KmsCipher:
    """Field encryption with the stack's KMS key; the partner id is the encryption context, so a
    ciphertext copied onto another partner does not decrypt."""

    def __init__(self, key_id: str, region: str, endpoint_url: str | None = None) -> None:
        self.key_id = key_id
        self.kms = client("kms", region, endpoint_url)

    def encrypt(self, plain: str, context: str) -> str:
        out = self.kms.encrypt(
            KeyId=self.key_id, Plaintext=plain.encode(), EncryptionContext={"partner": context}
        )
        return base64.b64encode(out["CiphertextBlob"]).decode()

    def decrypt(self, token: str, context: str) -> str:
        out = self.kms.decrypt(CiphertextBlob=base64.b64decode(token), EncryptionContext={"partner": context})
        return out["Plaintext"].decode()  # type: ignore[no-any-return]


class StepFunctions:
    """Workflow control: start a close, complete or fail a finance callback, heartbeat it."""

    def __init__(self, state_machine_arn: str, region: str, endpoint_url: str | None = None) -> None:
        self.arn = state_machine_arn
        self.sfn = client("stepfunctions", region, endpoint_url)

    def start(self, name: str, payload: Mapping[str, Any]) -> tuple[str, bool]:
        """(execution arn, started now). Same name again -> the existing execution, not a new one.

        Step Functions answers a repeated start of a *running* execution with the same input as
        if it had just started it (idempotent), and refuses it once the execution has ended: so
        an existing execution is looked up first, and `started` is True only for a new one."""
        arn = self._execution_arn(name)
        try:
            self.sfn.describe_execution(executionArn=arn)
            return arn, False
        except self.sfn.exceptions.ExecutionDoesNotExist:
            pass
        try:
            out = self.sfn.start_execution(stateMachineArn=self.arn, name=name, input=json.dumps(payload))
            return str(out["executionArn"]), True
        except self.sfn.exceptions.ExecutionAlreadyExists:  # started by a concurrent caller
            return arn, False

    def _execution_arn(self, name: str) -> str:
        _, partition, _, region, account, _, machine = self.arn.split(":", 6)
        return f"arn:{partition}:states:{region}:{account}:execution:{machine}:{name}"

    def succeed(self, token: str, output: Mapping[str, Any]) -> None:
        with _callback():
            self.sfn.send_task_success(taskToken=token, output=json.dumps(output))

    def fail(self, token: str, error: str, cause: str) -> None:
        with _callback():
            self.sfn.send_task_failure(taskToken=token, error=error, cause=cause[:32000])

    def heartbeat(self, token: str) -> None:
        with _callback():
            self.sfn.send_task_heartbeat(taskToken=token)


# What Step Functions answers for a token it no longer waits for.
_GONE = frozenset({"TaskTimedOut", "InvalidToken", "TaskDoesNotExist"})


@contextlib.contextmanager
def _callback() -> Iterator[None]:
    try:
        yield
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _GONE:
            raise CallbackGone(str(exc)) from exc
        raise


class KmsTokenCipher:
    """Approval callback tokens at rest: their own key (TOKEN_KEY_ID), and the encryption context
    {"purpose": "approval-token", "period": <period>}, so a token decrypts only for its own close
    and only where the key policy allows that context."""

    PURPOSE = "approval-token"

    def __init__(self, key_id: str, region: str, endpoint_url: str | None = None) -> None:
        self.key_id = key_id
        self.kms = client("kms", region, endpoint_url)

    def _context(self, period: str) -> dict[str, str]:
        return {"purpose": self.PURPOSE, "period": period}

    def encrypt(self, plain: str, context: str) -> str:
        out = self.kms.encrypt(
            KeyId=self.key_id, Plaintext=plain.encode(), EncryptionContext=self._context(context)
        )
        return base64.b64encode(out["CiphertextBlob"]).decode()

    def decrypt(self, token: str, context: str) -> str:
        out = self.kms.decrypt(
            KeyId=self.key_id,
            CiphertextBlob=base64.b64decode(token),
            EncryptionContext=self._context(context),
        )
        return out["Plaintext"].decode()  # type: ignore[no-any-return]
