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
from loyalty.close.payees import BankSnapshot
from loyalty.close.review import CloseLine, NextTier
from loyalty.close.runs import CloseStatus
from loyalty.earning.ports import FinalRateStore
from loyalty.earning.records import MonthTotals, SaleRecord, StoredSale
from loyalty.kernel.ports import BlobStore
from loyalty.points.ports import PointsStore
from loyalty.program.ports import PartnerDirectory, PartnerLookup, RuleSource, TierLookup
from loyalty.training.ports import TrainingReader


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
        expect_approvals: int | None = None,
    ) -> bool:
        """Write the header unless `expect` (statuses; None = no header yet), `expect_run` or
        `expect_approvals` (how many finance approvals the stored header holds) does not match
        the stored one; `token` stores a callback token, `clear_token` drops it."""
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


class PositionStore(ReviewFacts, Books, CloseRuns, RuleSource, PartnerLookup, Protocol):
    """What a partner's commission position reads (`loyalty.close.position`)."""


class BankDetails(Protocol):
    def bank_details(self, partner_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """Decrypted (IBAN, BIC) of the partners that have bank details."""
        ...

    def bank_snapshots(self, partner_ids: Sequence[str]) -> dict[str, BankSnapshot]:
        """The partners' bank details as stored (ciphertext, mask, fingerprint, BIC, name, since):
        nothing is decrypted (the review snapshots them for the proposal)."""
        ...

    def decrypt_iban(self, partner_id: str, iban_enc: str) -> str:
        """The plain IBAN of a snapshot's ciphertext (only the BankFiles function may)."""
        ...


class BankFileBlobs(Protocol):
    """Bank files are immutable: `put_new` writes a key only if nothing is there yet (S3
    `If-None-Match: *`) and says whether it did; `keys` lists what a prefix holds."""

    def put_new(self, key: str, body: bytes, content_type: str) -> bool: ...
    def keys(self, prefix: str = "") -> list[str]: ...


class CloseBlobs(BlobStore, BankFileBlobs, Protocol):
    """The bucket as the close uses it."""


class BankStore(CloseRuns, BankDetails, Protocol):
    """What the BankFiles step reads and writes (the only step that decrypts bank details)."""


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
    Books,
    BankDetails,
    PeriodLock,
    PartnerSales,
    FinalRateStore,
    PartnerDirectory,
    TierLookup,
    RuleSource,
    PointsStore,
    TrainingReader,
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
