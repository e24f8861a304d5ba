"""The finance console's presigner port (issue 12): S3's (on moto) and the in-memory one both hand
out a URL for exactly the key asked, answered as an attachment under the given file name and
valid for the given time; S3's URL is signed and downloads the object."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, unquote, urlparse

import boto3
import pytest
import requests
from loyalty.adapters.dynamo.console import S3Presigner
from loyalty.adapters.memory.console import MemoryPresigner
from loyalty.console.ports import Presigner
from loyalty_local.cloud import REGION


@pytest.fixture(params=["memory", "s3"])
def presigner(request: pytest.FixtureRequest) -> tuple[Presigner, Callable[[str, bytes], None]]:
    if request.param == "memory":
        return MemoryPresigner("bucket"), lambda key, body: None
    s3 = boto3.client("s3", region_name=REGION)
    bucket = "contract-presign"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})

    def put(key: str, body: bytes) -> None:
        s3.put_object(Bucket=bucket, Key=key, Body=body)

    return S3Presigner(bucket, REGION), put


def test_a_url_names_the_key_the_attachment_and_the_expiry(
    presigner: tuple[Presigner, Callable[[str, bytes], None]],
) -> None:
    signer, put = presigner
    key = "payouts/2026-08/close-2026-08/pain001.xml"
    put(key, b"<Document/>")
    url = signer.presign_get(key, "payouts-2026-08.xml", expires=300)
    parsed = urlparse(url)
    assert unquote(parsed.path).endswith("/" + key)
    query = {k.lower(): v[0] for k, v in parse_qs(parsed.query).items()}
    assert "attachment" in query["response-content-disposition"]
    assert "payouts-2026-08.xml" in unquote(query["response-content-disposition"])
    assert query.get("x-amz-expires", query.get("x-expires")) == "300"


def test_the_s3_url_downloads_the_object() -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="contract-presign-get", CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket="contract-presign-get", Key="statements/P00001/2026-08.csv", Body=b"a,b\n")
    url = S3Presigner("contract-presign-get", REGION).presign_get(
        "statements/P00001/2026-08.csv", "statement.csv"
    )
    got = requests.get(url, timeout=10)
    assert got.status_code == 200 and got.content == b"a,b\n"  # (moto ignores the disposition S3 applies)
