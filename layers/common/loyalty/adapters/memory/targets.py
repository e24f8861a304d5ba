"""In-memory adapter of the target-set ports (same results as `adapters.dynamo.targets`, held by
tests/contract/test_target_store.py): versions are immutable, listed in (effective_from, version)
order."""

from __future__ import annotations

import dataclasses
import json

from loyalty.adapters.memory.tables import MemoryTables
from loyalty.kernel.ports import Cipher
from loyalty.program.targets import TargetSet, check_new


class MemoryTargets(MemoryTables):
    def __init__(self, cipher: Cipher | None = None) -> None:
        super().__init__(cipher)
        self.target_books: dict[str, str] = {}  # "<effective_from>#<version>" -> JSON

    def target_sets(self) -> list[TargetSet]:
        return [TargetSet.from_json(json.loads(self.target_books[k])) for k in sorted(self.target_books)]

    def put_target_set(self, ts: TargetSet, source: str) -> bool:
        if not check_new(ts, self.target_sets()):
            return False
        stored = dataclasses.replace(ts, source=source)
        self.target_books[ts.key] = json.dumps(stored.to_json())
        return True
