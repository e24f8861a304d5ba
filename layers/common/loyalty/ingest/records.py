"""What the ingest context stores about an upload and its chunks."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class UploadRecord:
    upload_id: str
    key: str
    uploader: str
    version: str
    state: str = "new"  # new -> split -> done
    rows: int = 0
    accepted: int = 0  # accepted by the splitter (sent in chunks)
    rejected: int = 0  # rejected by the splitter
    blank_lines: int = 0
    chunks_total: int = -1
    encoding: str = ""
    delimiter: str = ""
    ignored_columns: list[str] = field(default_factory=list)
    file_error: str = ""
    file_error_code: str = ""
    created_at: str = ""
    notified: bool = False
    principal: str = ""  # who uploaded it (the S3 event's principal id)
    chunks_done: int = 0  # maintained by the store: a counter, counted once per chunk


@dataclass
class ChunkResult:
    chunk_id: str
    rows: int
    accepted: int
    rejected: int
    new: int
    replaced: int
    unchanged: int
    superseded: int
    net_eur: Decimal
    commission: Decimal
    issues_key: str = ""
    partners: dict[str, list[str]] = field(default_factory=dict)  # partner -> [net_eur, commission, rows]
    late: dict[str, int] = field(default_factory=dict)  # closed month -> lines accrued to a later period
    held: int = 0  # lines held for review (plausibility caps): neither accepted nor rejected
    held_key: str = ""
    categories: int = 0  # rows whose category the product master changed
    categories_key: str = ""
