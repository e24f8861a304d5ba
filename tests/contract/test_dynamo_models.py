"""The static pynamodb models: bound per table (two stores never mix) and the item shapes on the
table (attribute names and DynamoDB types) as before."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import boto3
from loyalty.adapters.dynamo import DynamoStore
from loyalty.adapters.dynamo.models import MonthItem, PartnerItem, make_models
from loyalty.adapters.memory.kernel import MemoryCipher
from loyalty.earning.records import MonthDelta
from loyalty.program.registry import Partner
from loyalty_local.cloud import REGION

from tests.contract.conftest import make_table
from tests.contract.test_sales_store import sale


def raw(table: str, pk: str, sk: str) -> dict[str, Any]:
    item = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName=table, Key={"pk": {"S": pk}, "sk": {"S": sk}}
    )["Item"]
    return {k: next(iter(v)) for k, v in item.items()}  # attribute -> DynamoDB type


def test_two_stores_on_two_tables_do_not_mix() -> None:
    a, b = make_table(), make_table()
    sa, sb = DynamoStore(a, REGION), DynamoStore(b, REGION)
    sa.put_tier("P1", "2026-10", "Gold", "a")
    sb.put_tier("P1", "2026-10", "Silver", "b")
    sa.put_partners([Partner("P1", "A", "a@x.example", "smb", "DE", "", dt.date(2026, 1, 1), "")])
    assert (sa.tier_for("P1", "2026-10"), sb.tier_for("P1", "2026-10")) == ("Gold", "Silver")
    assert [p.name for p in sa.list_partners()] == ["A"] and list(sb.list_partners()) == []
    assert sa.m.Partner is not sb.m.Partner and issubclass(sa.m.Partner, PartnerItem)
    assert sa.m.Partner.by_list._model is sa.m.Partner  # the GSI queries its own table
    assert sa.m.Partner.DoesNotExist is not sb.m.Partner.DoesNotExist


def test_bound_models_name_their_table() -> None:
    m = make_models("t-x", REGION, "http://localhost:1")
    assert (m.Month.Meta.table_name, m.Month.Meta.host) == ("t-x", "http://localhost:1")
    assert issubclass(m.Month, MonthItem) and m.Month.__name__ == "MonthItem"


def test_item_shapes_on_the_table() -> None:
    t = make_table()
    s = DynamoStore(t, REGION, cipher=MemoryCipher())
    s.put_partners(
        [
            Partner(
                "P1",
                "A",
                "a@x.example",
                "smb",
                "DE",
                "",
                dt.date(2026, 1, 1),
                "",
                ("P2",),
                iban="DE89370400440532013000",
            )
        ]
    )
    assert raw(t, "PARTNER#P1", "PROFILE") == {
        "pk": "S",
        "sk": "S",
        "gsi1pk": "S",
        "gsi1sk": "S",
        "name": "S",
        "email": "S",
        "segment": "S",
        "country": "S",
        "sponsor_id": "S",
        "joined_on": "S",
        "cohort": "S",
        "distributor_for": "L",
        "starting_tier": "S",
        "certified": "S",
        "iban_enc": "S",
        "iban_mask": "S",
        "bic": "S",
        "iban_fp": "S",
        "bank_since": "S",
    }
    s.put_sales([sale("S1")])
    shape = raw(t, "PARTNER#P00001", "SALE#S1")
    assert shape["qty"] == shape["price"] == shape["net_eur"] == shape["comm"] == shape["fx"] == "N"
    assert set(shape) == {
        "pk", "sk", "sold_at", "sku", "qty", "price", "cur", "cat", "cust", "orig", "net", "fx", "fx_date",
        "net_eur", "tier", "rate", "rules", "basis", "comm", "ver", "prev", "src", "status", "per",
        "anchor", "match",
    }  # fmt: skip
    d = MonthDelta()
    d.add(3, Decimal("10"), Decimal("0.2"), 1, 0, "C1")
    s.apply_month_delta("P1", "2026-10", "u/c", d)
    assert raw(t, "PARTNER#P1", "MONTH#2026-10") == {
        "pk": "S",
        "sk": "S",
        "net": "N",
        "comm": "N",
        "lines": "N",
        "returns": "N",
        "newc": "N",
        "c03": "N",
    }
    assert raw(t, "PARTNER#P1", "CUST#C1") == {"pk": "S", "sk": "S", "first": "S"}
    assert raw(t, "PARTNER#P1", "APPLIED#2026-10#u/c") == {"pk": "S", "sk": "S"}
