"""In-memory adapters: one for every port, held to the AWS adapters by the contract tests in
`tests/contract/`. Used by the service unit tests, the benchmarks and isolated runs."""

from __future__ import annotations

from loyalty.adapters.memory.earning import MemorySales
from loyalty.adapters.memory.ingest import MemoryQueue, MemoryUploads
from loyalty.adapters.memory.kernel import MemoryBlobs, MemoryCipher, MemoryNotifier
from loyalty.adapters.memory.program import MemoryProgram


class MemoryStore(MemoryProgram, MemoryUploads, MemorySales):
    """The program, ingest and earning ports in one object (what `DynamoStore` is on DynamoDB)."""


__all__ = ["MemoryBlobs", "MemoryCipher", "MemoryNotifier", "MemoryQueue", "MemoryStore"]
