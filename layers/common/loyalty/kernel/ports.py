"""Ports every context may use: blobs (S3), notifications (SNS), field encryption (KMS)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any, Protocol


class MissingBlob(KeyError):
    """Reading a key that was never written (S3's NoSuchKey), raised by every BlobStore."""


class StaleBlob(LookupError):
    """The version an event names is no longer stored (an unversioned bucket overwritten, or the
    version deleted), raised by `open_version` of every BlobStore."""


class BlobStore(Protocol):
    def open(self, key: str) -> IO[bytes]: ...
    def open_version(self, key: str, version_id: str, etag: str) -> IO[bytes]:
        """Exactly the version an S3 event named: by `version_id` (checked against `etag` when
        given), else the version whose ETag is `etag` (same ETag, same bytes); `StaleBlob` if
        that version is gone. Never the object's newer content."""
        ...

    def put(self, key: str, body: bytes, content_type: str) -> None: ...
    def get(self, key: str) -> bytes: ...


class Cipher(Protocol):
    """Field encryption for secrets at rest (bank details); `context` binds a ciphertext to its owner."""

    def encrypt(self, plain: str, context: str) -> str: ...
    def decrypt(self, token: str, context: str) -> str: ...


class Notifier(Protocol):
    def publish(self, subject: str, message: Mapping[str, Any], attributes: Mapping[str, str]) -> None: ...
