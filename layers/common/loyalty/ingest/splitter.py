"""S3 ObjectCreated -> validate a sales file and split it into FIFO chunk messages."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import tempfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from loyalty.ingest.finalizer import Finalizer
from loyalty.ingest.keys import PARTS, chunk_group, parse_upload_key, upload_id_for
from loyalty.ingest.ports import ChunkQueue, QueueMessage, SplitterStore
from loyalty.ingest.records import UploadRecord
from loyalty.ingest.sales.block import SaleBlock, concat
from loyalty.ingest.sales.contract import SALES_SPEC
from loyalty.ingest.sales.validator import SalesValidator
from loyalty.kernel.clock import now_iso
from loyalty.kernel.csvio.model import FileError
from loyalty.kernel.csvio.stream import CsvStream
from loyalty.kernel.ports import BlobStore, Notifier
from loyalty.kernel.reports import ErrorsWriter


@dataclass
class S3Object:
    bucket: str
    key: str
    size: int
    etag: str
    sequencer: str
    event_time: str  # ISO 8601 from the S3 event


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
                upload_id=upload_id, key=obj.key, uploader=uploader, version=version, created_at=now_iso()
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
        if obj.size > self.max_upload_bytes:
            raise FileError(
                "too_large",
                f"the file is {obj.size} bytes; the limit is {self.max_upload_bytes} bytes - split it into smaller files",
            )
        uploader = self.store.get_partner(key.uploader)
        if uploader is None:
            raise FileError("unknown_uploader", f"{key.uploader!r} is not a registered partner")
        allowed = set(uploader.distributor_for)
        known: dict[str, bool] = {}

        def may_write(pid: str) -> str | None:
            if pid == uploader.partner_id:
                return None
            if pid not in allowed:
                return (
                    f"{uploader.partner_id} may not create sales for partner {pid!r}"
                    " (not itself, nor a partner it is a registered distributor for)"
                )
            if pid not in known:
                known[pid] = self.store.get_partner(pid) is not None
            return None if known[pid] else f"partner {pid!r} is not in the registry"

        body = self.blobs.open(obj.key)
        stream = CsvStream(body, SALES_SPEC)
        validator = SalesValidator(may_write, today=self.today())
        groups: dict[int, list[SaleBlock]] = defaultdict(list)
        fill: dict[int, int] = defaultdict(int)
        buffered = 0
        seq = 0
        sent_rows = 0
        outbox: list[QueueMessage] = []
        with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as errfile:
            errors = ErrorsWriter(errfile)

            def emit(g: int, block: SaleBlock) -> None:
                nonlocal seq, sent_rows
                seq += 1
                sent_rows += len(block)
                msg = {
                    "upload_id": rec.upload_id,
                    "chunk_id": f"{g:04d}-{seq:06d}",
                    "key": obj.key,
                    "uploader": key.uploader,
                    "version": rec.version,
                    "rows": block.to_wire(),
                }
                outbox.append(
                    QueueMessage(
                        body=json.dumps(msg, separators=(",", ":")),
                        group=f"g{g:04d}",
                        dedup_id=f"{rec.upload_id}-{g:04d}-{seq:06d}",
                    )
                )
                if len(outbox) >= 10:
                    self.queue.send(outbox)
                    outbox.clear()

            def flush(g: int, everything: bool) -> None:
                """Send the group's buffered rows in chunks of `chunk_rows` (and the rest if asked)."""
                nonlocal buffered
                block = concat(groups.pop(g))
                n = len(block)
                size = self.chunk_rows
                full = n - n % size if not everything else n
                for start in range(0, full, size):
                    emit(g, block.slice(start, min(start + size, full)))
                buffered -= full
                if full < n:
                    groups[g] = [block.slice(full, n)]
                    fill[g] = n - full
                else:
                    fill.pop(g, None)

            for raw in stream.blocks():
                good, issues = validator.validate_block(raw)
                errors.write(issues)
                if not len(good):
                    continue
                gid_of = {p: chunk_group(p, self.chunk_groups) for p in set(good.partner_id)}
                gids = list(map(gid_of.__getitem__, good.partner_id))
                order: dict[int, list[int]] = defaultdict(list)
                for i, g in enumerate(gids):
                    order[g].append(i)
                for g, idx in order.items():
                    part = SaleBlock(*([getattr(good, f)[i] for i in idx] for f in SaleBlock.__slots__))  # type: ignore[attr-defined]
                    groups[g].append(part)
                    fill[g] += len(idx)
                    buffered += len(idx)
                    if fill[g] >= self.chunk_rows:
                        flush(g, everything=False)
                if buffered >= self.chunk_rows * max(
                    16, self.chunk_groups
                ):  # bound memory: flush the fullest
                    for g in sorted(fill, key=fill.__getitem__, reverse=True)[:8]:
                        flush(g, everything=True)
            for g in sorted(groups):
                flush(g, everything=True)
            if outbox:
                self.queue.send(outbox)
            if stream.rows == 0:
                raise FileError("no_rows", "the file has a header but no data rows")
            rec.rows = stream.rows
            rec.accepted = sent_rows
            rec.rejected = errors.count
            rec.blank_lines = stream.blank_lines
            rec.encoding = stream.encoding
            rec.delimiter = stream.delimiter
            rec.ignored_columns = stream.ignored_columns
            rec.chunks_total = seq
            rec.state = "split"
            if errors.count:
                errfile.flush()
                errfile.seek(0)
                self.blobs.put(f"{PARTS}{rec.upload_id}/split.csv", errfile.read().encode(), "text/csv")
