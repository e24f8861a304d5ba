"""Ports of the close context: narrow stores (a handful of methods each) and the workflow engine.

Each port has two adapters held together by `tests/contract/test_close_store.py`: DynamoDB
(`loyalty.adapters.dynamo.closes`) and in memory (`loyalty.adapters.memory.close`). Methods that
belong to another context are reused from its ports (rules, partners, tiers)."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Protocol

from loyalty.close.header import AuditEntry, CloseMeta
from loyalty.close.ledger import Entry
from loyalty.close.review import CloseLine, NextTier
from loyalty.close.runs import CloseStatus
from loyalty.earning.ports import FinalRateStore
from loyalty.earning.records import MonthTotals, SaleRecord, StoredSale
from loyalty.program.ports import PartnerDirectory, PartnerLookup, RuleSource, TierLookup


class CloseRuns(Protocol):
    """The header of each period's close; writes are conditional (optimistic concurrency)."""

    def close_meta(self, period: str) -> CloseMeta | None: ...
    def close_token(self, period: str) -> str | None: ...
    def save_close_meta(
        self,
        meta: CloseMeta,
        expect: Collection[CloseStatus | None] | None = None,
        expect_run: str | None = None,
        token: str | None = None,
        clear_token: bool = False,
    ) -> bool:
        """Write the header unless `expect` (statuses; None = no header yet) or `expect_run`
        does not match the stored one; `token` stores a callback token, `clear_token` drops it."""
        ...

    def list_closes(self) -> list[CloseMeta]: ...


class AuditTrail(Protocol):
    def audit(self, period: str, actor: str, action: str, detail: Mapping[str, Any]) -> None: ...
    def audit_log(self, period: str) -> list[AuditEntry]: ...


class ReviewFacts(Protocol):
    def close_facts(
        self, partner_id: str, before: str, history: int = 7
    ) -> tuple[list[MonthTotals], list[CloseLine]]:
        """A partner's month totals and its committed close lines before `before`, newest first."""
        ...


class CloseBook(Protocol):
    """Committed close lines: each partner's close is committed once (line, payout, ledger
    entries and next tier together)."""

    def close_lines(self, period: str, partner_ids: Sequence[str]) -> dict[str, CloseLine]: ...
    def commit_close(self, line: CloseLine, entries: Sequence[Entry], tier: NextTier | None) -> bool: ...


class Books(Protocol):
    """Reading what the closes committed (reconciliation, tests, demo)."""

    def ledger_entries(self, partner_id: str | None = None, period: str | None = None) -> list[Entry]: ...
    def payout(self, partner_id: str, period: str) -> Decimal | None: ...
    def close_history(self, partner_id: str, before: str, limit: int = 7) -> list[CloseLine]: ...


class BankDetails(Protocol):
    def bank_details(self, partner_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """Decrypted (IBAN, BIC) of the partners that have bank details."""
        ...


class PeriodLock(Protocol):
    def freeze_period(self, period: str) -> None: ...


class PartnerSales(Protocol):
    """The earning's accrual lines of a partner (a method of `loyalty.earning.ports.SalesStore`)."""

    def partner_sales(self, partner_id: str, period: str | None = None) -> Iterator[SaleRecord]: ...
    def get_sales(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], StoredSale]: ...


class ApprovalStore(CloseRuns, AuditTrail, PartnerLookup, Protocol):
    """What finance's side of the close reads and writes (and the registry, to check exclusions)."""


class CloseStore(
    CloseRuns,
    AuditTrail,
    ReviewFacts,
    CloseBook,
    BankDetails,
    PeriodLock,
    PartnerSales,
    FinalRateStore,
    PartnerDirectory,
    TierLookup,
    RuleSource,
    Protocol,
):
    """Every port the close's steps use (what a container wires: one DynamoDB table)."""


class CallbackGone(Exception):
    """The workflow no longer waits for this callback token: it was completed already, timed out,
    or its execution ended. Delivering a decision again is then a no-op, not an error."""


class Workflow(Protocol):
    """Step Functions: start a close by name; complete, fail or heartbeat a callback (these raise
    `CallbackGone` for a token the workflow no longer waits for)."""

    def start(self, name: str, payload: Mapping[str, Any]) -> tuple[str, bool]: ...
    def succeed(self, token: str, output: Mapping[str, Any]) -> None: ...
    def fail(self, token: str, error: str, cause: str) -> None: ...
    def heartbeat(self, token: str) -> None: ...
