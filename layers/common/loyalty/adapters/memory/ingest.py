"""In-memory adapters of the ingest ports: upload records with their chunk results, and the
FIFO chunk queue.

Same guarantees as `adapters.dynamo.uploads` and `adapters.s3sqs.SqsFifoQueue` (held by
tests/contract/test_upload_store.py and test_queue.py): a chunk result put twice counts once,
`mark_notified` is true exactly once, a message whose deduplication id was already sent in its
group is dropped, messages come back in the order they were sent."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from loyalty.adapters.memory.tables import MemoryTables
from loyalty.ingest.ports import QueueMessage
from loyalty.ingest.records import ChunkResult, UploadRecord
from loyalty.kernel.ports import Cipher


class UploadExists(RuntimeError):
    """`create_upload` of an id that has only chunk results so far (DynamoDB's PutError)."""


@dataclass
class _UploadItem:
    data: str | None = None  # the record without its derived fields, as JSON
    state: str = ""
    notified: bool = False
    done: set[str] = field(default_factory=set)


def _upload_data(rec: UploadRecord) -> str:
    data = asdict(rec)
    for derived in ("notified", "chunks_done"):
        data.pop(derived)
    return json.dumps(data)


class MemoryUploads(MemoryTables):
    def __init__(self, cipher: Cipher | None = None) -> None:
        super().__init__(cipher)
        self.uploads: dict[str, _UploadItem] = {}
        self.chunks: dict[str, dict[str, str]] = {}  # upload -> chunk id -> result as JSON
        self.latest_by_key: dict[str, str] = {}

    def get_upload(self, upload_id: str) -> UploadRecord | None:
        it = self.uploads.get(upload_id)
        if it is None or it.data is None:  # only chunk results so far
            return None
        rec = UploadRecord(**json.loads(it.data))
        rec.state, rec.notified = it.state, it.notified
        rec.chunks_done = len(it.done)
        return rec

    def create_upload(self, rec: UploadRecord) -> UploadRecord:
        if rec.upload_id in self.uploads:
            found = self.get_upload(rec.upload_id)
            if found is None:
                raise UploadExists(rec.upload_id)
            return found
        self.uploads[rec.upload_id] = _UploadItem(_upload_data(rec), rec.state)
        self.latest_by_key[rec.key] = rec.upload_id
        return rec

    def latest_upload_for_key(self, key: str) -> str | None:
        return self.latest_by_key.get(key)

    def save_upload(self, rec: UploadRecord) -> None:
        it = self.uploads.setdefault(rec.upload_id, _UploadItem())
        it.data, it.state = _upload_data(rec), rec.state

    def mark_notified(self, upload_id: str) -> bool:
        it = self.uploads.get(upload_id)
        if it is None or it.notified:
            return False
        it.notified = True
        return True

    def put_chunk_result(self, upload_id: str, result: ChunkResult) -> bool:
        data = asdict(result)
        data["net_eur"] = str(result.net_eur)
        data["commission"] = str(result.commission)
        self.chunks.setdefault(upload_id, {})[result.chunk_id] = json.dumps(data)
        done = self.uploads.setdefault(upload_id, _UploadItem()).done
        if result.chunk_id in done:
            return False
        done.add(result.chunk_id)
        return True

    def chunk_results(self, upload_id: str) -> list[ChunkResult]:
        out = []
        for _, text in sorted(self.chunks.get(upload_id, {}).items()):
            d = json.loads(text)
            d["net_eur"] = Decimal(d["net_eur"])
            d["commission"] = Decimal(d["commission"])
            out.append(ChunkResult(**d))
        return out


class MemoryQueue:
    """A FIFO queue with deduplication per message group (the template's `DeduplicationScope:
    messageGroup`). `keep=False` counts messages without keeping them (for the memory bench)."""

    def __init__(self, keep: bool = True) -> None:
        self.keep = keep
        self.messages: list[QueueMessage] = []  # sent and not yet drained
        self.sent = 0
        self.bytes = 0
        self._seen: set[tuple[str, str]] = set()

    def send(self, messages: Sequence[QueueMessage]) -> None:
        for m in messages:
            if (m.group, m.dedup_id) in self._seen:
                continue
            self._seen.add((m.group, m.dedup_id))
            self.sent += 1
            self.bytes += len(m.body)
            if self.keep:
                self.messages.append(m)

    def drain(self) -> list[QueueMessage]:
        """Receive (and delete) everything sent so far, in the order it was sent."""
        out, self.messages = self.messages, []
        return out
