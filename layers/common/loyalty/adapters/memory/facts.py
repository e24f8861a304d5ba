"""The analytics objects in a dict (tests, the in-memory container)."""

from __future__ import annotations

from loyalty.kernel.ports import MissingBlob


class MemoryFacts:
    """`objects` may be a MemoryBlobs' own dict: the memory container's bucket is one bucket."""

    def __init__(self, objects: dict[str, tuple[bytes, str]] | None = None) -> None:
        self.objects: dict[str, tuple[bytes, str]] = {} if objects is None else objects

    def keys(self, prefix: str) -> list[str]:
        return sorted(k for k in self.objects if k.startswith(prefix))

    def get(self, key: str) -> bytes:
        if key not in self.objects:
            raise MissingBlob(key)
        return self.objects[key][0]

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self.objects[key] = (body, content_type)

    def delete(self, key: str) -> None:
        self.objects.pop(key, None)
