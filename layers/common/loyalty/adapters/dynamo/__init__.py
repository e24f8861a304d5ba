"""Single-table DynamoDB adapters through pynamodb, one module per context (key table in
`models.py` and docs/architecture.md)."""

from __future__ import annotations

from loyalty.adapters.dynamo.closes import CloseTables
from loyalty.adapters.dynamo.points import PointsTables
from loyalty.adapters.dynamo.program import ProgramTables
from loyalty.adapters.dynamo.recruits import RecruitTables
from loyalty.adapters.dynamo.targets import TargetTables
from loyalty.adapters.dynamo.training import TrainingTables
from loyalty.adapters.dynamo.uploads import UploadTables
from loyalty.close.ports import ApprovalStore, Books, CloseStore
from loyalty.earning.ports import WriterStore
from loyalty.incentives.ports import RecruitNets
from loyalty.ingest.ports import SplitterStore
from loyalty.points.ports import PointsStore
from loyalty.program.ports import ProgramStore
from loyalty.training.ports import TrainingStore


class DynamoStore(
    ProgramTables, UploadTables, CloseTables, RecruitTables, TargetTables, TrainingTables, PointsTables
):
    """Every context's port on one DynamoDB table (what a Lambda container wires)."""


def _conforms(
    store: DynamoStore,
) -> tuple[
    CloseStore,
    ApprovalStore,
    Books,
    WriterStore,
    SplitterStore,
    ProgramStore,
    RecruitNets,
    TrainingStore,
    PointsStore,
]:
    """Checked by mypy: the table implements every context's ports."""
    return store, store, store, store, store, store, store, store, store


__all__ = ["DynamoStore"]
