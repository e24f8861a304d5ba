"""The splitter's pure chunking rules: routing rows to partner groups, cutting chunks, buffering."""

from __future__ import annotations

import json
from decimal import Decimal

from loyalty.ingest.chunking import GroupBuffers, chunk_message, cut, route
from loyalty.ingest.keys import chunk_group
from loyalty.ingest.sales.block import SaleBlock
from loyalty.ingest.sales.contract import SaleRow


def block(partners: list[str], start: int = 0) -> SaleBlock:
    return SaleBlock.from_rows(
        [
            SaleRow(start + i + 2, f"S{start + i}", p, "2026-10-01", "SKU", 1, Decimal(1), "EUR", "", "", "")
            for i, p in enumerate(partners)
        ]
    )


def test_route_keeps_each_partner_in_its_group_in_file_order() -> None:
    b = block(["A", "B", "A", "C", "B"])
    routed = route(b, 1000)
    assert set(routed) == {chunk_group(p, 1000) for p in "ABC"}
    assert list(routed[chunk_group("A", 1000)].sale_id) == ["S0", "S2"]
    assert list(routed) == list(dict.fromkeys(chunk_group(p, 1000) for p in "ABCB"))


def test_route_to_one_group_is_the_whole_block() -> None:
    (only,) = route(block(["A", "B"]), 1).values()
    assert list(only.sale_id) == ["S0", "S1"]


def test_cut_full_chunks_and_the_rest() -> None:
    assert cut(25, 10, everything=False).slices == [(0, 10), (10, 20)]
    assert cut(25, 10, everything=False).sent == 20
    assert cut(25, 10, everything=True).slices == [(0, 10), (10, 20), (20, 25)]
    assert cut(7, 10, everything=False).slices == [] and cut(0, 10, everything=True).sent == 0


def test_buffers_send_a_group_when_it_fills_and_keep_the_rest() -> None:
    buf = GroupBuffers(chunk_rows=3, bound=100)
    assert buf.add({1: block(["A", "A"])}) == []
    out = buf.add({1: block(["A", "A"], start=2)})
    assert [(o.group, list(o.block.sale_id)) for o in out] == [(1, ["S0", "S1", "S2"])]
    assert buf.buffered == 1
    rest = buf.drain()
    assert [(o.group, list(o.block.sale_id)) for o in rest] == [(1, ["S3"])] and buf.buffered == 0


def test_buffers_past_their_bound_send_the_fullest_groups_whole() -> None:
    buf = GroupBuffers(chunk_rows=10, bound=6)
    out = buf.add({1: block(["A"] * 4), 2: block(["B"] * 2, start=4), 3: block(["C"], start=6)})
    assert [(o.group, len(o.block)) for o in out] == [(1, 4), (2, 2), (3, 1)]
    assert buf.buffered == 0 and buf.drain() == []


def test_drain_sends_groups_in_group_order() -> None:
    buf = GroupBuffers(chunk_rows=10, bound=100)
    buf.add({5: block(["A"]), 2: block(["B"], start=1)})
    assert [o.group for o in buf.drain()] == [2, 5]


def test_chunk_message_names_group_and_dedup_id() -> None:
    m = chunk_message("u1", "incoming/A/x.csv", "A", "v", 7, 12, block(["A"]))
    assert (m.group, m.dedup_id) == ("g0007", "u1-0007-000012")
    body = json.loads(m.body)
    assert body["chunk_id"] == "0007-000012" and body["rows"]["sale_id"] == ["S0"]
