"""The analytics objects port: the S3 adapter (moto) and the in-memory one behave alike, and the
facts of chosen periods come down to a folder DuckDB reads."""

from __future__ import annotations

import itertools
from pathlib import Path

import boto3
import pytest
from loyalty.adapters.facts_s3 import S3Facts
from loyalty.adapters.memory.facts import MemoryFacts
from loyalty.analytics.files import download_facts
from loyalty.analytics.ports import FactsFiles
from loyalty.analytics.schema import LINE_MONTH, PARTNER_MONTH
from loyalty.kernel.ports import MissingBlob
from loyalty_local.cloud import REGION

_n = itertools.count(1)


@pytest.fixture(params=["memory", "s3"])
def files(request: pytest.FixtureRequest) -> FactsFiles:
    if request.param == "memory":
        return MemoryFacts()
    bucket = f"contract-facts-{next(_n)}"
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return S3Facts(bucket, REGION)


def test_keys_are_listed_by_prefix_sorted_and_complete(files: FactsFiles) -> None:
    prefix = PARTNER_MONTH.partition("2026-10")
    for i in reversed(range(3)):
        files.put(f"{prefix}part-{i:05d}.parquet", b"x" * i, "application/vnd.apache.parquet")
    files.put(PARTNER_MONTH.partition("2026-09") + "part-00000.parquet", b"y", "application/octet-stream")
    assert files.keys(prefix) == [f"{prefix}part-{i:05d}.parquet" for i in range(3)]
    assert files.get(f"{prefix}part-00002.parquet") == b"xx"


def test_delete_removes_and_repeating_it_is_harmless(files: FactsFiles) -> None:
    key = LINE_MONTH.part_key("2026-10", 4)
    files.put(key, b"p", "application/octet-stream")
    files.delete(key)
    files.delete(key)
    assert files.keys(LINE_MONTH.partition("2026-10")) == []
    with pytest.raises(MissingBlob):
        files.get(key)


def test_download_copies_only_the_asked_periods(files: FactsFiles, tmp_path: Path) -> None:
    for period in ("2026-08", "2026-09", "2026-10"):
        files.put(PARTNER_MONTH.part_key(period, 0), period.encode(), "application/octet-stream")
        files.put(LINE_MONTH.part_key(period, 0), b"L" + period.encode(), "application/octet-stream")
    files.put(PARTNER_MONTH.partition("2026-10") + "notes.txt", b"not parquet", "text/plain")
    copied = download_facts(files, ["2026-10", "2026-09", "2026-10"], tmp_path)
    assert copied == 2 * 7 + 2 * 8
    got = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert got == sorted(
        [
            PARTNER_MONTH.part_key("2026-09", 0),
            PARTNER_MONTH.part_key("2026-10", 0),
            LINE_MONTH.part_key("2026-09", 0),
            LINE_MONTH.part_key("2026-10", 0),
        ]
    )
    assert (tmp_path / PARTNER_MONTH.part_key("2026-10", 0)).read_bytes() == b"2026-10"
