"""The files a close run keeps between its steps (`close/<period>/<run>/`): batches of partners
that the Distributed Map hands to the review, pay and statements steps, each batch's review
(proposed close lines) and the payments a pay batch committed."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from loyalty.close.review import CloseLine
from loyalty.kernel.ports import BlobStore
from loyalty.program.registry import Partner

JSON = "application/json"


@dataclass(frozen=True)
class BatchPartner:
    """What the review needs of a partner's profile (no contact or bank data)."""

    partner_id: str
    name: str
    segment: str
    certified: Mapping[str, int]
    has_bank: bool
    starting_tier: str

    @classmethod
    def of(cls, p: Partner) -> BatchPartner:
        return cls(p.partner_id, p.name, p.segment, p.certifications, bool(p.iban), p.starting_tier)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.partner_id,
            "name": self.name,
            "segment": self.segment,
            "certified": dict(self.certified),
            "has_bank": self.has_bank,
            "starting_tier": self.starting_tier,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> BatchPartner:
        return cls(d["id"], d["name"], d["segment"], d["certified"], d["has_bank"], d["starting_tier"])


@dataclass(frozen=True)
class PaymentRow:
    """A payout committed by a pay batch, for the bank files."""

    partner_id: str
    name: str
    amount: Decimal

    def to_json(self) -> dict[str, Any]:
        return {"partner_id": self.partner_id, "name": self.name, "amount": str(self.amount)}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> PaymentRow:
        return cls(d["partner_id"], d["name"], Decimal(d["amount"]))


def batch_key(prefix: str, index: int) -> str:
    return f"{prefix}batches/{index:05d}.json"


def part_key(batch: str, part: str) -> str:
    """`.../batches/00001.json` -> `.../<part>/00001.json` (review, pay)."""
    return batch.replace("/batches/", f"/{part}/")


class RunFiles:
    """Reads and writes a run's batch files through the blob store."""

    def __init__(self, blobs: BlobStore) -> None:
        self.blobs = blobs

    def _put(self, key: str, items: Iterable[Any]) -> None:
        self.blobs.put(key, json.dumps(list(items)).encode(), JSON)

    def _get(self, key: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = json.loads(self.blobs.get(key))
        return items

    def write_plan(self, prefix: str, partners: Iterable[Partner], size: int) -> tuple[str, int, int]:
        """Partners in batches of `size` (at least one batch, maybe empty) and the manifest."""
        keys: list[str] = []
        batch: list[BatchPartner] = []
        total = 0
        for p in partners:
            batch.append(BatchPartner.of(p))
            total += 1
            if len(batch) >= size:
                keys.append(self._flush(prefix, len(keys), batch))
        if batch or not keys:
            keys.append(self._flush(prefix, len(keys), batch))
        manifest = f"{prefix}manifest.json"
        self._put(manifest, ({"batch": k} for k in keys))
        return manifest, total, len(keys)

    def _flush(self, prefix: str, index: int, batch: list[BatchPartner]) -> str:
        key = batch_key(prefix, index)
        self._put(key, (p.to_json() for p in batch))
        batch.clear()
        return key

    def batch(self, key: str) -> list[BatchPartner]:
        return [BatchPartner.from_json(d) for d in self._get(key)]

    def batches(self, manifest: str) -> list[str]:
        return [str(item["batch"]) for item in self._get(manifest)]

    def put_review(self, batch: str, lines: Iterable[CloseLine]) -> None:
        self._put(part_key(batch, "review"), (ln.to_json() for ln in lines))

    def review(self, batch: str) -> list[CloseLine]:
        return [CloseLine.from_json(d) for d in self._get(part_key(batch, "review"))]

    def reviews(self, manifest: str) -> Iterator[CloseLine]:
        for b in self.batches(manifest):
            yield from self.review(b)

    def put_payments(self, batch: str, rows: Iterable[PaymentRow]) -> None:
        self._put(part_key(batch, "pay"), (r.to_json() for r in rows))

    def payments(self, manifest: str) -> list[PaymentRow]:
        return [
            PaymentRow.from_json(d) for b in self.batches(manifest) for d in self._get(part_key(b, "pay"))
        ]
