"""Issue 9, point 18: a sale_id sent twice in one file is not silently overwritten by its later
line: the first line wins and every later one is rejected, naming the lines of both, whether
the two lines travel in one chunk or in different chunks of the upload (every row accounted for)."""

from __future__ import annotations

from decimal import Decimal

from loyalty.earning.duplicates import first_lines, line_of
from loyalty.ingest.chunks import Chunk

from tests.unit.test_accrual_service import lines, month, world
from tests.unit.test_ingest_service import KEY, errors, row, sales_csv, summary


def test_a_duplicate_in_one_chunk_is_rejected_with_both_line_numbers() -> None:
    c = world()
    c.upload(KEY, sales_csv([row("S0"), row("S1", qty=1), row("S2"), row("S1", qty=7)]))
    c.deliver()
    s = summary(c)
    assert (s["rows"], s["accepted"], s["rejected"], s["reconciled"]) == (4, 3, 1, True)
    (e,) = errors(c)
    assert (e["line"], e["column"], e["value"]) == ("5", "sale_id", "S1")
    assert e["reason"] == "duplicate sale_id S1: first on line 3, again on line 5"
    assert lines(c)["S1"].quantity == 1 and month(c).net_eur == Decimal("30.00")


def test_a_duplicate_in_a_later_chunk_is_rejected_with_both_line_numbers() -> None:
    c = world(chunk_rows=10)
    rows = [row("S1", qty=1)] + [row(f"T{i}") for i in range(12)] + [row("S1", qty=9), row("S1", qty=8)]
    rec = c.upload(KEY, sales_csv(rows))
    assert rec.chunks_total == 2  # the first line and its duplicates travel in different chunks
    c.deliver()
    s = summary(c)
    assert (s["rows"], s["accepted"], s["rejected"], s["new"], s["reconciled"]) == (15, 13, 2, 13, True)
    assert [(e["line"], e["reason"]) for e in errors(c)] == [
        ("15", "duplicate sale_id S1: first on line 2, again on line 15"),
        ("16", "duplicate sale_id S1: first on line 2, again on line 16"),
    ]
    assert lines(c)["S1"].quantity == 1 and month(c).lines == 13


def test_a_redelivered_chunk_rejects_its_duplicates_again_and_changes_nothing() -> None:
    c = world(chunk_rows=10)
    c.upload(KEY, sales_csv([row("S1", qty=1)] + [row(f"T{i}") for i in range(9)] + [row("S1", qty=2)]))
    writer = c.accruals()
    msgs = c.queue.drain()
    results = [writer.handle(Chunk.parse(m.body)) for m in msgs + msgs]
    assert [(r.accepted, r.rejected) for r in results] == [(10, 0), (0, 1), (10, 0), (0, 1)]
    assert lines(c)["S1"].quantity == 1 and month(c).lines == 10


def test_the_same_sale_id_of_two_partners_is_no_duplicate() -> None:
    c = world()
    key = "incoming/D00001/oct.csv"
    c.upload(key, sales_csv([row("S1", "P00003"), row("S1", "D00001")]))
    c.deliver()
    assert summary(c, key)["accepted"] == 2


def test_a_correction_in_a_later_file_still_replaces() -> None:
    c = world()
    c.upload(KEY, sales_csv([row("S1", qty=1)]))
    c.deliver()
    c.upload("incoming/P00001/fix.csv", sales_csv([row("S1", qty=3)]))
    (res,) = c.deliver()
    assert (res.replaced, res.rejected) == (1, 0) and lines(c)["S1"].quantity == 3


def test_line_of_a_version() -> None:
    assert line_of("2026-11-01T00:00:01.000Z~0A~abcdef12~000000042") == 42
    assert first_lines([], {}, "v") == ([], [])
