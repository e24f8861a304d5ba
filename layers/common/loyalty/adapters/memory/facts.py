"""The analytics objects in memory: the in-memory bucket, which also deletes (the memory
container's bucket is one of these, so the console sees the reports the step writes)."""

from __future__ import annotations

from loyalty.adapters.memory.kernel import MemoryBlobs


class MemoryFacts(MemoryBlobs):
    def delete(self, key: str) -> None:
        self.objects.pop(key, None)
        self.files.pop(key, None)
