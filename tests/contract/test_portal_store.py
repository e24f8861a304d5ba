"""Contract of the portal's ports (`loyalty.portal.ports`): records (profiles, signed uploads,
paged lines and redemptions) and links, in memory and on DynamoDB / S3 (moto). A page never
reads the whole partition: the items it evaluated are counted (DynamoDB's ScannedCount)."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import boto3
import pytest
import requests
from loyalty.adapters.dynamo import DynamoStore
from loyalty.adapters.dynamo.portal import DynamoPortalRecords
from loyalty.adapters.dynamo.portal_links import S3PortalLinks
from loyalty.adapters.memory import MemoryStore
from loyalty.adapters.memory.kernel import MemoryBlobs, MemoryCipher
from loyalty.adapters.memory.portal import MemoryPortalLinks, MemoryPortalRecords
from loyalty.adapters.s3sqs import S3Blobs
from loyalty.earning.records import SaleRecord
from loyalty.portal.paging import READ_BUDGET, BadCursor
from loyalty.portal.ports import Profile, UploadTicket
from loyalty_local.cloud import REGION

from tests.contract.conftest import make_table
from tests.unit.rewards_world import grant, lot, reward, service

_n = itertools.count(1)
BUDGET = 150  # items a page may read (READ_BUDGET in production), small so a test partition dwarfs it


@pytest.fixture(params=["memory", "dynamo"])
def world(request: pytest.FixtureRequest) -> tuple[Any, Any]:
    """(store, portal records) over the same data."""
    if request.param == "memory":
        mem = MemoryStore(cipher=MemoryCipher())
        return mem, MemoryPortalRecords(lambda p: mem.sales.get(p, {}), mem.partner_redemptions, BUDGET)
    table = make_table()
    return DynamoStore(table, REGION, cipher=MemoryCipher()), DynamoPortalRecords(
        table, REGION, read_budget=BUDGET
    )


def line(sale_id: str, sold_at: str, partner: str = "P00001", period: str = "") -> SaleRecord:
    return SaleRecord(
        partner,
        sale_id,
        sold_at,
        "SKU-1",
        1,
        Decimal("10.00"),
        "EUR",
        "",
        "",
        "",
        Decimal("10.00"),
        None,
        "",
        Decimal("10.00"),
        "Bronze",
        Decimal("0.02"),
        "2026.1",
        "month",
        Decimal("0.20"),
        "v1",
        "",
        "u:1",
        period=period,
    )


def all_pages(records: Any, partner: str, month: str | None, limit: int) -> tuple[list[str], list[int]]:
    seen: list[str] = []
    reads: list[int] = []
    cursor = None
    for _ in range(1000):
        page = records.lines_page(partner, month, cursor, limit)
        assert len(page.items) <= limit
        seen += [r.sale_id for r in page.items]
        reads.append(page.read)
        cursor = page.cursor
        if cursor is None:
            return seen, reads
    raise AssertionError("pages never end")


def test_profiles_round_trip(world: tuple[Any, Any]) -> None:
    _, records = world
    assert records.profile("anna") is None
    records.save_profile(Profile("anna", "ru", "2026-11-23T10:00:00+00:00"))
    records.save_profile(Profile("anna", "en", "2026-11-24T10:00:00+00:00"))
    assert records.profile("anna") == Profile("anna", "en", "2026-11-24T10:00:00+00:00")


def test_uploads_newest_first_in_pages(world: tuple[Any, Any]) -> None:
    _, records = world
    for i in range(5):
        uid = f"2026112310{i:02d}00-0000000{i}"
        records.put_upload(
            UploadTicket("P00001", uid, f"incoming/P00001/{uid}_a.csv", "a.csv", "text/csv", 10, "anna", "t")
        )
    records.put_upload(
        UploadTicket("P00002", "20261123100000-00000009", "k", "b.csv", "text/csv", 1, "boris", "t")
    )
    first = records.uploads("P00001", None, 3)
    assert [t.upload_id[-1] for t in first.items] == ["4", "3", "2"] and first.cursor
    rest = records.uploads("P00001", first.cursor, 3)
    assert [t.upload_id[-1] for t in rest.items] == ["1", "0"] and rest.cursor is None
    assert records.upload("P00001", "20261123100000-00000009") is None  # another partner's
    assert records.upload("P00002", "20261123100000-00000009") is not None
    with pytest.raises(BadCursor):
        records.uploads("P00002", first.cursor, 3)


def test_lines_pages_cover_every_line_once_with_bounded_reads(world: tuple[Any, Any]) -> None:
    store, records = world
    lines = [line(f"S{i:05d}", f"2026-{1 + i % 12:02d}-10") for i in range(480)]
    lines.append(line("LATE1", "2026-02-27", period="2026-03"))  # sold in a closed month, accrued to March
    store.put_sales(lines)
    store.put_sales([line("X1", "2026-03-10", partner="P00002")])
    seen, reads = all_pages(records, "P00001", None, 200)
    assert sorted(seen) == sorted(r.sale_id for r in lines) and len(seen) == len(set(seen))
    assert max(reads) <= 200  # no filter: a page reads what it returns
    assert READ_BUDGET >= 5 * 200  # production: a filtered page still reads far less than a partition
    march, reads = all_pages(records, "P00001", "2026-03", 50)
    assert sorted(march) == sorted(
        r.sale_id for r in lines if r.sold_at.startswith("2026-03") or r.period == "2026-03"
    )
    assert "LATE1" in march and "X1" not in march
    assert max(reads) <= BUDGET + 100 < len(lines)  # a filtered page never reads the partition
    assert sum(reads) >= len(lines)  # and the pages together read each line (the cost of a filter)


def test_a_cursor_is_bound_to_its_list(world: tuple[Any, Any]) -> None:
    store, records = world
    store.put_sales([line(f"S{i}", "2026-03-10") for i in range(5)])
    page = records.lines_page("P00001", None, None, 2)
    assert page.cursor is not None
    with pytest.raises(BadCursor):
        records.lines_page("P00002", None, page.cursor, 2)
    with pytest.raises(BadCursor):
        records.lines_page("P00001", "2026-03", page.cursor, 2)
    nxt = records.lines_page("P00001", None, page.cursor, 2)
    assert [r.sale_id for r in nxt.items] == ["S2", "S3"]


def test_redemptions_page(world: tuple[Any, Any]) -> None:
    store, records = world
    grant(store, "P00001", [lot("L1", 5000, "2027-12-31")])
    store.put_reward(reward("MUG", 100))
    svc = service(store)
    for k in ("r-a", "r-b", "r-c"):
        assert svc.redeem("P00001", "MUG", k).ok
    first = records.redemptions_page("P00001", None, 2)
    assert [r.request_id for r in first.items] == ["r-a", "r-b"] and first.cursor
    rest = records.redemptions_page("P00001", first.cursor, 2)
    assert [r.request_id for r in rest.items] == ["r-c"]
    assert records.redemptions_page("P00002", None, 2).items == []


@pytest.fixture(params=["memory", "s3"])
def links(request: pytest.FixtureRequest) -> tuple[Any, Any]:
    """(links, blobs of the same bucket)."""
    if request.param == "memory":
        blobs = MemoryBlobs()
        return MemoryPortalLinks(blobs), blobs
    bucket = f"contract-portal-{next(_n)}"
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    role = boto3.client("iam", region_name=REGION).create_role(
        RoleName=f"partner-upload-{next(_n)}", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    return S3PortalLinks(bucket, REGION, None, role), S3Blobs(bucket, REGION)


def test_links_find_and_sign_the_bucket_keys(links: tuple[Any, Any]) -> None:
    lk, blobs = links
    blobs.put("statements/P00001/2026-10.csv", b"a,b\n", "text/csv")
    blobs.put("statements/P00001/2026-10.html", b"<p>", "text/html")
    blobs.put("statements/P00010/2026-10.csv", b"x", "text/csv")
    assert lk.keys("statements/P00001/") == [
        "statements/P00001/2026-10.csv",
        "statements/P00001/2026-10.html",
    ]
    assert lk.exists("statements/P00001/2026-10.csv") and not lk.exists("statements/P00001/2026-10.pdf")
    assert not lk.exists("statements/P00001/2026-10")  # a prefix is not a key
    url = lk.download_url("statements/P00001/2026-10.csv", "statement.csv", 300)
    assert "statements/P00001/2026-10.csv" in url
    if url.startswith("http"):
        got = requests.get(url, timeout=10)
        assert got.content == b"a,b\n"
        assert "response-content-disposition=attachment" in url  # S3 answers it as a download
    form = lk.upload_form("P00001", "incoming/P00001/u1_a.csv", "text/csv", 1000, 900)
    assert form.fields["key"] == "incoming/P00001/u1_a.csv" and form.fields["Content-Type"] == "text/csv"
