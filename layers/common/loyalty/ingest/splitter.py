"""S3 ObjectCreated -> validate a sales file and split it into FIFO chunk messages."""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO

from loyalty.ingest.chunking import GroupBuffers, Outgoing, chunk_message, route
from loyalty.ingest.finalizer import Finalizer
from loyalty.ingest.keys import PARTS, parse_upload_key, upload_id_for
from loyalty.ingest.ports import ChunkQueue, QueueMessage, SplitterStore
from loyalty.ingest.principals import folder_refusal
from loyalty.ingest.records import UploadRecord
from loyalty.ingest.sales.contract import SALES_SPEC
from loyalty.ingest.sales.validator import SalesValidator
from loyalty.kernel.clock import now_iso
from loyalty.kernel.csvio.model import FileError
from loyalty.kernel.csvio.stream import CsvStream
from loyalty.kernel.ports import BlobStore, Notifier, StaleBlob
from loyalty.kernel.reports import ErrorsWriter
from loyalty.program.ports import PartnerLookup
from loyalty.program.registry import Partner


@dataclass
class S3Object:
    bucket: str
    key: str
    size: int
    etag: str
    sequencer: str
    event_time: str  # ISO 8601 from the S3 event
    version_id: str = ""  # the object version the event is about (a versioned bucket)
    principal: str = ""  # the S3 event's userIdentity.principalId: who uploaded it


class IngestService:
    """S3 ObjectCreated -> validate and split a sales file into FIFO chunk messages."""

    def __init__(
        self,
        store: SplitterStore,
        blobs: BlobStore,
        queue: ChunkQueue,
        notifier: Notifier,
        *,
        max_upload_bytes: int,
        chunk_rows: int,
        chunk_groups: int,
        today: Callable[[], dt.date] = lambda: dt.datetime.now(dt.UTC).date(),
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.queue = queue
        self.notifier = notifier
        self.max_upload_bytes = max_upload_bytes
        self.chunk_rows = chunk_rows
        self.chunk_groups = chunk_groups
        self.today = today

    def handle(self, obj: S3Object) -> UploadRecord:
        upload_id = upload_id_for(obj.bucket, obj.key, obj.etag, obj.sequencer)
        existing = self.store.get_upload(upload_id)
        if existing is not None and existing.state in ("split", "done"):
            return existing  # a duplicate S3 event: already split, the writers do the rest
        version = f"{obj.event_time}~{obj.sequencer or '0'}~{upload_id[:8]}"
        uploader = ""
        with contextlib.suppress(FileError):
            uploader = parse_upload_key(obj.key).uploader
        rec = existing or self.store.create_upload(
            UploadRecord(
                upload_id=upload_id,
                key=obj.key,
                uploader=uploader,
                version=version,
                created_at=now_iso(),
                principal=obj.principal,
            )
        )
        finalizer = Finalizer(self.store, self.blobs, self.notifier)
        try:
            self._split(obj, rec)
        except FileError as exc:
            rec.file_error, rec.file_error_code = exc.message, exc.code
            rec.chunks_total = 0
            rec.state = "split"
            self.store.save_upload(rec)
            finalizer.finalize(rec)
            return rec
        self.store.save_upload(rec)
        fresh = self.store.get_upload(rec.upload_id)
        if fresh is not None and fresh.chunks_done >= fresh.chunks_total and not fresh.notified:
            finalizer.finalize(fresh)  # every chunk was written before the split finished
        return rec

    def _split(self, obj: S3Object, rec: UploadRecord) -> None:
        key = parse_upload_key(obj.key)
        refusal = folder_refusal(obj.principal, key.uploader)
        if refusal:
            raise FileError("wrong_uploader", refusal)
        if obj.size > self.max_upload_bytes:
            raise FileError(
                "too_large",
                f"the file is {obj.size} bytes; the limit is {self.max_upload_bytes} bytes - split it into smaller files",
            )
        uploader = self.store.get_partner(key.uploader)
        if uploader is None:
            raise FileError("unknown_uploader", f"{key.uploader!r} is not a registered partner")
        stream = CsvStream(self._open(obj), SALES_SPEC)
        validator = SalesValidator(UploadRights(uploader, self.store), today=self.today())
        buffers = GroupBuffers(self.chunk_rows, self.chunk_rows * max(16, self.chunk_groups))
        sender = ChunkSender(self.queue, rec, key.uploader)
        with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as errfile:
            errors = ErrorsWriter(errfile)
            for raw in stream.blocks():
                good, issues = validator.validate_block(raw)
                errors.write(issues)
                if len(good):
                    sender.send(buffers.add(route(good, self.chunk_groups)))
            sender.send(buffers.drain())
            sender.flush()
            if stream.rows == 0:
                raise FileError("no_rows", "the file has a header but no data rows")
            _record_split(rec, stream, sender, errors.count)
            if errors.count:
                errfile.flush()
                errfile.seek(0)
                self.blobs.put(f"{PARTS}{rec.upload_id}/split.csv", errfile.read().encode(), "text/csv")

    def _open(self, obj: S3Object) -> IO[bytes]:
        """Exactly the version of the event (an overwrite while we work is its own upload)."""
        try:
            return self.blobs.open_version(obj.key, obj.version_id, obj.etag)
        except StaleBlob:
            raise FileError(
                "stale_version",
                f"this version of {obj.key} (ETag {obj.etag}) was replaced or deleted before it could be"
                " read and is no longer stored; the version that replaced it is processed as its own upload",
            ) from None


class UploadRights:
    """Whether the uploader may write a row's partner: itself, or a registered partner it is a
    distributor for (a registry lookup per partner, once)."""

    def __init__(self, uploader: Partner, registry: PartnerLookup) -> None:
        self.uploader = uploader
        self.registry = registry
        self.allowed = set(uploader.distributor_for)
        self.known: dict[str, bool] = {}

    def __call__(self, pid: str) -> str | None:
        if pid == self.uploader.partner_id:
            return None
        if pid not in self.allowed:
            return (
                f"{self.uploader.partner_id} may not create sales for partner {pid!r}"
                " (not itself, nor a partner it is a registered distributor for)"
            )
        if pid not in self.known:
            self.known[pid] = self.registry.get_partner(pid) is not None
        return None if self.known[pid] else f"partner {pid!r} is not in the registry"


class ChunkSender:
    """Numbers the chunks of an upload and sends them to the queue in batches of 10."""

    def __init__(self, queue: ChunkQueue, rec: UploadRecord, uploader: str) -> None:
        self.queue = queue
        self.rec = rec
        self.uploader = uploader
        self.seq = 0
        self.rows = 0
        self.outbox: list[QueueMessage] = []

    def send(self, chunks: list[Outgoing]) -> None:
        for c in chunks:
            self.seq += 1
            self.rows += len(c.block)
            r = self.rec
            self.outbox.append(
                chunk_message(r.upload_id, r.key, self.uploader, r.version, c.group, self.seq, c.block)
            )
            if len(self.outbox) >= 10:
                self.flush()

    def flush(self) -> None:
        if self.outbox:
            self.queue.send(self.outbox)
            self.outbox = []


def _record_split(rec: UploadRecord, stream: CsvStream, sender: ChunkSender, rejected: int) -> None:
    rec.rows = stream.rows
    rec.accepted = sender.rows
    rec.rejected = rejected
    rec.blank_lines = stream.blank_lines
    rec.encoding = stream.encoding
    rec.delimiter = stream.delimiter
    rec.ignored_columns = stream.ignored_columns
    rec.chunks_total = sender.seq
    rec.state = "split"
