"""The chunk message from the splitter to the accrual writer."""

from __future__ import annotations

import json
from dataclasses import dataclass

from loyalty.ingest.sales.block import SaleBlock


@dataclass
class Chunk:
    upload_id: str
    chunk_id: str
    key: str
    uploader: str
    version: str
    block: SaleBlock

    @classmethod
    def parse(cls, body: str) -> Chunk:
        d = json.loads(body)
        return cls(
            str(d["upload_id"]),
            str(d["chunk_id"]),
            str(d["key"]),
            str(d["uploader"]),
            str(d["version"]),
            SaleBlock.from_wire(d["rows"]),
        )
