"""The splitter and the finaliser on in-memory adapters: every row ends in one place, file-level
problems give one clear error, the uploader is notified once (milliseconds, no moto)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections import Counter
from typing import Any

from loyalty.adapters.memory.container import MemoryContainer
from loyalty.ingest.chunks import Chunk
from loyalty.ingest.keys import chunk_group, report_base

from tests.conftest import RATES, REGISTRY, RULES, sales_csv

KEY = "incoming/P00001/oct.csv"


def world(**kw: Any) -> MemoryContainer:
    c = MemoryContainer(**kw)
    c.load("rules/default-program.yaml", RULES)
    c.load("registry/partners.csv", REGISTRY)
    c.load("rates/fx.csv", RATES)
    c.notifier.published.clear()
    return c


def row(sale_id: str, partner: str = "P00001", qty: int = 1, price: str = "10.00", **kw: str) -> list[Any]:
    return [
        sale_id,
        partner,
        kw.get("sold_at", "2026-10-02"),
        kw.get("sku", "SKU-1"),
        qty,
        price,
        kw.get("currency", "EUR"),
        kw.get("category", ""),
        kw.get("customer", ""),
        kw.get("original", ""),
    ]


def summary(c: MemoryContainer, key: str = KEY) -> dict[str, Any]:
    return json.loads(c.blobs.get(report_base(key) + ".summary.json"))  # type: ignore[no-any-return]


def errors(c: MemoryContainer, key: str = KEY) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(c.blobs.get(report_base(key) + ".errors.csv").decode())))


def test_every_row_is_accepted_or_rejected_and_the_counts_reconcile() -> None:
    c = world()
    rows = [row(f"S{i}") for i in range(5)] + [row("S9", qty=0), row("S10", "P00002"), row("", price="x")]
    rec = c.upload(KEY, sales_csv(rows))
    assert (rec.rows, rec.accepted, rec.rejected) == (8, 5, 3)
    c.deliver()
    s = summary(c)
    assert (s["rows"], s["accepted"], s["rejected"], s["reconciled"]) == (8, 5, 3, True)
    assert sorted(int(e["line"]) for e in errors(c)) == [7, 8, 9]


def test_a_partner_cannot_create_sales_for_another() -> None:
    c = world()
    c.upload(KEY, sales_csv([row("S1", "P00003")]))
    c.deliver()
    (e,) = errors(c)
    assert e["column"] == "partner_id" and "may not create sales" in e["reason"]


def test_a_distributor_writes_for_registered_partners_only() -> None:
    c = world()
    key = "incoming/D00001/oct.csv"
    rec = c.upload(key, sales_csv([row("S1", "P00003"), row("S2", "P99999"), row("S3", "P00001")]))
    assert (rec.accepted, rec.rejected) == (1, 2)
    c.deliver()
    reasons = {e["value"]: e["reason"] for e in errors(c, key)}
    assert "not in the registry" in reasons["P99999"]
    assert "may not create sales" in reasons["P00001"]
    assert summary(c, key)["partners"] == {
        "P00003": {"rows": 1, "net_eur": "10.00", "commission_eur": "0.20"}
    }


def test_unknown_uploader_is_a_file_error_with_one_notification() -> None:
    c = world()
    key = "incoming/P55555/oct.csv"
    rec = c.upload(key, sales_csv([row("S1", "P55555")]))
    assert rec.file_error_code == "unknown_uploader" and rec.chunks_total == 0
    s = summary(c, key)
    assert s["status"] == "rejected" and s["file_error"]["code"] == "unknown_uploader"
    assert len(c.notifier.of_type("upload_processed")) == 1
    assert c.queue.drain() == []


def test_too_large_a_file_is_refused_before_reading_it() -> None:
    c = world(max_upload_bytes=100)
    rec = c.upload(KEY, sales_csv([row(f"S{i}") for i in range(10)]))
    assert rec.file_error_code == "too_large" and "limit is 100 bytes" in rec.file_error


def test_header_only_file_is_no_rows() -> None:
    c = world()
    rec = c.upload(KEY, sales_csv([]))
    assert rec.file_error_code == "no_rows"
    assert summary(c)["reconciled"] is True


def test_wrong_headers_and_binary_files_are_file_errors() -> None:
    c = world()
    assert c.upload(KEY, b"foo,bar\n1,2\n").file_error_code == "missing_columns"
    assert c.upload("incoming/P00001/bin.csv", b"\x00\x01\x02PK\x03\x04").file_error_code == "not_csv"


def test_bad_object_key_is_a_file_error() -> None:
    c = world()
    key = "incoming/P00001/sub/oct.csv"
    rec = c.upload(key, sales_csv([row("S1")]))
    assert rec.file_error_code == "bad_key" and rec.uploader == ""
    assert summary(c, key)["status"] == "rejected"


def test_a_duplicate_s3_event_splits_nothing_again() -> None:
    c = world()
    c.blobs.put(KEY, sales_csv([row("S1"), row("S2")]), "text/csv")
    event = c.s3_object(KEY)
    first = c.ingest().handle(event)
    again = c.ingest().handle(event)
    assert again.upload_id == first.upload_id and again.state == "split"
    assert len(c.queue.drain()) == 1


def test_rows_of_one_partner_share_a_message_group_and_keep_their_order() -> None:
    c = world(chunk_rows=10, chunk_groups=7)
    key = "incoming/D00001/many.csv"
    dist = c.store.get_partner("D00001")
    assert dist is not None
    c.store.put_partners([dataclasses.replace(dist, distributor_for=("P00001", "P00002", "P00003"))])
    rows = [row(f"S{i:03d}", ("P00001", "P00002", "P00003")[i % 3]) for i in range(95)]
    rec = c.upload(key, sales_csv(rows))
    msgs = c.queue.drain()
    assert rec.chunks_total == len(msgs) and rec.accepted == 95
    seen: dict[str, list[str]] = {}
    for m in msgs:
        chunk = Chunk.parse(m.body)
        assert len(chunk.block) <= 10
        for p, s in zip(chunk.block.partner_id, chunk.block.sale_id, strict=True):
            assert m.group == f"g{chunk_group(p, 7):04d}"
            seen.setdefault(p, []).append(s)
    for p, sales in seen.items():
        assert sales == sorted(sales) and len(sales) == Counter(r[1] for r in rows)[p]


def test_chunks_are_at_most_chunk_rows_and_carry_every_row_once() -> None:
    c = world(chunk_rows=10, chunk_groups=1)
    rec = c.upload(KEY, sales_csv([row(f"S{i:03d}") for i in range(57)]))
    msgs = c.queue.drain()
    sizes = [len(Chunk.parse(m.body).block) for m in msgs]
    assert sizes == [10, 10, 10, 10, 10, 7] and rec.chunks_total == 6
    assert len({m.dedup_id for m in msgs}) == 6


def test_the_finaliser_notifies_once_when_the_last_chunk_is_written() -> None:
    c = world(chunk_rows=10, chunk_groups=1)
    c.upload(KEY, sales_csv([row(f"S{i:03d}") for i in range(25)]))
    msgs = c.queue.drain()
    writer = c.accruals()
    writer.handle(Chunk.parse(msgs[0].body))
    writer.handle(Chunk.parse(msgs[1].body))
    assert c.notifier.of_type("upload_processed") == []
    writer.handle(Chunk.parse(msgs[2].body))
    writer.handle(Chunk.parse(msgs[2].body))  # the last chunk redelivered
    (note,) = c.notifier.of_type("upload_processed")
    assert note.message["accepted"] == 25 and note.attributes["partner"] == "P00001"


def test_finalizer_waits_for_every_chunk_result() -> None:
    c = world(chunk_rows=10, chunk_groups=1)
    rec = c.upload(KEY, sales_csv([row(f"S{i:03d}") for i in range(15)]))
    assert c.finalizer().finalize(c.store.get_upload(rec.upload_id)) is None  # type: ignore[arg-type]
    c.deliver()
    done = c.store.get_upload(rec.upload_id)
    assert done is not None and done.notified
    again = c.finalizer().finalize(done)  # a late call rewrites the summary, notifies nobody
    assert again is not None and again["accepted"] == 15
    assert len(c.notifier.of_type("upload_processed")) == 1


def test_errors_of_splitter_and_writer_merge_into_one_report_by_line() -> None:
    c = world()
    rows = [row("S1", currency="JPY"), row("S2", qty=0), row("S3", currency="USD", sold_at="2026-08-01")]
    c.upload(KEY, sales_csv(rows))
    c.deliver()
    lines = [int(e["line"]) for e in errors(c)]
    assert lines == sorted(lines) and len(lines) == summary(c)["rejected"] >= 2
