"""In-memory adapter of the training ports (same results as `adapters.dynamo.training`, held by
tests/contract/test_training_store.py): one completion per (partner, person, course), judged by
`loyalty.training.records.judge` under a lock."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from loyalty.adapters.memory.tables import MemoryTables
from loyalty.kernel.ports import Cipher
from loyalty.training.records import NEW, RENEWED, Completion, judge


class MemoryTraining(MemoryTables):
    # on the class, not the instance: the store's state stays deep-copyable (the simulation tests
    # snapshot `vars(store)`); loads are rare, one lock for every in-memory store is enough
    _training_lock = threading.Lock()

    def __init__(self, cipher: Cipher | None = None) -> None:
        super().__init__(cipher)
        self.completion_items: dict[tuple[str, str, str], Completion] = {}

    def completions(self, partner_id: str) -> list[Completion]:
        got = [c for (p, _, _), c in self.completion_items.items() if p == partner_id]
        return sorted(got, key=lambda c: (c.person_id, c.course))

    def completions_of(self, partner_ids: Sequence[str]) -> dict[str, list[Completion]]:
        out = {p: self.completions(p) for p in dict.fromkeys(partner_ids)}
        return {p: cs for p, cs in out.items() if cs}

    def put_completions(self, completions: Sequence[Completion]) -> list[str]:
        out = []
        with self._training_lock:
            for c in completions:
                outcome = judge(self.completion_items.get(c.key), c)
                if outcome in (NEW, RENEWED):
                    self.completion_items[c.key] = c
                out.append(outcome)
        return out
