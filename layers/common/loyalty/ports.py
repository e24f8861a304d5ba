"""Interfaces the domain services use; adapters implement them with AWS, tests in memory."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO, Any, Protocol

from loyalty.registry import Partner
from loyalty.rules import RuleVersion


class BlobStore(Protocol):
    def open(self, key: str) -> IO[bytes]: ...
    def put(self, key: str, body: bytes, content_type: str) -> None: ...
    def get(self, key: str) -> bytes: ...


@dataclass(frozen=True)
class QueueMessage:
    body: str
    group: str
    dedup_id: str


class ChunkQueue(Protocol):
    def send(self, messages: Sequence[QueueMessage]) -> None: ...


class Cipher(Protocol):
    """Field encryption for secrets at rest (bank details); `context` binds a ciphertext to its owner."""

    def encrypt(self, plain: str, context: str) -> str: ...
    def decrypt(self, token: str, context: str) -> str: ...


class Notifier(Protocol):
    def publish(self, subject: str, message: Mapping[str, Any], attributes: Mapping[str, str]) -> None: ...


@dataclass
class StoredSale:
    """What the writer needs to know about an existing accrual line."""

    partner_id: str
    sale_id: str
    version: str
    prev_version: str
    rate: Decimal
    tier: str
    rule_version: str
    month: str
    net_eur: Decimal = Decimal(0)
    commission: Decimal = Decimal(0)
    day: str = ""
    quantity: int = 0
    period: str = ""  # the period it accrued to ("" = its month)


@dataclass
class MonthDelta:
    """What one chunk changes in a partner's month totals (applied once per chunk)."""

    net_eur: Decimal = Decimal(0)
    commission: Decimal = Decimal(0)
    lines: int = 0
    returns: int = 0
    by_day: dict[int, Decimal] = field(default_factory=dict)  # day of month -> commission
    customers: set[str] = field(default_factory=set)
    late: int = 0  # lines of an already closed month that accrue to this period

    def add(
        self, day: int, net: Decimal, commission: Decimal, lines: int, returns: int, customer: str = ""
    ) -> None:
        self.net_eur += net
        self.commission += commission
        self.lines += lines
        self.returns += returns
        self.by_day[day] = self.by_day.get(day, Decimal(0)) + commission
        if customer:
            self.customers.add(customer)


@dataclass
class MonthTotals:
    partner_id: str
    month: str
    net_eur: Decimal
    commission: Decimal
    lines: int
    returns: int
    by_day: dict[int, Decimal]
    customers: frozenset[str] = frozenset()


@dataclass
class UploadRecord:
    upload_id: str
    key: str
    uploader: str
    version: str
    state: str = "new"  # new -> split -> done
    rows: int = 0
    accepted: int = 0  # accepted by the splitter (sent in chunks)
    rejected: int = 0  # rejected by the splitter
    blank_lines: int = 0
    chunks_total: int = -1
    encoding: str = ""
    delimiter: str = ""
    ignored_columns: list[str] = field(default_factory=list)
    file_error: str = ""
    file_error_code: str = ""
    created_at: str = ""
    notified: bool = False
    chunks_done: int = 0  # maintained by the store, counted once per chunk
    done_ids: set[str] = field(default_factory=set)


@dataclass
class ChunkResult:
    chunk_id: str
    rows: int
    accepted: int
    rejected: int
    new: int
    replaced: int
    unchanged: int
    superseded: int
    net_eur: Decimal
    commission: Decimal
    issues_key: str = ""
    partners: dict[str, list[str]] = field(default_factory=dict)  # partner -> [net_eur, commission, rows]
    late: dict[str, int] = field(default_factory=dict)  # closed month -> lines accrued to a later period


@dataclass
class SaleRecord:
    """An accrual line as stored (one per partner and sale_id)."""

    partner_id: str
    sale_id: str
    sold_at: str
    sku: str
    quantity: int
    unit_price: Decimal
    currency: str
    category: str
    customer_id: str
    original_sale_id: str
    net: Decimal
    fx_rate: Decimal | None
    fx_date: str
    net_eur: Decimal
    tier: str
    rate: Decimal
    rule_version: str
    rate_basis: str
    commission: Decimal
    version: str
    prev_version: str
    source: str  # "<upload_id>:<line>"
    status: str = "provisional"
    period: str = ""  # set when the month of sale was already closed: the period it accrued to

    @property
    def month(self) -> str:
        return self.sold_at[:7]


class Store(Protocol):
    # partners
    def get_partner(self, partner_id: str) -> Partner | None: ...
    def put_partners(self, partners: Sequence[Partner]) -> None: ...
    def list_partners(self) -> Iterator[Partner]: ...
    # tiers
    def tier_for(self, partner_id: str, month: str) -> str | None: ...
    def put_tier(self, partner_id: str, month: str, tier: str, reason: str) -> None: ...
    # rules and FX
    def rule_versions(self) -> list[RuleVersion]: ...
    def put_rule_version(self, rules: RuleVersion, source: str) -> bool: ...
    def fx_rates(self) -> Iterable[tuple[Any, str, Decimal]]: ...
    def put_fx_rates(self, rates: Sequence[tuple[Any, str, Decimal]]) -> None: ...
    # uploads
    def get_upload(self, upload_id: str) -> UploadRecord | None: ...
    def create_upload(self, rec: UploadRecord) -> UploadRecord: ...
    def save_upload(self, rec: UploadRecord) -> None: ...
    def mark_notified(self, upload_id: str) -> bool: ...
    def put_chunk_result(self, upload_id: str, result: ChunkResult) -> None:
        """Store a chunk's result and count it once (idempotent)."""
        ...

    def chunk_results(self, upload_id: str) -> list[ChunkResult]: ...
    # sales
    def get_sales(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], StoredSale]: ...
    def put_sales(self, records: Sequence[SaleRecord]) -> None: ...
    def partner_sales(self, partner_id: str, period: str | None = None) -> Iterator[SaleRecord]: ...
    def apply_month_delta(self, partner_id: str, month: str, chunk_id: str, delta: MonthDelta) -> bool:
        """Add a chunk's delta to the month totals unless that chunk was already applied."""
        ...

    def month_totals(self, partner_id: str) -> list[MonthTotals]: ...
    def frozen_periods(self) -> set[str]: ...
