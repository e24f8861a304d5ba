"""The product master wins over a sales file's self-declared category (issue 9, point 15), as a
pure rule: a chunk's rows take the master's category for the SKUs it knows, and every row whose
file category differs is reported (line, the file's category, the master's)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from loyalty.ingest.sales.block import SaleBlock
from loyalty.kernel.csvio.model import RowIssue


def with_master_categories(block: SaleBlock, master: Mapping[str, str]) -> tuple[SaleBlock, list[RowIssue]]:
    """The block with the master's categories, and one report entry per disagreement."""
    if not master:
        return block, []
    categories = list(block.category)
    report: list[RowIssue] = []
    for i, (sku, declared) in enumerate(zip(block.sku, block.category, strict=True)):
        known = master.get(sku)
        if known is not None and known != declared:
            categories[i] = known
            reason = f"the product master says {known!r} for {sku}; the master's category is used"
            report.append(RowIssue(block.lines[i], "category", declared, reason))
    if not report:
        return block, []
    return dataclasses.replace(block, category=categories), report
