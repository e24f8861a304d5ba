"""Ports of the ingest context: the chunk queue and the upload records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from loyalty.ingest.records import ChunkResult, UploadRecord
from loyalty.program.ports import PartnerLookup


@dataclass(frozen=True)
class QueueMessage:
    body: str
    group: str
    dedup_id: str


class ChunkQueue(Protocol):
    def send(self, messages: Sequence[QueueMessage]) -> None: ...


class UploadStore(Protocol):
    def get_upload(self, upload_id: str) -> UploadRecord | None: ...
    def create_upload(self, rec: UploadRecord) -> UploadRecord: ...
    def save_upload(self, rec: UploadRecord) -> None: ...
    def mark_notified(self, upload_id: str) -> bool: ...
    def put_chunk_result(self, upload_id: str, result: ChunkResult) -> bool:
        """Store a chunk's result (a later result of the same chunk replaces it) and count the
        chunk once: True when this call counted it, False when it was already counted."""
        ...

    def chunk_results(self, upload_id: str) -> list[ChunkResult]: ...


class SplitterStore(UploadStore, PartnerLookup, Protocol):
    """The splitter records uploads and checks the uploader's rights in the registry."""
