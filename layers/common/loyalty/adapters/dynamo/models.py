"""pynamodb models of the single table: one static class per item type (mypy checks attribute
names), bound to a table, region and endpoint per store by `make_models`.

The key table (also in docs/architecture.md):

| item                         | model      | pk                | sk                           | gsi1pk / gsi1sk                      |
|------------------------------|------------|-------------------|------------------------------|--------------------------------------|
| partner profile              | PartnerItem| `PARTNER#<id>`    | `PROFILE`                    | `PARTNERS` / `<id>`                  |
| tier of a month              | TierItem   | `PARTNER#<id>`    | `TIER#<YYYY-MM>`             |                                      |
| accrual line                 | SaleItem   | `PARTNER#<id>`    | `SALE#<sale_id>`             |                                      |
| month totals                 | MonthItem  | `PARTNER#<id>`    | `MONTH#<YYYY-MM>`            |                                      |
| chunk applied to a month     | MarkerItem | `PARTNER#<id>`    | `APPLIED#<YYYY-MM>#<chunk>`  |                                      |
| customer, first month seen   | CustomerItem| `PARTNER#<id>`   | `CUST#<customer_id>`         |                                      |
| upload                       | DocItem    | `UPLOAD#<id>`     | `META`                       |                                      |
| chunk result                 | DocItem    | `UPLOAD#<id>`     | `CHUNK#<group>-<seq>`        |                                      |
| latest upload of an S3 key   | DocItem    | `OBJECT#<key>`    | `LATEST`                     |                                      |
| rule version                 | DocItem    | `RULES`           | `VERSION#<from>#<version>`   |                                      |
| FX rates of a currency-month | DocItem    | `FX`              | `<CUR>#<YYYY-MM>`            |                                      |
| frozen periods               | DocItem    | `CONFIG`          | `FROZEN`                     |                                      |
| close header                 | CloseItem  | `CLOSE#<period>`  | `META`                       | `CLOSES` / `<period>`                |
| close audit entry            | CloseItem  | `CLOSE#<period>`  | `AUDIT#<time>#<hash>`        |                                      |
| committed close line         | CloseItem  | `PARTNER#<id>`    | `CLOSE#<period>`             |                                      |
| payout                       | PayoutItem | `PARTNER#<id>`    | `PAYOUT#<period>`            |                                      |
| ledger entry                 | LedgerItem | `PARTNER#<id>`    | `LEDGER#<period>#<entry id>` | `LEDGER#<period>` / `<id>#<entry id>`|
| sale by SKU (returns' lookup)| LinkItem   | `PARTNER#<id>`    | `SKU#<sku>#<sold_at>#<sale>` |                                      |
| return of a sale             | LinkItem   | `PARTNER#<id>`    | `RET#<sale>#<return sale>`   |                                      |
| points head (counters, rev)  | PointItem  | `POINTS#<id>`     | `HEAD`                       |                                      |
| points lot                   | PointItem  | `POINTS#<id>`     | `LOT#<lot id>`               |                                      |
| points move                  | PointItem  | `POINTS#<id>`     | `MOVE#<YYYY-MM>#<move id>`   |                                      |
| points move id marker        | PointItem  | `POINTS#<id>`     | `MOVEID#<move id>`           |                                      |
| course points awarded        | PointItem  | `POINTS#<id>`     | `COURSE#<person>#<course>`   |                                      |
| redemption                   | PointItem  | `POINTS#<id>`     | `REDEEM#<request id>`        | `REDEMPTIONS#<period>` / `<id>#<request id>` |
| reward limit counter         | PointItem  | `POINTS#<id>`     | `LIMIT#<reward>#<YYYY-MM>`   |                                      |
| points ledger posting        | LedgerItem | `POINTS#<id>`     | `LEDGER#<period>#<entry id>` | `PLEDGER#<period>` / `<id>#<entry id>`|
| reward (with `taken`)        | PointItem  | `CATALOG`         | `REWARD#<reward id>`         |                                      |
| training completion          | DocItem    | `TRAINING#<id>`   | `DONE#<person>#<course>`     |                                      |
| partner has completions      | DocItem    | `TRAINING#<id>`   | `HAS`                        |                                      |

(`#` and `%` in a SKU or sale id are percent-encoded in link keys, and so are they in course and
reward keys of points items; `PointItem` lives in `adapters/dynamo/points.py`.)

Money is a DynamoDB Number read and written as `Decimal` (never float).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from pynamodb.attributes import (
    Attribute,
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
)
from pynamodb.connection import Connection
from pynamodb.constants import NUMBER
from pynamodb.exceptions import TransactWriteError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from loyalty.kernel.ports import Cipher


class DecimalAttribute(Attribute[Decimal]):
    """DynamoDB Number <-> Decimal, never float."""

    attr_type = NUMBER

    def serialize(self, value: Decimal) -> str:
        return f"{value:f}"

    def deserialize(self, value: str) -> Decimal:
        return Decimal(value)


class Gsi1(GlobalSecondaryIndex[Any]):  # type: ignore[no-untyped-call]
    """The table's one GSI (pynamodb copies the index onto each model class that has it)."""

    class Meta:
        index_name = "gsi1"
        projection = AllProjection()

    gsi1pk = UnicodeAttribute(hash_key=True)
    gsi1sk = UnicodeAttribute(range_key=True)


class Item(Model):
    """The key every item has; the static classes are never used unbound (see `bind`)."""

    class Meta:
        table_name = "unbound"
        region = "us-east-1"

    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)


class PartnerItem(Item):
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    by_list = Gsi1()
    name = UnicodeAttribute()
    email = UnicodeAttribute()
    segment = UnicodeAttribute()
    country = UnicodeAttribute(default="")
    sponsor_id = UnicodeAttribute(default="")
    joined_on = UnicodeAttribute()
    cohort = UnicodeAttribute(default="")
    distributor_for = ListAttribute(of=UnicodeAttribute, default=list)
    starting_tier = UnicodeAttribute(default="")
    certified = UnicodeAttribute(default="")
    iban_enc = UnicodeAttribute(null=True)  # KMS ciphertext (base64), never shown
    iban_mask = UnicodeAttribute(default="")
    bic = UnicodeAttribute(default="")
    iban_fp = UnicodeAttribute(default="")  # fingerprint of IBAN + BIC (kernel.iban.bank_fingerprint)
    bank_since = UnicodeAttribute(default="")  # when these bank details were first loaded
    recognition_opt_out = BooleanAttribute(null=True)  # stored only when the partner opted out


class TierItem(Item):
    tier = UnicodeAttribute()
    reason = UnicodeAttribute(default="")


class SaleItem(Item):
    sold_at = UnicodeAttribute()
    sku = UnicodeAttribute()
    qty = NumberAttribute()
    price = DecimalAttribute()
    cur = UnicodeAttribute()
    cat = UnicodeAttribute(default="")
    cust = UnicodeAttribute(default="")
    orig = UnicodeAttribute(default="")
    net = DecimalAttribute()
    fx = DecimalAttribute(null=True)
    fx_date = UnicodeAttribute(default="")
    net_eur = DecimalAttribute()
    tier = UnicodeAttribute()
    rate = DecimalAttribute()
    rules = UnicodeAttribute()
    basis = UnicodeAttribute()
    comm = DecimalAttribute()
    ver = UnicodeAttribute()
    prev = UnicodeAttribute(default="")
    src = UnicodeAttribute()
    status = UnicodeAttribute(default="provisional")
    per = UnicodeAttribute(default="")
    anchor = UnicodeAttribute(default="")  # a return's holding day: its sale's landing day
    match = UnicodeAttribute(default="")  # a return's sale matched by SKU (no original_sale_id)


class LinkItem(Item):
    """A bounded index item: a sale under its SKU, or a return under the sale it reverses."""

    ref = UnicodeAttribute()  # the sale (SKU#) or return (RET#) line it points to
    units = NumberAttribute(default=0)


class CustomerItem(Item):
    """A partner's customer and the first month it bought in (new-customer KPI): one item per
    customer instead of a set on the month total, so no item grows with the customer count."""

    first = UnicodeAttribute()


class MarkerItem(Item):
    """A key and nothing else: that something happened once (a chunk applied to a month)."""


class DocItem(Item):
    data = UnicodeAttribute(null=True)
    state = UnicodeAttribute(default="")
    notified = BooleanAttribute(default=False)
    rev = NumberAttribute(default=0)
    done = UnicodeSetAttribute(null=True)
    n = NumberAttribute(null=True)  # an upload's finished chunks (a counter, bounded)


class MonthItem(Item):
    """Month totals. Besides the declared attributes: `k:<category>` / `u:<category>` (net EUR /
    units per category, at most MAX_CATEGORIES named ones, listed in `cats`) and `l:<sold month>`
    / `lu:<sold month>` (late lines, also per `<month>/<category>`): top-level numbers, so a
    chunk's delta ADDs to them in its one update (`adapters.dynamo.month_figures`)."""

    net = DecimalAttribute(null=True)
    comm = DecimalAttribute(null=True)
    lines = NumberAttribute(null=True)
    returns = NumberAttribute(null=True)
    newc = NumberAttribute(null=True)  # customers first seen in this month
    units = NumberAttribute(null=True)  # sum of quantities
    cats = UnicodeSetAttribute(null=True)  # the categories with their own k:/u: attributes
    # commission per day of the month, for the holding period
    c01 = DecimalAttribute(null=True)
    c02 = DecimalAttribute(null=True)
    c03 = DecimalAttribute(null=True)
    c04 = DecimalAttribute(null=True)
    c05 = DecimalAttribute(null=True)
    c06 = DecimalAttribute(null=True)
    c07 = DecimalAttribute(null=True)
    c08 = DecimalAttribute(null=True)
    c09 = DecimalAttribute(null=True)
    c10 = DecimalAttribute(null=True)
    c11 = DecimalAttribute(null=True)
    c12 = DecimalAttribute(null=True)
    c13 = DecimalAttribute(null=True)
    c14 = DecimalAttribute(null=True)
    c15 = DecimalAttribute(null=True)
    c16 = DecimalAttribute(null=True)
    c17 = DecimalAttribute(null=True)
    c18 = DecimalAttribute(null=True)
    c19 = DecimalAttribute(null=True)
    c20 = DecimalAttribute(null=True)
    c21 = DecimalAttribute(null=True)
    c22 = DecimalAttribute(null=True)
    c23 = DecimalAttribute(null=True)
    c24 = DecimalAttribute(null=True)
    c25 = DecimalAttribute(null=True)
    c26 = DecimalAttribute(null=True)
    c27 = DecimalAttribute(null=True)
    c28 = DecimalAttribute(null=True)
    c29 = DecimalAttribute(null=True)
    c30 = DecimalAttribute(null=True)
    c31 = DecimalAttribute(null=True)

    @classmethod
    def from_raw_data(cls, data: dict[str, Any]) -> MonthItem:
        """The item, keeping its dynamic (per category, late) attributes as `figures`."""
        item = super().from_raw_data(data)
        item.figures = {k: v for k, v in data.items() if k.startswith(("k:", "u:", "l:", "lu:"))}
        return item

    figures: dict[str, Any]


class CloseItem(Item):
    gsi1pk = UnicodeAttribute(null=True)
    gsi1sk = UnicodeAttribute(null=True)
    by_list = Gsi1()
    data = UnicodeAttribute(null=True)
    state = UnicodeAttribute(default="")
    run = UnicodeAttribute(default="")
    token = UnicodeAttribute(null=True)  # Step Functions task token: stored, never shown
    napp = NumberAttribute(null=True)  # finance approvals recorded (two approving at once: one wins)


class LedgerItem(Item):
    period = UnicodeAttribute()
    debit = UnicodeAttribute()
    credit = UnicodeAttribute()
    amount = DecimalAttribute()
    memo = UnicodeAttribute()
    reverses = UnicodeAttribute(default="")
    gsi1pk = UnicodeAttribute()
    gsi1sk = UnicodeAttribute()
    by_period = Gsi1()


class PayoutItem(Item):
    amount = DecimalAttribute()
    run = UnicodeAttribute()
    state = UnicodeAttribute()


def bind[M: Item](model: type[M], table_name: str, region: str, host: str | None = None) -> type[M]:
    """A subclass of `model` on one table: its own Meta, connection, index copies and
    DoesNotExist, so two stores on two tables in one process never mix."""
    meta = type(
        "Meta",
        (),
        {
            "table_name": table_name,
            "region": region,
            "host": host,
            "max_retry_attempts": 5,
            "connect_timeout_seconds": 5,
            "read_timeout_seconds": 20,
        },
    )
    return type(model.__name__, (model,), {"Meta": meta, "__module__": model.__module__})


@dataclass(frozen=True)
class Models:
    """The item classes bound to one table (`self.m.<Name>` in the adapters)."""

    Partner: type[PartnerItem]
    Tier: type[TierItem]
    Sale: type[SaleItem]
    Doc: type[DocItem]
    Month: type[MonthItem]
    Customer: type[CustomerItem]
    Marker: type[MarkerItem]
    Close: type[CloseItem]
    Ledger: type[LedgerItem]
    Payout: type[PayoutItem]
    Link: type[LinkItem]


def make_models(table_name: str, region: str, host: str | None = None) -> Models:
    return Models(
        Partner=bind(PartnerItem, table_name, region, host),
        Tier=bind(TierItem, table_name, region, host),
        Sale=bind(SaleItem, table_name, region, host),
        Doc=bind(DocItem, table_name, region, host),
        Month=bind(MonthItem, table_name, region, host),
        Customer=bind(CustomerItem, table_name, region, host),
        Marker=bind(MarkerItem, table_name, region, host),
        Close=bind(CloseItem, table_name, region, host),
        Ledger=bind(LedgerItem, table_name, region, host),
        Payout=bind(PayoutItem, table_name, region, host),
        Link=bind(LinkItem, table_name, region, host),
    )


class Tables:
    """What every context's DynamoDB adapter shares: the models bound to one table."""

    def __init__(
        self, table_name: str, region: str, host: str | None = None, cipher: Cipher | None = None
    ) -> None:
        self.m = make_models(table_name, region, host)
        self.cipher = cipher
        self._conn = Connection(region=region, host=host)

    def ledger_item(self, pk: str, owner: str, index: str, e: LedgerRecord) -> LedgerItem:
        """An immutable ledger entry item under `pk`, listed in the period index `<index><period>`
        (`LEDGER#` for money, `PLEDGER#` for points) as `<owner>#<entry id>`."""
        return self.m.Ledger(
            pk,
            f"LEDGER#{e.period}#{e.entry_id}",
            period=e.period,
            debit=e.debit,
            credit=e.credit,
            amount=e.amount,
            memo=e.memo,
            reverses=e.reverses,
            gsi1pk=f"{index}{e.period}",
            gsi1sk=f"{owner}#{e.entry_id}",
        )


class LedgerRecord(Protocol):
    """A ledger entry as the close (`Entry`) and the points context (`Posting`) both hold it."""

    @property
    def entry_id(self) -> str: ...
    @property
    def period(self) -> str: ...
    @property
    def debit(self) -> str: ...
    @property
    def credit(self) -> str: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def memo(self) -> str: ...
    @property
    def reverses(self) -> str: ...


def failed_condition(exc: TransactWriteError, index: int = 0) -> bool:
    """A cancelled transaction whose item `index` failed its condition (the others may not say why)."""
    if exc.cause_response_code != "TransactionCanceledException":
        return False
    reasons = exc.cancellation_reasons or []
    reason = reasons[index] if len(reasons) > index else None
    return reason is not None and reason.code == "ConditionalCheckFailed"
