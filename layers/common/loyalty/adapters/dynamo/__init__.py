"""Single-table DynamoDB adapters through pynamodb, one module per context (key table in
`models.py` and docs/architecture.md)."""

from __future__ import annotations

from loyalty.adapters.dynamo.closes import CloseTables
from loyalty.adapters.dynamo.program import ProgramTables
from loyalty.adapters.dynamo.uploads import UploadTables


class DynamoStore(ProgramTables, UploadTables, CloseTables):
    """Every context's port on one DynamoDB table (what a Lambda container wires)."""


__all__ = ["DynamoStore"]
