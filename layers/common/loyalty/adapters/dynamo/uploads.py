"""Ingest items: uploads and their chunk results."""

from __future__ import annotations

import json
from dataclasses import asdict
from decimal import Decimal

from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from loyalty.adapters.dynamo.models import Tables, failed_condition
from loyalty.ingest.records import ChunkResult, UploadRecord


class UploadTables(Tables):
    # -- uploads ----------------------------------------------------------------------------
    def get_upload(self, upload_id: str) -> UploadRecord | None:
        try:
            it = self.m.Doc.get(f"UPLOAD#{upload_id}", "META", consistent_read=True)
        except self.m.Doc.DoesNotExist:
            return None
        if it.data is None:  # only chunk results so far: the split has not registered the upload
            return None
        rec = UploadRecord(**json.loads(it.data))
        rec.state, rec.notified = it.state, bool(it.notified)
        rec.chunks_done = int(it.n or 0)
        return rec

    @staticmethod
    def _upload_data(rec: UploadRecord) -> str:
        """The upload as stored in `data`; notified and the finished chunks live in their own
        attributes, changed only by conditional or set updates."""
        data = asdict(rec)
        for derived in ("notified", "chunks_done"):
            data.pop(derived)
        return json.dumps(data)

    def create_upload(self, rec: UploadRecord) -> UploadRecord:
        it = self.m.Doc(f"UPLOAD#{rec.upload_id}", "META", data=self._upload_data(rec), state=rec.state)
        try:
            it.save(self.m.Doc.pk.does_not_exist())
        except PutError:
            found = self.get_upload(rec.upload_id)
            if found is None:
                raise
            return found
        self.m.Doc(f"OBJECT#{rec.key}", "LATEST", data=rec.upload_id).save()
        return rec

    def latest_upload_for_key(self, key: str) -> str | None:
        try:
            return str(self.m.Doc.get(f"OBJECT#{key}", "LATEST").data)
        except self.m.Doc.DoesNotExist:
            return None

    def save_upload(self, rec: UploadRecord) -> None:
        self.m.Doc(f"UPLOAD#{rec.upload_id}", "META").update(
            actions=[self.m.Doc.data.set(self._upload_data(rec)), self.m.Doc.state.set(rec.state)]
        )

    def mark_notified(self, upload_id: str) -> bool:
        try:
            self.m.Doc(f"UPLOAD#{upload_id}", "META").update(
                actions=[self.m.Doc.notified.set(True)],
                condition=self.m.Doc.pk.exists()
                & (self.m.Doc.notified.does_not_exist() | (self.m.Doc.notified == False)),  # noqa: E712
            )
            return True
        except UpdateError:
            return False

    def put_chunk_result(self, upload_id: str, result: ChunkResult) -> bool:
        """Store the chunk's result and count it on the upload, in one transaction: the result
        item is created (condition: not there yet) and the upload's counter `n` goes up by one.
        A redelivered chunk finds its result there: the transaction is cancelled, nothing is
        counted twice, and the new result replaces the stored one (a chunk the DLQ reporter
        rejected and a redrive then wrote). The upload item holds a number, not the set of
        chunk ids: its size does not grow with the chunk count (issue 9, point 19)."""
        D = self.m.Doc
        data = asdict(result)
        data["net_eur"] = str(result.net_eur)
        data["commission"] = str(result.commission)
        item = D(f"UPLOAD#{upload_id}", f"CHUNK#{result.chunk_id}", data=json.dumps(data))
        try:
            with TransactWrite(connection=self._conn) as tx:
                tx.save(item, condition=D.pk.does_not_exist())
                tx.update(D(f"UPLOAD#{upload_id}", "META"), actions=[D.n.add(1)])
            return True
        except TransactWriteError as exc:
            if not failed_condition(exc):
                raise
        item.save()  # counted before: replace the stored result
        return False

    def chunk_results(self, upload_id: str) -> list[ChunkResult]:
        out = []
        for it in self.m.Doc.query(
            f"UPLOAD#{upload_id}", self.m.Doc.sk.startswith("CHUNK#"), consistent_read=True
        ):
            d = json.loads(it.data)
            d["net_eur"] = Decimal(d["net_eur"])
            d["commission"] = Decimal(d["commission"])
            out.append(ChunkResult(**d))
        return out
