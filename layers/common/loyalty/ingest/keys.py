"""Object keys of uploads and their reports; upload ids and FIFO chunk groups."""

from __future__ import annotations

import hashlib
import posixpath
import re
import zlib
from dataclasses import dataclass

from loyalty.kernel.csvio.model import FileError
from loyalty.kernel.ids import PARTNER_ID_RE

INCOMING = "incoming/"
REPORTS = "reports/ingest/"
PARTS = "reports/ingest/.parts/"
_NAME_RE = re.compile(r"^[^/\x00-\x1f\x7f]{1,200}\.csv$", re.IGNORECASE)


@dataclass(frozen=True)
class UploadKey:
    key: str
    uploader: str
    name: str


def parse_upload_key(key: str) -> UploadKey:
    """`incoming/<partner_id>/<name>.csv`, nothing else: no nesting, no dot segments."""
    if not key.startswith(INCOMING):
        raise FileError("bad_key", f"uploads go under {INCOMING}<partner_id>/<name>.csv")
    parts = key[len(INCOMING) :].split("/")
    if len(parts) != 2 or any(p in ("", ".", "..") for p in parts) or posixpath.normpath(key) != key:
        raise FileError(
            "bad_key", "the object key must be incoming/<partner_id>/<name>.csv (no sub-folders, '.' or '..')"
        )
    uploader, name = parts
    if not PARTNER_ID_RE.match(uploader):
        raise FileError("bad_key", f"{uploader!r} is not a partner id")
    if not _NAME_RE.match(name):
        raise FileError("bad_key", "the file name must end in .csv and have no control characters")
    return UploadKey(key, uploader, name)


def report_base(key: str) -> str:
    """Where an upload's reports go; keys that fail validation get a hashed, safe name."""
    try:
        parse_upload_key(key)
        return REPORTS + key
    except FileError:
        return REPORTS + "_rejected/" + hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:24]


def upload_id_for(bucket: str, key: str, etag: str, sequencer: str) -> str:
    return hashlib.sha256(f"{bucket}/{key}#{etag}#{sequencer}".encode()).hexdigest()[:24]


def chunk_group(partner_id: str, groups: int) -> int:
    """All rows of one partner share a FIFO message group: a partner's chunks are written one
    at a time and in upload order, so corrections, returns and their originals never race;
    different partners are written in parallel."""
    return zlib.crc32(partner_id.encode()) % groups
