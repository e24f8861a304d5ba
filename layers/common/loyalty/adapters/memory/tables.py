"""What the in-memory adapters of every context share (like `adapters.dynamo.models.Tables`)."""

from __future__ import annotations

from loyalty.kernel.ports import Cipher


class MemoryTables:
    """Base of the in-memory store mixins: each mixin adds its own dicts in `__init__` and calls
    `super().__init__(cipher)`, so one `MemoryStore` holds every context's items."""

    def __init__(self, cipher: Cipher | None = None) -> None:
        self.cipher = cipher
