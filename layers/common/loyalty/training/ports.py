"""Ports of the training context. Each has two adapters held together by
`tests/contract/test_training_store.py`: DynamoDB (`loyalty.adapters.dynamo.training`) and in
memory (`loyalty.adapters.memory.training`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from loyalty.training.records import Completion


class TrainingReader(Protocol):
    def completions(self, partner_id: str) -> list[Completion]:
        """The partner's stored completions, ordered by (person_id, course)."""
        ...

    def completions_of(self, partner_ids: Sequence[str]) -> dict[str, list[Completion]]:
        """The completions of those partners that have any (each list as `completions` orders it)."""
        ...


class TrainingWriter(Protocol):
    def put_completions(self, completions: Sequence[Completion]) -> list[str]:
        """Store each completion unless its key holds it already, in order; one outcome per
        completion: "new", "unchanged", "renewed" or "conflict: <the stored values>"
        (`loyalty.training.records.judge`). Written conditionally: a concurrent load of the same
        key makes this one re-read and judge again."""
        ...


class TrainingStore(TrainingReader, TrainingWriter, Protocol):
    """Everything of the training context (the single table)."""
