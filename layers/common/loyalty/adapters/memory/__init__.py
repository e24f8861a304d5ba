"""In-memory adapters: one for every port, held to the AWS adapters by the contract tests in
`tests/contract/`. Used by the service unit tests, the benchmarks and isolated runs."""

from __future__ import annotations

from loyalty.adapters.memory.close import MemoryCloseTables, MemoryWorkflow
from loyalty.adapters.memory.ingest import MemoryQueue, MemoryUploads
from loyalty.adapters.memory.kernel import MemoryBlobs, MemoryCipher, MemoryNotifier
from loyalty.adapters.memory.points import MemoryPoints
from loyalty.adapters.memory.recruits import MemoryRecruits
from loyalty.adapters.memory.targets import MemoryTargets
from loyalty.adapters.memory.training import MemoryTraining
from loyalty.close.ports import ApprovalStore, Books, CloseStore
from loyalty.incentives.ports import RecruitNets
from loyalty.points.ports import PointsStore
from loyalty.training.ports import TrainingStore


class MemoryStore(
    MemoryCloseTables, MemoryUploads, MemoryRecruits, MemoryTargets, MemoryPoints, MemoryTraining
):
    """Every context's ports in one object (what `DynamoStore` is on DynamoDB): program, ingest,
    earning, close, points and training."""


def _conforms(
    store: MemoryStore,
) -> tuple[CloseStore, ApprovalStore, Books, RecruitNets, PointsStore, TrainingStore]:
    """Checked by mypy: the in-memory store implements every port of the close (and the overrides')."""
    return store, store, store, store, store, store


__all__ = ["MemoryBlobs", "MemoryCipher", "MemoryNotifier", "MemoryQueue", "MemoryStore", "MemoryWorkflow"]
