"""Poison messages: keep them, account for their rows, tell operators.

A chunk that failed `maxReceiveCount` times lands in the chunk DLQ; its rows are reported as
rejected ("could not be processed"), the upload's summary still reconciles, and the message is
kept in S3 so that an operator can redrive it once the cause is fixed (`loyalty dlq redrive`).
An S3 event whose asynchronous invocation failed after Lambda's retries lands in the async DLQ;
the upload gets a file-level error report.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

from loyalty.ingest.chunks import Chunk
from loyalty.ingest.finalizer import Finalizer
from loyalty.ingest.keys import PARTS, upload_id_for
from loyalty.ingest.ports import UploadStore as Store
from loyalty.ingest.records import ChunkResult, UploadRecord
from loyalty.kernel.clock import now_iso
from loyalty.kernel.csvio.model import RowIssue
from loyalty.kernel.money import ZERO
from loyalty.kernel.ports import BlobStore, Notifier
from loyalty.kernel.reports import issues_csv


@dataclass
class DeadLetter:
    queue_arn: str
    message_id: str
    body: str
    receive_count: int
    attributes: dict[str, str] = field(default_factory=dict)


class DlqService:
    def __init__(self, store: Store, blobs: BlobStore, ops: Notifier, partners: Notifier) -> None:
        self.store = store
        self.blobs = blobs
        self.ops = ops  # operators: every poison message
        self.partners = partners  # partners: the upload report their rows ended in

    def handle(self, letter: DeadLetter) -> dict[str, Any]:
        day = dt.datetime.now(dt.UTC).date().isoformat()
        report_key = f"reports/dlq/{day}/{letter.message_id}.json"
        kind, detail = self._account(letter)
        report = {
            "kind": kind,
            "queue_arn": letter.queue_arn,
            "message_id": letter.message_id,
            "receive_count": letter.receive_count,
            "reported_at": now_iso(),
            "detail": detail,
            "body": letter.body,
        }
        self.blobs.put(report_key, json.dumps(report, indent=2).encode(), "application/json")
        self.ops.publish(
            subject=f"poison message: {kind}",
            message={k: v for k, v in report.items() if k != "body"} | {"report_key": report_key},
            attributes={"type": "poison_message", "partner": str(detail.get("uploader") or "unknown")},
        )
        return {"kind": kind, "report_key": report_key, **detail}

    def _account(self, letter: DeadLetter) -> tuple[str, dict[str, Any]]:
        try:
            data = json.loads(letter.body)
        except ValueError:
            return "unreadable", {"reason": "body is not JSON"}
        if isinstance(data, dict) and "upload_id" in data and "rows" in data:
            return "chunk", self._chunk(letter, data)
        if isinstance(data, dict) and isinstance(data.get("Records"), list):
            return "s3_event", self._s3_event(data)
        return "unknown", {"reason": "not a chunk message nor an S3 event"}

    def _chunk(self, letter: DeadLetter, data: dict[str, Any]) -> dict[str, Any]:
        try:
            chunk = Chunk.parse(letter.body)
        except (KeyError, ValueError, TypeError) as exc:
            return {"reason": f"malformed chunk message: {exc}", "upload_id": data.get("upload_id")}
        day = dt.datetime.now(dt.UTC).date().isoformat()
        reason = (
            f"could not be processed after repeated attempts (received {letter.receive_count} times);"
            f" kept for redrive as reports/dlq/{day}/{letter.message_id}.json"
        )
        issues = [RowIssue(line, "", "", reason) for line in chunk.block.lines]
        issues_key = f"{PARTS}{chunk.upload_id}/{chunk.chunk_id}.csv"
        self.blobs.put(issues_key, issues_csv(issues), "text/csv")
        n = len(chunk.block)
        self.store.put_chunk_result(
            chunk.upload_id,
            ChunkResult(chunk.chunk_id, n, 0, n, 0, 0, 0, 0, ZERO, ZERO, issues_key, {}),
        )
        rec = self.store.get_upload(chunk.upload_id)
        if rec is not None and rec.state == "split" and rec.chunks_done >= rec.chunks_total:
            Finalizer(self.store, self.blobs, self.partners).finalize(rec)
        return {
            "upload_id": chunk.upload_id,
            "chunk_id": chunk.chunk_id,
            "rows": n,
            "uploader": chunk.uploader,
        }

    def _s3_event(self, data: dict[str, Any]) -> dict[str, Any]:
        keys = []
        for r in data["Records"]:
            s3 = r.get("s3", {})
            bucket = s3.get("bucket", {}).get("name", "")
            obj = s3.get("object", {})
            key = unquote_plus(obj.get("key", ""))
            keys.append(key)
            if not key.startswith("incoming/"):
                continue
            upload_id = upload_id_for(bucket, key, obj.get("eTag", ""), obj.get("sequencer", ""))
            rec = self.store.get_upload(upload_id) or self.store.create_upload(
                UploadRecord(
                    upload_id=upload_id, key=key, uploader=key.split("/")[1], version="", created_at=now_iso()
                )
            )
            if rec.state != "done":
                rec.file_error_code = "processing_failed"
                rec.file_error = (
                    "the file could not be processed after retries; operators were alerted and will re-run it"
                )
                rec.chunks_total = max(rec.chunks_total, 0)
                rec.state = "split"
                self.store.save_upload(rec)
                Finalizer(self.store, self.blobs, self.partners).finalize(rec)
        return {"keys": keys}
