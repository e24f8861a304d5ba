"""pynamodb models of the single table, bound per table by make_models."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

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


def make_models(table_name: str, region: str, host: str | None = None) -> SimpleNamespace:
    meta = {
        "table_name": table_name,
        "region": region,
        "host": host,
        "max_retry_attempts": 5,
        "connect_timeout_seconds": 5,
        "read_timeout_seconds": 20,
    }

    def model(name: str, attrs: dict[str, Any]) -> Any:
        body: dict[str, Any] = {"Meta": type("Meta", (), dict(meta))}
        body["pk"] = UnicodeAttribute(hash_key=True)
        body["sk"] = UnicodeAttribute(range_key=True)
        body.update(attrs)
        return type(name, (Model,), body)

    def gsi1() -> Any:
        """The table's one GSI, as an index of a model (pynamodb binds each index class to one
        model, so every model gets its own class)."""

        class Gsi1(GlobalSecondaryIndex[Any]):  # type: ignore[no-untyped-call]
            class Meta:
                index_name = "gsi1"
                projection = AllProjection()

            gsi1pk = UnicodeAttribute(hash_key=True)
            gsi1sk = UnicodeAttribute(range_key=True)

        return Gsi1()

    PartnerItem = model(
        "PartnerItem",
        {
            "gsi1pk": UnicodeAttribute(),
            "gsi1sk": UnicodeAttribute(),
            "by_list": gsi1(),
            "name": UnicodeAttribute(),
            "email": UnicodeAttribute(),
            "segment": UnicodeAttribute(),
            "country": UnicodeAttribute(default=""),
            "sponsor_id": UnicodeAttribute(default=""),
            "joined_on": UnicodeAttribute(),
            "cohort": UnicodeAttribute(default=""),
            "distributor_for": ListAttribute(of=UnicodeAttribute, default=list),
            "starting_tier": UnicodeAttribute(default=""),
            "certified": UnicodeAttribute(default=""),
            "iban_enc": UnicodeAttribute(null=True),  # KMS ciphertext (base64), never shown
            "iban_mask": UnicodeAttribute(default=""),
            "bic": UnicodeAttribute(default=""),
        },
    )
    TierItem = model("TierItem", {"tier": UnicodeAttribute(), "reason": UnicodeAttribute(default="")})
    SaleItem = model(
        "SaleItem",
        {
            "sold_at": UnicodeAttribute(),
            "sku": UnicodeAttribute(),
            "qty": NumberAttribute(),
            "price": DecimalAttribute(),
            "cur": UnicodeAttribute(),
            "cat": UnicodeAttribute(default=""),
            "cust": UnicodeAttribute(default=""),
            "orig": UnicodeAttribute(default=""),
            "net": DecimalAttribute(),
            "fx": DecimalAttribute(null=True),
            "fx_date": UnicodeAttribute(default=""),
            "net_eur": DecimalAttribute(),
            "tier": UnicodeAttribute(),
            "rate": DecimalAttribute(),
            "rules": UnicodeAttribute(),
            "basis": UnicodeAttribute(),
            "comm": DecimalAttribute(),
            "ver": UnicodeAttribute(),
            "prev": UnicodeAttribute(default=""),
            "src": UnicodeAttribute(),
            "status": UnicodeAttribute(default="provisional"),
            "per": UnicodeAttribute(default=""),
        },
    )
    DocItem = model(
        "DocItem",
        {
            "data": UnicodeAttribute(null=True),
            "state": UnicodeAttribute(default=""),
            "notified": BooleanAttribute(default=False),
            "rev": NumberAttribute(default=0),
            "done": UnicodeSetAttribute(null=True),
        },
    )
    month_attrs: dict[str, Any] = {
        "net": DecimalAttribute(null=True),
        "comm": DecimalAttribute(null=True),
        "lines": NumberAttribute(null=True),
        "returns": NumberAttribute(null=True),
        "applied": UnicodeSetAttribute(null=True),
        "cust": UnicodeSetAttribute(null=True),
    }
    month_attrs.update({f"c{d:02d}": DecimalAttribute(null=True) for d in range(1, 32)})
    MonthItem = model("MonthItem", month_attrs)

    CloseItem = model(
        "CloseItem",
        {
            "gsi1pk": UnicodeAttribute(null=True),
            "gsi1sk": UnicodeAttribute(null=True),
            "by_list": gsi1(),
            "data": UnicodeAttribute(null=True),
            "state": UnicodeAttribute(default=""),
            "run": UnicodeAttribute(default=""),
            "token": UnicodeAttribute(null=True),  # Step Functions task token: stored, never shown
        },
    )

    LedgerItem = model(
        "LedgerItem",
        {
            "period": UnicodeAttribute(),
            "debit": UnicodeAttribute(),
            "credit": UnicodeAttribute(),
            "amount": DecimalAttribute(),
            "memo": UnicodeAttribute(),
            "reverses": UnicodeAttribute(default=""),
            "gsi1pk": UnicodeAttribute(),
            "gsi1sk": UnicodeAttribute(),
            "by_period": gsi1(),
        },
    )
    PayoutItem = model(
        "PayoutItem",
        {"amount": DecimalAttribute(), "run": UnicodeAttribute(), "state": UnicodeAttribute()},
    )
    return SimpleNamespace(
        Partner=PartnerItem,
        Tier=TierItem,
        Sale=SaleItem,
        Doc=DocItem,
        Month=MonthItem,
        Close=CloseItem,
        Ledger=LedgerItem,
        Payout=PayoutItem,
    )


class Tables:
    """What every context's DynamoDB adapter shares: the models bound to one table."""

    def __init__(
        self, table_name: str, region: str, host: str | None = None, cipher: Cipher | None = None
    ) -> None:
        self.m = make_models(table_name, region, host)
        self.cipher = cipher
        self._conn = Connection(region=region, host=host)
