"""Poison messages on in-memory adapters: rows accounted, the upload still reconciles."""

from __future__ import annotations

import json

from loyalty.adapters.memory.container import MemoryContainer
from loyalty.ingest.chunks import Chunk
from loyalty.ingest.dead_letters import DeadLetter

from tests.conftest import RATES, REGISTRY, RULES, sales_csv
from tests.unit.test_ingest_service import KEY, row, summary


def world() -> MemoryContainer:
    c = MemoryContainer(chunk_rows=10, chunk_groups=1)
    c.load("rules/default-program.yaml", RULES)
    c.load("registry/partners.csv", REGISTRY)
    c.load("rates/fx.csv", RATES)
    c.notifier.published.clear()
    return c


def test_a_poison_chunk_rejects_its_rows_and_the_upload_reconciles() -> None:
    c = world()
    c.upload(KEY, sales_csv([row(f"S{i:02d}") for i in range(15)]))
    good, poison = c.queue.drain()
    c.accruals().handle(Chunk.parse(good.body))
    out = c.dlq().handle(DeadLetter("arn:dlq", "m-1", poison.body, 5))
    assert out["kind"] == "chunk" and out["rows"] == 5
    s = summary(c)
    assert (s["rows"], s["accepted"], s["rejected"], s["reconciled"]) == (15, 10, 5, True)
    assert len(c.notifier.of_type("upload_processed")) == 1
    (alert,) = c.ops_notifier.of_type("poison_message")
    assert alert.message["report_key"] == out["report_key"]
    assert json.loads(c.blobs.get(out["report_key"]))["body"] == poison.body


def test_a_failed_s3_event_gives_the_upload_a_file_error() -> None:
    c = world()
    body = {
        "Records": [
            {"s3": {"bucket": {"name": "b"}, "object": {"key": "incoming/P00001/oct+2026.csv", "eTag": "e"}}}
        ]
    }
    out = c.dlq().handle(DeadLetter("arn:dlq", "m-2", json.dumps(body), 3))
    assert out["keys"] == ["incoming/P00001/oct 2026.csv"]
    s = summary(c, "incoming/P00001/oct 2026.csv")
    assert s["file_error"]["code"] == "processing_failed"
    assert len(c.notifier.of_type("upload_processed")) == 1


def test_unreadable_and_unknown_bodies_are_kept_and_reported() -> None:
    c = world()
    assert c.dlq().handle(DeadLetter("arn:dlq", "m-3", "{broken", 1))["kind"] == "unreadable"
    assert c.dlq().handle(DeadLetter("arn:dlq", "m-4", '{"a": 1}', 1))["kind"] == "unknown"
    assert len(c.ops_notifier.of_type("poison_message")) == 2
    assert c.notifier.published == []
