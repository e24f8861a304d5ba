"""Issue 9, point 17: a blob is read in exactly the version its S3 event names (by version id,
checked against the ETag; or by the ETag alone), never the newer content of an overwritten key;
a version that is no longer stored is a clear `StaleBlob`. Both adapters, a versioned bucket on moto."""

from __future__ import annotations

import hashlib
import itertools

import boto3
import pytest
from loyalty.adapters.memory.kernel import MemoryBlobs
from loyalty.adapters.s3sqs import S3Blobs
from loyalty.kernel.ports import StaleBlob
from loyalty_local.cloud import REGION

_n = itertools.count(1)


class Versioned:
    """A versioned bucket's blobs and the (version id, ETag) of each put, as S3 events name them."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        if kind == "memory":
            self.blobs: MemoryBlobs | S3Blobs = MemoryBlobs()
            return
        bucket = f"versioned-{next(_n)}"
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
        self.s3, self.bucket = s3, bucket
        self.blobs = S3Blobs(bucket, REGION)

    def put(self, key: str, body: bytes) -> tuple[str, str]:
        if isinstance(self.blobs, MemoryBlobs):
            self.blobs.put(key, body, "text/csv")
            return self.blobs.latest_version(key)
        r = self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
        return r["VersionId"], r["ETag"].strip('"')


@pytest.fixture(params=["memory", "s3"])
def versioned(request: pytest.FixtureRequest) -> Versioned:
    return Versioned(request.param)


def test_each_version_is_read_as_its_event_names_it(versioned: Versioned) -> None:
    v1, e1 = versioned.put("incoming/P1/a.csv", b"first")
    v2, e2 = versioned.put("incoming/P1/a.csv", b"second, overwritten")
    b = versioned.blobs
    assert b.open_version("incoming/P1/a.csv", v1, e1).read() == b"first"
    assert b.open_version("incoming/P1/a.csv", v2, e2).read() == b"second, overwritten"
    assert b.open_version("incoming/P1/a.csv", v1, "").read() == b"first"
    # an event without a version id: the version with that ETag, not the latest
    assert b.open_version("incoming/P1/a.csv", "", e1).read() == b"first"
    assert e1 == hashlib.md5(b"first", usedforsecurity=False).hexdigest()


def test_a_version_that_is_gone_or_does_not_match_is_stale(versioned: Versioned) -> None:
    v1, e1 = versioned.put("incoming/P1/b.csv", b"first")
    _, e2 = versioned.put("incoming/P1/b.csv", b"second")
    b = versioned.blobs
    with pytest.raises(StaleBlob):
        b.open_version("incoming/P1/b.csv", v1, e2)  # the version is not the one with that ETag
    with pytest.raises(StaleBlob):
        b.open_version("incoming/P1/b.csv", "", "0" * 32)
    with pytest.raises(StaleBlob):
        b.open_version("incoming/P1/none.csv", "", e1)
