"""The console's read model of a proposal (issue 12, points 3 and 9): built once from the run's
review files (verified against the proposal digest), then every page reads the index and at most
a few shards - never the whole proposal of a 10 000-partner close."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal

import pytest
from loyalty.adapters.memory.kernel import MemoryBlobs
from loyalty.close.batches import RunFiles, batch_key, part_key
from loyalty.close.header import CloseMeta
from loyalty.close.review import CloseLine
from loyalty.close.runs import CloseStatus
from loyalty.console.index import SHARD, ConsoleError, ProposalIndex, decode_cursor, encode_cursor

PERIOD, RUN = "2026-10", "close-2026-10"
PREFIX = f"close/{PERIOD}/{RUN}/"


class CountingBlobs(MemoryBlobs):
    def __init__(self) -> None:
        super().__init__()
        self.reads: Counter[str] = Counter()

    def get(self, key: str) -> bytes:
        self.reads[key] += 1
        return super().get(key)


def line(i: int) -> CloseLine:
    """Partner i: every third is held (below the minimum), every seventh has an anomaly, every
    eleventh carries a negative balance; the rest are paid i + 0.01 EUR."""
    ln = CloseLine(f"P{i:05d}", PERIOD, RUN, name=f"Partner {i}", segment="smb", tier_after="Silver")
    if i % 11 == 0:
        ln.carried_out = Decimal("-12.34")
        ln.payout_reason = "negative balance (returns after payout) is recovered from later payouts"
    elif i % 3 == 0:
        ln.matured_now = ln.carried_out = Decimal("10.05")
        ln.payout_reason = "below the EUR 50 minimum"
    else:
        ln.matured_now = ln.payout = Decimal(i) + Decimal("0.01")
        ln.payout_reason = "balance >= minimum 50"
    if i % 7 == 0:
        ln.anomalies = [f"payout of P{i:05d} is over 3x the 6-month average"]
    return ln


def proposal(blobs: MemoryBlobs, partners: int, batch: int = 250) -> CloseMeta:
    """A run's review files (as the Review step writes them) and its header after Propose."""
    files = RunFiles(blobs)
    keys = []
    for n, start in enumerate(range(0, partners, batch)):
        key = batch_key(PREFIX, n)
        keys.append({"batch": key})
        files.put_review(key, [line(i) for i in range(start, min(start + batch, partners))])
        for part in ("bank", "program"):
            blobs.put(part_key(key, part), b"[]", "application/json")
    manifest = f"{PREFIX}manifest.json"
    blobs.put(manifest, json.dumps(keys).encode(), "application/json")
    digest = files.write_digests(PREFIX, manifest)
    meta = CloseMeta(PERIOD, CloseStatus.AWAITING_APPROVAL, RUN, manifest=manifest, proposal_digest=digest)
    meta.proposal = f"{PREFIX}proposal.json"
    return meta


def test_payees_page_by_amount_across_shards_reading_only_what_the_page_needs() -> None:
    blobs = CountingBlobs()
    meta = proposal(blobs, 1000)
    index = ProposalIndex(blobs).index(meta)
    payees = [i for i in range(1000) if i % 11 and i % 3]
    assert index.sizes["payouts-amount"] == len(payees)
    blobs.reads.clear()
    seen, offset, pages = [], 0, 0
    reader = ProposalIndex(blobs)
    while True:
        got = reader.slice(reader.index(meta), "payouts-amount", offset, 200)
        pages += 1
        seen += [r["partner_id"] for r in got.rows]
        if got.next_offset is None:
            break
        offset = got.next_offset
    assert seen == [f"P{i:05d}" for i in sorted(payees, reverse=True)]  # largest first, each once
    assert not [k for k in blobs.reads if "/review/" in k]  # no review file read to serve a page
    shard_reads = sum(n for k, n in blobs.reads.items() if "/payouts-amount/" in k)
    assert shard_reads <= pages * (200 // SHARD + 1)


def test_figures_eligible_held_and_negative_to_the_cent() -> None:
    blobs = MemoryBlobs()
    index = ProposalIndex(blobs).index(proposal(blobs, 100))
    f = index.figures
    paid = [i for i in range(100) if i % 11 and i % 3]
    held = [i for i in range(100) if i % 11 and not i % 3]
    assert f["eligible"] == len(paid) and Decimal(f["eligible_total"]) == sum(
        Decimal(i) + Decimal("0.01") for i in paid
    )
    assert f["held"] == len(held) and Decimal(f["held_total"]) == Decimal("10.05") * len(held)
    assert f["negative"] == 10 and Decimal(f["negative_total"]) == Decimal("-123.40")
    assert f["anomalies"] == len(range(0, 100, 7))


def test_a_partners_line_is_one_review_file_away() -> None:
    blobs = CountingBlobs()
    meta = proposal(blobs, 1000)
    reader = ProposalIndex(blobs)
    index = reader.index(meta)
    blobs.reads.clear()
    found = reader.line(meta, index, "P00777")
    assert found is not None and found.partner_id == "P00777"
    assert [k for k in blobs.reads if "/review/" in k] == [part_key(batch_key(PREFIX, 3), "review")]
    assert reader.line(meta, index, "P99999") is None and reader.line(meta, index, "A0") is None


def test_a_review_file_changed_after_the_proposal_is_never_shown() -> None:
    blobs = MemoryBlobs()
    meta = proposal(blobs, 10)
    key = part_key(batch_key(PREFIX, 0), "review")
    lines = json.loads(blobs.get(key))
    lines[1]["payout"] = "99999.00"
    blobs.put(key, json.dumps(lines).encode(), "application/json")
    with pytest.raises(ConsoleError) as refused:
        ProposalIndex(blobs).index(meta)
    assert refused.value.status == 409 and "changed after the proposal" in str(refused.value)


def test_no_proposal_yet_is_a_conflict() -> None:
    meta = CloseMeta(PERIOD, CloseStatus.FROZEN, RUN)
    with pytest.raises(ConsoleError) as refused:
        ProposalIndex(MemoryBlobs()).index(meta)
    assert refused.value.status == 409


def test_cursors_are_opaque_and_bound_to_their_run() -> None:
    assert decode_cursor(encode_cursor(RUN, 200), RUN) == 200
    assert decode_cursor(None, RUN) == 0
    for bad in ("garbage!", "e30", encode_cursor(RUN, -5)):
        with pytest.raises(ConsoleError) as refused:
            decode_cursor(bad, RUN)
        assert refused.value.status == 400
    with pytest.raises(ConsoleError) as stale:
        decode_cursor(encode_cursor("close-2026-10-r2", 200), RUN)
    assert stale.value.status == 409
