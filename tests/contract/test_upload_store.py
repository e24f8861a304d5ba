"""Contract of the UploadStore port: uploads and their chunk results, in memory and on DynamoDB."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from loyalty.ingest.records import ChunkResult, UploadRecord


def upload(upload_id: str = "u1", **kw: Any) -> UploadRecord:
    return UploadRecord(upload_id, f"incoming/P00001/{upload_id}.csv", "P00001", "v1", **kw)


def result(chunk_id: str, rows: int = 3, net: str = "10.50") -> ChunkResult:
    return ChunkResult(
        chunk_id,
        rows,
        rows - 1,
        1,
        rows - 1,
        0,
        0,
        0,
        Decimal(net),
        Decimal("0.21"),
        issues_key=f"parts/{chunk_id}.csv",
        partners={"P00001": [net, "0.21", str(rows - 1)]},
        late={"2026-09": 1},
    )


def test_missing_upload_is_none(store: Any) -> None:
    assert store.get_upload("nope") is None
    assert store.chunk_results("nope") == []
    assert store.mark_notified("nope") is False
    assert store.latest_upload_for_key("incoming/P00001/x.csv") is None


def test_create_then_get_round_trips(store: Any) -> None:
    rec = upload(rows=5, ignored_columns=["extra"], created_at="2026-10-01T00:00:00Z")
    assert store.create_upload(rec) == rec
    got = store.get_upload("u1")
    assert got == rec
    assert store.latest_upload_for_key(rec.key) == "u1"


def test_create_twice_returns_the_first(store: Any) -> None:
    store.create_upload(upload(rows=5))
    again = store.create_upload(upload(rows=99))
    assert again.rows == 5
    assert store.get_upload("u1").rows == 5


def test_save_updates_data_and_state(store: Any) -> None:
    rec = store.create_upload(upload())
    rec.state, rec.rows, rec.chunks_total, rec.file_error = "split", 7, 2, ""
    store.save_upload(rec)
    got = store.get_upload("u1")
    assert (got.state, got.rows, got.chunks_total) == ("split", 7, 2)


def test_mark_notified_is_true_once(store: Any) -> None:
    store.create_upload(upload())
    assert store.mark_notified("u1") is True
    assert store.mark_notified("u1") is False
    assert store.get_upload("u1").notified is True


def test_save_does_not_reset_notified_nor_finished_chunks(store: Any) -> None:
    rec = store.create_upload(upload())
    store.put_chunk_result("u1", result("0001-000001"))
    store.mark_notified("u1")
    rec.state = "done"
    store.save_upload(rec)  # rec still says notified=False, no chunks done
    got = store.get_upload("u1")
    assert got.notified is True and got.chunks_done == 1 and got.state == "done"


def test_chunk_result_counts_once_and_round_trips(store: Any) -> None:
    store.create_upload(upload())
    store.put_chunk_result("u1", result("0002-000002"))
    store.put_chunk_result("u1", result("0001-000001"))
    store.put_chunk_result("u1", result("0002-000002"))  # redelivery
    got = store.get_upload("u1")
    assert got.chunks_done == 2
    assert store.chunk_results("u1") == [result("0001-000001"), result("0002-000002")]


def test_a_redelivered_chunk_result_replaces_the_stored_one(store: Any) -> None:
    store.create_upload(upload())
    store.put_chunk_result("u1", result("0001-000001", net="1.00"))
    store.put_chunk_result("u1", result("0001-000001", net="2.00"))
    assert [r.net_eur for r in store.chunk_results("u1")] == [Decimal("2.00")]


def test_chunk_results_before_the_upload_is_registered(store: Any) -> None:
    """A chunk written before the split saved its record: the upload is not visible yet, and
    the finished chunk counts once it is."""
    store.put_chunk_result("u1", result("0001-000001"))
    assert store.get_upload("u1") is None
    store.save_upload(upload(state="split", chunks_total=1))
    got = store.get_upload("u1")
    assert got.chunks_done == 1 and got.state == "split"
