"""The services of one Lambda container wired on in-memory adapters (what `loyalty.wiring.Container`
is on AWS): service unit tests, the benchmarks and isolated runs build them here, in milliseconds."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Callable

from loyalty.adapters.memory import MemoryStore
from loyalty.adapters.memory.ingest import MemoryQueue
from loyalty.adapters.memory.kernel import MemoryBlobs, MemoryCipher, MemoryNotifier
from loyalty.earning.balances import BalanceService
from loyalty.earning.writer import AccrualService, ConfigCache
from loyalty.ingest.chunks import Chunk
from loyalty.ingest.dead_letters import DlqService
from loyalty.ingest.finalizer import Finalizer
from loyalty.ingest.records import ChunkResult, UploadRecord
from loyalty.ingest.splitter import IngestService, S3Object
from loyalty.program.config import ConfigService

BUCKET = "memory-bucket"


class MemoryContainer:
    """One store, bucket, chunk queue and topics in memory, and the services on them.

    `upload` puts a file and runs the splitter as the S3 notification would; `deliver` hands every
    queued chunk to the accrual writer (what the SQS event source mapping does)."""

    def __init__(
        self,
        *,
        chunk_rows: int = 500,
        chunk_groups: int = 64,
        max_upload_bytes: int = 1024**3,
        currency: str = "EUR",
        today: dt.date = dt.date(2026, 11, 23),
        cache_seconds: float = 0,
    ) -> None:
        self.store = MemoryStore(cipher=MemoryCipher())
        self.blobs = MemoryBlobs()
        self.queue = MemoryQueue()
        self.notifier = MemoryNotifier()
        self.ops_notifier = MemoryNotifier()
        self.chunk_rows = chunk_rows
        self.chunk_groups = chunk_groups
        self.max_upload_bytes = max_upload_bytes
        self.today = today
        self.cache = ConfigCache(self.store, cache_seconds, currency)
        self._seq = itertools.count(1)

    def ingest(self) -> IngestService:
        today: Callable[[], dt.date] = lambda: self.today  # noqa: E731
        return IngestService(
            self.store,
            self.blobs,
            self.queue,
            self.notifier,
            max_upload_bytes=self.max_upload_bytes,
            chunk_rows=self.chunk_rows,
            chunk_groups=self.chunk_groups,
            today=today,
        )

    def finalizer(self) -> Finalizer:
        return Finalizer(self.store, self.blobs, self.notifier)

    def accruals(self) -> AccrualService:
        return AccrualService(self.store, self.blobs, self.cache, self.finalizer())

    def config(self) -> ConfigService:
        return ConfigService(self.store, self.blobs, self.notifier)

    def balances(self) -> BalanceService:
        return BalanceService(self.store)

    def dlq(self) -> DlqService:
        return DlqService(self.store, self.blobs, self.ops_notifier, self.notifier)

    # -- what the event sources do on AWS ---------------------------------------------------
    def s3_object(self, key: str) -> S3Object:
        """The S3 notification of the object now at `key`; every event is later than the last."""
        n = next(self._seq)
        if key in self.blobs.files:
            size, etag = self.blobs.files[key].stat().st_size, f"file-{n}"
        else:
            body = self.blobs.get(key)
            size, etag = len(body), hashlib.md5(body, usedforsecurity=False).hexdigest()
        at = dt.datetime(2026, 11, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=n)
        return S3Object(BUCKET, key, size, etag, f"{n:016X}", at.strftime("%Y-%m-%dT%H:%M:%S.000Z"))

    def upload(self, key: str, body: bytes) -> UploadRecord:
        self.blobs.put(key, body, "text/csv")
        return self.ingest().handle(self.s3_object(key))

    def load(self, key: str, body: bytes) -> None:
        """A configuration upload (registry, rates or rules), loaded as the config loader does."""
        self.blobs.put(key, body, "text/csv")
        self.config().handle(key)

    def deliver(self) -> list[ChunkResult]:
        """Every queued chunk to the writer, in queue order."""
        writer = self.accruals()
        return [writer.handle(Chunk.parse(m.body)) for m in self.queue.drain()]
