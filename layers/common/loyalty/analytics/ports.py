"""What analytics needs of storage: the facts' and reports' objects under `analytics/`."""

from __future__ import annotations

from typing import Protocol


class FactsFiles(Protocol):
    """Objects of the analytics prefix (S3 on AWS and in the local cloud; a dict in tests)."""

    def keys(self, prefix: str) -> list[str]:
        """Every key under `prefix`, sorted."""
        ...

    def get(self, key: str) -> bytes: ...

    def put(self, key: str, body: bytes, content_type: str) -> None: ...

    def delete(self, key: str) -> None:
        """Remove `key`; removing a missing key is not an error (a retry may repeat it)."""
        ...
