"""How the splitter cuts validated rows into chunk messages, as pure functions and a buffer that
only computes (no I/O; the splitter sends what it returns).

- `route`: a block's rows by FIFO message group (every row of a partner in its partner's group,
  in file order): corrections, returns and their originals never race.
- `cut`: which slices of a group's buffered rows go out as chunks of `chunk_rows`.
- `GroupBuffers`: rows wait per group until a chunk is full; past a memory bound the fullest
  groups are sent whole; at the end every group is sent.
- `chunk_message`: the FIFO message of one chunk (body, group, deduplication id).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

from loyalty.ingest.keys import chunk_group
from loyalty.ingest.ports import QueueMessage
from loyalty.ingest.sales.block import SaleBlock, concat

FLUSH_FULLEST = 8  # groups sent whole when the buffers pass their bound


def route(block: SaleBlock, groups: int) -> dict[int, SaleBlock]:
    """The block's rows per message group, groups in order of first appearance, rows in order."""
    gid_of = {p: chunk_group(p, groups) for p in set(block.partner_id)}
    order: dict[int, list[int]] = defaultdict(list)
    for i, p in enumerate(block.partner_id):
        order[gid_of[p]].append(i)
    return {
        g: SaleBlock(*([getattr(block, f)[i] for i in idx] for f in SaleBlock.__slots__))  # type: ignore[attr-defined]
        for g, idx in order.items()
    }


@dataclass(frozen=True)
class Cut:
    slices: list[tuple[int, int]]  # (start, stop) of each chunk to send
    sent: int  # rows sent; the rest stays buffered


def cut(rows: int, chunk_rows: int, everything: bool) -> Cut:
    """Full chunks of `chunk_rows` (and, if `everything`, a last shorter one)."""
    full = rows if everything else rows - rows % chunk_rows
    return Cut([(s, min(s + chunk_rows, full)) for s in range(0, full, chunk_rows)], full)


@dataclass(frozen=True)
class Outgoing:
    group: int
    block: SaleBlock


@dataclass
class GroupBuffers:
    """Rows waiting per message group; `add` and `drain` return the chunks to send, in order."""

    chunk_rows: int
    bound: int  # buffered rows past which the fullest groups are sent whole
    blocks: dict[int, list[SaleBlock]] = field(default_factory=lambda: defaultdict(list))
    fill: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    buffered: int = 0

    def add(self, routed: dict[int, SaleBlock]) -> list[Outgoing]:
        out: list[Outgoing] = []
        for g, part in routed.items():
            self.blocks[g].append(part)
            self.fill[g] += len(part)
            self.buffered += len(part)
            if self.fill[g] >= self.chunk_rows:
                out += self._flush(g, everything=False)
        if self.buffered >= self.bound:  # bound memory: send the fullest groups whole
            for g in sorted(self.fill, key=self.fill.__getitem__, reverse=True)[:FLUSH_FULLEST]:
                out += self._flush(g, everything=True)
        return out

    def drain(self) -> list[Outgoing]:
        out: list[Outgoing] = []
        for g in sorted(self.blocks):
            out += self._flush(g, everything=True)
        return out

    def _flush(self, g: int, everything: bool) -> list[Outgoing]:
        block = concat(self.blocks.pop(g))
        n = len(block)
        c = cut(n, self.chunk_rows, everything)
        self.buffered -= c.sent
        if c.sent < n:
            self.blocks[g] = [block.slice(c.sent, n)]
            self.fill[g] = n - c.sent
        else:
            self.fill.pop(g, None)
        return [Outgoing(g, block.slice(a, b)) for a, b in c.slices]


def chunk_message(
    upload_id: str, key: str, uploader: str, version: str, group: int, seq: int, block: SaleBlock
) -> QueueMessage:
    """Chunk `seq` of an upload: deduplicated by (upload, group, seq), grouped by `group`."""
    body = {
        "upload_id": upload_id,
        "chunk_id": f"{group:04d}-{seq:06d}",
        "key": key,
        "uploader": uploader,
        "version": version,
        "rows": block.to_wire(),
    }
    return QueueMessage(
        body=json.dumps(body, separators=(",", ":")),
        group=f"g{group:04d}",
        dedup_id=f"{upload_id}-{group:04d}-{seq:06d}",
    )
