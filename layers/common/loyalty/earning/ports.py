"""Ports of the earning context: accrual lines, month totals and frozen periods."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

from loyalty.earning.records import MonthDelta, MonthTotals, SaleRecord, SaleRef, StoredSale
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


class SaleHistory(Protocol):
    """A partner's earlier sales by SKU and the returns that reverse a sale (bounded reads)."""

    def earlier_sales(self, partner_id: str, sku: str, until: str, limit: int) -> list[SaleRef]:
        """The partner's sales (quantity > 0) of `sku` sold at or before `until`, latest first
        (by sold_at, then sale id), at most `limit`."""
        ...

    def returned_units(self, partner_id: str, sale_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        """Per sale id: the return lines that reverse it (return sale id -> units returned)."""
        ...


class FinalRateStore(Protocol):
    def finalize_sales(self, changes: Sequence[tuple[SaleRecord, SaleRecord, str]]) -> int:
        """For each (line as read, final line, holding day): give the line its final rate and
        commission unless it changed since it was read (another version or commission), and move
        its month total on the holding day (ISO) by the difference, both at once. A changed line
        is skipped (nothing written for it). Returns how many lines were made final."""
        ...


class ProgramView(PartnerLookup, TierLookup, RuleSource, FxSource, Protocol):
    """What the commission calculator reads of the program."""


class WriterStore(SalesStore, SaleHistory, UploadStore, ProgramView, ProductLookup, Protocol):
    """What the accrual writer reads and writes."""


class BalanceStore(TierLookup, RuleSource, PartnerLookup, Protocol):
    def month_totals(self, partner_id: str) -> list[MonthTotals]: ...


class UploadFinalizer(Protocol):
    """Called by the writer when the last chunk of an upload is written (ingest's finaliser)."""

    def finalize(self, rec: UploadRecord) -> object: ...
