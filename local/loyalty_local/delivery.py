"""Event delivery with AWS semantics: S3 notifications are asynchronous (URL-encoded keys, a
sequencer, the function's retries and dead-letter queue); SQS mappings are polled in batches
(ReportBatchItemFailures, visibility timeouts, redrive); schedules fire on demand; a clock that
tests advance instead of sleeping."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from moto.sqs.models import sqs_backends

from loyalty_local.env import ACCOUNT_ID, REGION
from loyalty_local.runtime import AsyncItem, CloudBase, Mapping


class DeliveryMixin(CloudBase):
    # -- S3 notifications (asynchronous) -------------------------------------------------------------
    def enqueue_s3(self, fn_arn: str, event: dict[str, Any]) -> None:
        fn = self.by_arn.get(fn_arn)
        if fn is None:
            return
        now = self.clock.now()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"
        for rec in event.get("Records", []):
            rec["eventTime"] = stamp
            rec.setdefault("userIdentity", {"principalId": "AWS:LOCAL"})
            rec.setdefault("requestParameters", {"sourceIPAddress": "127.0.0.1"})
            rec.setdefault("responseElements", {"x-amz-request-id": uuid.uuid4().hex[:16].upper()})
            obj = rec["s3"]["object"]
            # AWS URL-encodes the key like quote_plus but leaves '/' as is (moto also encodes '/')
            obj["key"] = quote_plus(unquote_plus(obj["key"]), safe="/")
            obj["sequencer"] = f"{int(now * 1000):012X}{next(self._s3_seq):08X}"
            rec["s3"].setdefault("configurationId", "local")
        with self._lock:
            self._async.append(AsyncItem(now, next(self._seq), fn, event))

    def send_s3_event(self, logical_id: str, event: dict[str, Any]) -> None:
        """Deliver an S3 event as AWS would (used by tests to replay duplicate events)."""
        fn = self.functions[logical_id]
        with self._lock:
            self._async.append(AsyncItem(self.clock.now(), next(self._seq), fn, event))

    # -- the pump -----------------------------------------------------------------------------------
    def step(self, poll: bool = True) -> bool:
        """Deliver what is due: async invocations, then one batch per SQS mapping. True if any."""
        progressed = False
        with self._lock:
            now = self.clock.now()
            due = sorted(i for i in self._async if i.due <= now)
            for item in due:
                self._async.remove(item)
        for item in due:
            progressed = True
            _, error = self.invoke(item.function.logical_id, item.event)
            if error:
                self._async_failed(item, error)
        for m in self.mappings if poll else []:
            if self._poll(m):
                progressed = True
        return progressed

    def queued_bodies(self, queue_url: str) -> list[str]:
        """Bodies of the messages waiting in a queue (test introspection, no receive)."""
        name = queue_url.rsplit("/", 1)[1]
        return [m.body for m in sqs_backends[ACCOUNT_ID][REGION].get_queue(name).messages]

    def _async_failed(self, item: AsyncItem, error: str) -> None:
        fn = item.function
        if item.attempt < fn.retries:
            delay = 60 * (item.attempt + 1)  # Lambda retries after about 1, then 2 minutes
            with self._lock:
                self._async.append(
                    AsyncItem(self.clock.now() + delay, next(self._seq), fn, item.event, item.attempt + 1)
                )
            return
        if fn.dlq_arn:
            sqs = self.client("sqs")
            url = sqs.get_queue_url(QueueName=fn.dlq_arn.rsplit(":", 1)[1])["QueueUrl"]
            sqs.send_message(
                QueueUrl=url,
                MessageBody=json.dumps(item.event),
                MessageAttributes={
                    "RequestID": {"DataType": "String", "StringValue": uuid.uuid4().hex},
                    "ErrorCode": {"DataType": "Number", "StringValue": "200"},
                    "ErrorMessage": {"DataType": "String", "StringValue": error[:256]},
                },
            )

    def _poll(self, m: Mapping) -> bool:
        sqs = self.client("sqs")
        resp = sqs.receive_message(
            QueueUrl=m.queue_url,
            MaxNumberOfMessages=min(m.batch_size, 10),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=0,
        )
        msgs = resp.get("Messages", [])
        if not msgs:
            return False
        records = [
            {
                "messageId": msg["MessageId"],
                "receiptHandle": msg["ReceiptHandle"],
                "body": msg["Body"],
                "attributes": msg.get("Attributes", {}),
                "messageAttributes": {
                    k: {
                        "stringValue": v.get("StringValue"),
                        "binaryValue": v.get("BinaryValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": v["DataType"],
                    }
                    for k, v in msg.get("MessageAttributes", {}).items()
                },
                "md5OfBody": msg["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": m.queue_arn,
                "awsRegion": REGION,
            }
            for msg in msgs
        ]
        self.batches.append((m.function.logical_id, m.queue_arn, len(records)))
        result, error = self.invoke(m.function.logical_id, {"Records": records})
        if error:
            return True  # the whole batch stays; visible again after the visibility timeout
        failed: set[str] = set()
        if m.report_failures and isinstance(result, dict):
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        done = [r for r in records if r["messageId"] not in failed]
        for i in range(0, len(done), 10):
            sqs.delete_message_batch(
                QueueUrl=m.queue_url,
                Entries=[
                    {"Id": str(j), "ReceiptHandle": r["receiptHandle"]}
                    for j, r in enumerate(done[i : i + 10])
                ],
            )
        return True

    def run_until_idle(self, max_steps: int = 1_000_000, timeout: float = 3600) -> int:
        """Deliver events until nothing is due. Messages that failed stay invisible until the
        clock passes their visibility timeout (see `advance`)."""
        steps = 0
        end = time.monotonic() + timeout
        while steps < max_steps and time.monotonic() < end:
            if not self.step():
                break
            steps += 1
        return steps

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def settle(self, rounds: int = 12, step_seconds: float = 400) -> None:
        """Run, then let visibility timeouts and async retries pass, until everything is delivered."""
        for _ in range(rounds):
            self.run_until_idle()
            if not self.pending():
                return
            self.advance(step_seconds)
        self.run_until_idle()

    def pending(self) -> int:
        """Messages still queued or in flight, plus scheduled async invocations."""
        sqs = self.client("sqs")
        n = len(self._async)
        for m in self.mappings:
            a = sqs.get_queue_attributes(QueueUrl=m.queue_url, AttributeNames=["All"])["Attributes"]
            n += int(a.get("ApproximateNumberOfMessages", 0)) + int(
                a.get("ApproximateNumberOfMessagesNotVisible", 0)
            )
        return n

    # -- schedules -------------------------------------------------
    def schedule_event(self, detail: dict[str, Any] | None = None, at: float | None = None) -> dict[str, Any]:
        now = self.clock.now() if at is None else at
        return {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": ACCOUNT_ID,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            "region": REGION,
            "resources": [],
            "detail": detail or {},
        }

    def fire_schedule(
        self, logical_id: str, detail: dict[str, Any] | None = None, at: float | None = None
    ) -> Any:
        """What EventBridge does when a rule's schedule fires (event time: `at`, default the local clock)."""
        result, error = self.invoke(logical_id, self.schedule_event(detail, at))
        if error:
            raise RuntimeError(f"{logical_id} failed: {error}")
        return result
