"""In-memory adapters of the kernel's ports (blobs, notifications, field encryption)."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from loyalty.kernel.ports import MissingBlob, StaleBlob


def etag_of(body: bytes) -> str:
    """S3's ETag of a single-part upload: the MD5 of the bytes."""
    return hashlib.md5(body, usedforsecurity=False).hexdigest()


class MemoryBlobs:
    """A bucket as a dict of key -> (body, content type); `link` serves a key from a local file
    without reading it into memory (the memory bench streams a 2M-row file that way)."""

    def __init__(self) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {}
        self.files: dict[str, Path] = {}
        self.versions: dict[str, list[tuple[str, bytes]]] = {}  # key -> [(version id, body)], oldest first
        self._version_seq = 0

    def latest_version(self, key: str) -> tuple[str, str]:
        """(version id, ETag) of the object now at `key`, as its S3 event names them."""
        vid, body = self.versions[key][-1]
        return vid, etag_of(body)

    def open_version(self, key: str, version_id: str, etag: str) -> IO[bytes]:
        if key in self.files:  # a linked local file (the memory bench) has one version
            return self.files[key].open("rb")
        for vid, body in reversed(self.versions.get(key, [])):
            if (vid == version_id or not version_id) and (not etag or etag_of(body) == etag):
                return io.BytesIO(body)
        raise StaleBlob(f"{key} version {version_id or '?'} (ETag {etag or '?'}) is no longer stored")

    def open(self, key: str) -> IO[bytes]:
        if key in self.files:
            return self.files[key].open("rb")
        return io.BytesIO(self.get(key))

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self.files.pop(key, None)
        self.objects[key] = (bytes(body), content_type)
        self._version_seq += 1
        self.versions.setdefault(key, []).append((f"v{self._version_seq:08d}", bytes(body)))

    def put_new(self, key: str, body: bytes, content_type: str) -> bool:
        """Write only if the key is free (S3 If-None-Match: *); False if something is there."""
        if key in self.objects or key in self.files:
            return False
        self.put(key, body, content_type)
        return True

    def link(self, key: str, path: Path) -> None:
        self.objects.pop(key, None)
        self.files[key] = path

    def get(self, key: str) -> bytes:
        if key in self.files:
            return self.files[key].read_bytes()
        try:
            return self.objects[key][0]
        except KeyError:
            raise MissingBlob(key) from None

    def keys(self, prefix: str = "") -> list[str]:
        return sorted(k for k in {*self.objects, *self.files} if k.startswith(prefix))


@dataclass(frozen=True)
class Published:
    subject: str
    message: Mapping[str, Any]
    attributes: Mapping[str, str]


@dataclass
class MemoryNotifier:
    """A topic that keeps what was published as a subscriber receives it from SNS: the message
    through JSON (Decimals and dates as strings; later edits of a dict do not leak in), the
    subject cut to SNS's 100 characters."""

    published: list[Published] = field(default_factory=list)

    def publish(self, subject: str, message: Mapping[str, Any], attributes: Mapping[str, str]) -> None:
        body = json.loads(json.dumps(message, default=str))
        self.published.append(Published(subject[:100], body, dict(attributes)))

    def of_type(self, kind: str) -> list[Published]:
        return [p for p in self.published if p.attributes.get("type") == kind]


class WrongContext(ValueError):
    """A ciphertext presented with another encryption context than it was made with (KMS refuses)."""


class MemoryCipher:
    """Field encryption bound to a context, like KMS with an encryption context: a ciphertext
    copied to another owner does not decrypt. Not secret (tests and isolated runs only)."""

    def __init__(self, key: bytes = b"local") -> None:
        self._key = key

    def _tag(self, plain: str, context: str) -> str:
        return hashlib.sha256(self._key + context.encode() + b"\x00" + plain.encode()).hexdigest()[:16]

    def encrypt(self, plain: str, context: str) -> str:
        body = base64.b64encode(plain.encode()).decode()
        return f"{self._tag(plain, context)}.{body}"

    def decrypt(self, token: str, context: str) -> str:
        tag, _, body = token.partition(".")
        plain = base64.b64decode(body).decode()
        if tag != self._tag(plain, context):
            raise WrongContext("the ciphertext was made for another context")
        return plain
