"""Ports of the earning context: accrual lines, month totals and frozen periods."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from loyalty.earning.records import MonthDelta, MonthTotals, SaleRecord, StoredSale
from loyalty.ingest.ports import UploadStore
from loyalty.ingest.records import UploadRecord
from loyalty.program.ports import FxSource, PartnerLookup, ProductLookup, RuleSource, TierLookup


class SalesStore(Protocol):
    def get_sales(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], StoredSale]: ...
    def put_sales(self, records: Sequence[SaleRecord]) -> None: ...
    def partner_sales(self, partner_id: str, period: str | None = None) -> Iterator[SaleRecord]: ...
    def apply_month_delta(self, partner_id: str, month: str, chunk_id: str, delta: MonthDelta) -> bool:
        """Add a chunk's delta to the month totals unless that chunk was already applied."""
        ...

    def month_totals(self, partner_id: str) -> list[MonthTotals]: ...
    def frozen_periods(self) -> set[str]: ...


class ProgramView(PartnerLookup, TierLookup, RuleSource, FxSource, Protocol):
    """What the commission calculator reads of the program."""


class WriterStore(SalesStore, UploadStore, ProgramView, ProductLookup, Protocol):
    """What the accrual writer reads and writes."""


class BalanceStore(TierLookup, RuleSource, Protocol):
    def month_totals(self, partner_id: str) -> list[MonthTotals]: ...


class UploadFinalizer(Protocol):
    """Called by the writer when the last chunk of an upload is written (ingest's finaliser)."""

    def finalize(self, rec: UploadRecord) -> object: ...
