"""The services of one Lambda container wired on in-memory adapters (what `loyalty.wiring.Container`
is on AWS): service unit tests, the benchmarks and isolated runs build them here, in milliseconds."""

from __future__ import annotations

import datetime as dt
import itertools

from loyalty.adapters.memory import MemoryStore, MemoryWorkflow
from loyalty.adapters.memory.console import MemoryPresigner
from loyalty.adapters.memory.facts import MemoryFacts
from loyalty.adapters.memory.ingest import MemoryQueue
from loyalty.adapters.memory.kernel import MemoryCipher, MemoryNotifier
from loyalty.adapters.memory.portal import MemoryPortalLinks, MemoryPortalRecords
from loyalty.assembly import Services
from loyalty.ingest.chunks import Chunk
from loyalty.ingest.records import ChunkResult, UploadRecord
from loyalty.ingest.splitter import S3Object
from loyalty.settings import Settings

BUCKET = "memory-bucket"


class MemoryContainer(Services):
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
        cache_seconds: int = 0,
        # the program's own account that bank files pay from (a test account: the bank-file step
        # refuses to write a pain.001 without a valid one)
        debtor_iban: str = "DE02120300000000202051",
        debtor_bic: str = "BYLADEM1001",
    ) -> None:
        settings = Settings.model_validate(
            {
                "TABLE_NAME": "memory",
                "UPLOAD_BUCKET": BUCKET,
                "CHUNK_ROWS": chunk_rows,
                "CHUNK_GROUPS": chunk_groups,
                "MAX_UPLOAD_BYTES": max_upload_bytes,
                "PROGRAM_CURRENCY": currency,
                "CONFIG_CACHE_SECONDS": cache_seconds,
                "DEBTOR_IBAN": debtor_iban,
                "DEBTOR_BIC": debtor_bic,
            }
        )
        self.day = today
        super().__init__(
            settings,
            MemoryStore(cipher=MemoryCipher()),
            MemoryFacts(),
            MemoryNotifier(),
            MemoryNotifier(),
            MemoryNotifier(),
            today=lambda: self.day,
        )
        self.program_topic = MemoryNotifier()
        self._queue = MemoryQueue()
        self._workflow = MemoryWorkflow()
        self.simulations = MemoryWorkflow()  # the simulation jobs started (by name)
        self._seq = itertools.count(1)
        self._presigner = MemoryPresigner(BUCKET)

    # the narrower types of the in-memory adapters (tests read what they hold)
    store: MemoryStore
    blobs: MemoryFacts  # the bucket: blobs and the analytics objects alike
    notifier: MemoryNotifier
    ops_notifier: MemoryNotifier
    finance_notifier: MemoryNotifier

    @property
    def queue(self) -> MemoryQueue:
        return self._queue

    def workflow(self) -> MemoryWorkflow:
        return self._workflow

    def simulation_workflow(self) -> MemoryWorkflow:
        return self.simulations

    def presigner(self) -> MemoryPresigner:
        return self._presigner

    # -- what the event sources do on AWS ---------------------------------------------------
    def s3_object(self, key: str) -> S3Object:
        """The S3 notification of the object now at `key`; every event is later than the last."""
        n = next(self._seq)
        version = ""
        if key in self.blobs.files:
            size, etag = self.blobs.files[key].stat().st_size, f"file-{n}"
        else:
            size = len(self.blobs.get(key))
            version, etag = self.blobs.latest_version(key)
        at = dt.datetime(2026, 11, 1, tzinfo=dt.UTC) + dt.timedelta(seconds=n)
        return S3Object(BUCKET, key, size, etag, f"{n:016X}", at.strftime("%Y-%m-%dT%H:%M:%S.000Z"), version)

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

    # -- partner portal (issue 12): one set of records and links per container --------------------
    _portal: tuple[MemoryPortalRecords, MemoryPortalLinks] | None = None

    def _portal_adapters(self) -> tuple[MemoryPortalRecords, MemoryPortalLinks]:
        if self._portal is None:
            store = self.store
            self._portal = (
                MemoryPortalRecords(lambda p: store.sales.get(p, {}), store.partner_redemptions),
                MemoryPortalLinks(self.blobs, BUCKET),
            )
        return self._portal

    # -- program analytics (issue 13) ------------------------------------------------------
    def facts_files(self) -> MemoryFacts:
        return self.blobs

    def program_notifier(self) -> MemoryNotifier:
        return self.program_topic

    def portal_records(self) -> MemoryPortalRecords:
        return self._portal_adapters()[0]

    def portal_links(self) -> MemoryPortalLinks:
        return self._portal_adapters()[1]
