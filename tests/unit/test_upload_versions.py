"""Issue 9, point 17 on the in-memory adapters: the splitter reads exactly the object version of
its S3 event; an overwrite between the event and the read is its own upload, nothing is lost or
mixed; a version that is no longer stored is a clear file error, never the newer content."""

from __future__ import annotations

import dataclasses

from tests.unit.test_accrual_service import lines, world
from tests.unit.test_ingest_service import KEY, row, sales_csv, summary


def test_an_overwrite_between_event_and_read_is_its_own_upload() -> None:
    c = world()
    c.blobs.put(KEY, sales_csv([row("OLD1"), row("OLD2")]), "text/csv")
    first = c.s3_object(KEY)
    c.blobs.put(KEY, sales_csv([row("NEW1")]), "text/csv")  # overwritten before the splitter reads
    second = c.s3_object(KEY)
    a = c.ingest().handle(first)
    c.deliver()
    b = c.ingest().handle(second)
    c.deliver()
    assert (a.rows, b.rows) == (2, 1)
    got = {s.sale_id: s.source.split(":")[0] for s in lines(c).values()}
    assert got == {"OLD1": a.upload_id, "OLD2": a.upload_id, "NEW1": b.upload_id}


def test_a_version_no_longer_stored_is_a_file_error_not_the_newer_content() -> None:
    c = world()
    c.blobs.put(KEY, sales_csv([row("OLD1")]), "text/csv")
    gone = dataclasses.replace(c.s3_object(KEY), version_id="v-deleted")
    rec = c.ingest().handle(gone)
    assert (rec.file_error_code, rec.rows, rec.accepted) == ("stale_version", 0, 0)
    assert summary(c)["file_error"]["code"] == "stale_version" and lines(c) == {}
