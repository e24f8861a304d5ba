"""Issue 9, point 19: every DynamoDB item stays bounded whatever the data.

- distinct customers of a partner are their own items (first month seen) and the month total
  counts the customers first seen in it, instead of holding a set of them: 50 000 distinct
  customers in one partner-month work and every item stays < 400 KB;
- which chunks a month total has taken is not a set on that item either (one small marker item per
  chunk and month, written in one transaction with the totals): applied once, item size constant;
- an upload's progress is a counter, not a set of chunk ids: the number of chunks of a 1 GiB file
  keeps the upload item the size it has after one chunk.

Both stores (memory | dynamo, moto); item sizes are measured on the DynamoDB table."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import boto3
from loyalty.adapters.dynamo import DynamoStore
from loyalty.earning.records import MonthDelta
from loyalty_local.cloud import REGION

from tests.contract.test_upload_store import result, upload

ITEM_LIMIT = 400 * 1024  # DynamoDB's item size limit


def delta(customers: set[str], day: int = 3) -> MonthDelta:
    d = MonthDelta()
    d.add(day, Decimal("10.00"), Decimal("0.20"), 1, 0)
    d.customers = set(customers)
    return d


def item_sizes(store: DynamoStore, pk: str) -> dict[str, int]:
    """sk -> size of the item as stored (attribute names and values, an upper bound of DynamoDB's)."""
    ddb = boto3.client("dynamodb", region_name=REGION)
    out: dict[str, int] = {}
    for page in ddb.get_paginator("query").paginate(
        TableName=store.m.Doc.Meta.table_name,
        KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": pk}},
    ):
        for it in page["Items"]:
            out[it["sk"]["S"]] = len(json.dumps(it, separators=(",", ":")).encode())
    return out


def test_50000_distinct_customers_in_one_partner_month(store: Any) -> None:
    customers = {f"CUSTOMER-{i:07d}-{'x' * 8}" for i in range(50_000)}
    assert store.apply_month_delta("P00001", "2026-10", "u1/0001-000001", delta(customers))
    more = {f"CUSTOMER-{i:07d}-{'x' * 8}" for i in range(49_990, 50_010)}  # 10 seen, 10 new
    assert store.apply_month_delta("P00001", "2026-10", "u1/0001-000002", delta(more))
    assert not store.apply_month_delta("P00001", "2026-10", "u1/0001-000002", delta(more))  # redelivered
    (t,) = store.month_totals("P00001")
    assert (t.new_customers, t.lines) == (50_010, 2)
    if isinstance(store, DynamoStore):
        sizes = sizes_of(store, "PARTNER#P00001")
        assert len(sizes) == 50_013  # 50 010 customers, the month total, two chunk markers
        assert max(sizes.values()) < 1024, max(sizes.items(), key=lambda kv: kv[1])


def test_a_customer_is_new_in_the_first_month_it_was_seen(store: Any) -> None:
    store.apply_month_delta("P00001", "2026-10", "u1/c1", delta({"C1", "C2"}))
    store.apply_month_delta("P00001", "2026-11", "u1/c2", delta({"C2", "C3"}))
    store.apply_month_delta("P00001", "2026-11", "u1/c2", delta({"C2", "C3"}))  # redelivered
    store.apply_month_delta("P00001", "2026-09", "u2/c1", delta({"C2"}))  # a late file of September
    store.apply_month_delta("P00001", "2026-10", "u3/c1", delta({"C1", "C2"}))  # seen before
    got = {t.month: t.new_customers for t in store.month_totals("P00001")}
    assert got == {"2026-09": 1, "2026-10": 1, "2026-11": 1}  # C2 in Sep, C1 in Oct, C3 in Nov


def test_month_totals_take_each_chunk_once_and_keep_their_size(dynamo_store: DynamoStore) -> None:
    s = dynamo_store
    assert s.apply_month_delta("P00001", "2026-10", "u1/0001-000001", delta(set()))
    first = item_sizes(s, "PARTNER#P00001")["MONTH#2026-10"]
    for n in range(2, 41):
        assert s.apply_month_delta("P00001", "2026-10", f"u1/0001-{n:06d}", delta(set()))
        assert not s.apply_month_delta("P00001", "2026-10", f"u1/0001-{n:06d}", delta(set()))
    (t,) = s.month_totals("P00001")
    assert t.lines == 40 and t.net_eur == Decimal("400.00")
    assert item_sizes(s, "PARTNER#P00001")["MONTH#2026-10"] <= first + 16  # counters' digits only


def sizes_of(store: DynamoStore, pk: str) -> dict[str, int]:
    """sk -> size of each item of a partition, as moto's DynamoDB measures it for its 400 KB
    check (read in-process: 50 000 items through the API would take a minute on moto)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].get_table(store.m.Doc.Meta.table_name)
    return {it.range_key.value: it.size() for it in table.all_items() if it.hash_key.value == pk}


def chunks_of_a_1_gib_file(chunk_rows: int = 500) -> int:
    """The most chunks a 1 GiB sales file can have: its shortest valid row is about 40 bytes
    (`S1,P00001,2026-10-01,A,1,1,EUR,,,` and a line end)."""
    return (1024**3 // 40) // chunk_rows + 1


def test_upload_progress_stays_bounded_for_a_1_gib_file(dynamo_store: DynamoStore) -> None:
    s = dynamo_store
    rec = s.create_upload(upload())
    rec.state, rec.chunks_total = "split", chunks_of_a_1_gib_file()
    s.save_upload(rec)
    assert s.put_chunk_result("u1", result("0001-000001"))
    after_one = item_sizes(s, "UPLOAD#u1")["META"]
    for n in range(2, 61):
        assert s.put_chunk_result("u1", result(f"{n % 64:04d}-{n:06d}"))
    assert not s.put_chunk_result("u1", result("0002-000002"))  # a redelivery counts once
    got = s.get_upload("u1")
    assert got is not None and got.chunks_done == 60
    sizes = item_sizes(s, "UPLOAD#u1")
    assert sizes["META"] <= after_one + 8  # a counter: the same size for 1 chunk or 53 687
    assert max(sizes.values()) < 4 * 1024
    # what a set of chunk ids would have needed for that file: past the item limit
    assert chunks_of_a_1_gib_file() * len("0001-000001") > ITEM_LIMIT


def test_put_chunk_result_says_whether_it_counted(store: Any) -> None:
    store.create_upload(upload())
    assert store.put_chunk_result("u1", result("0001-000001")) is True
    assert store.put_chunk_result("u1", result("0001-000001")) is False
    assert store.get_upload("u1").chunks_done == 1
