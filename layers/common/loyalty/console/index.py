"""The console's read model of one run's proposal: the run's review files (one per batch of
partners, verified against the proposal digest finance approves) turned once into small sorted
shards, so that every page the console serves reads one index and at most a few shards, never the
whole proposal of a 10 000-partner close.

`console/<period>/<run>/` holds
- `payouts-amount/NNNNN.json`: the payees (payout > 0), largest payout first;
- `payouts-partner/NNNNN.json`: the same rows by partner id;
- `held/NNNNN.json`: partners whose positive balance is carried forward (below the minimum, no
  bank details, a bank change in cooling-off);
- `anomalies/NNNNN.json`: one row per anomaly, with its reason, by partner id;
- `index.json` (written last: its presence means the shards are complete): counts, totals, the
  shard counts and each batch's first and last partner (a partner's drill-down reads one review
  file).

A run's review files never change (the digest binds them), so the projection is built once and
immutable; two first readers build the same bytes."""

from __future__ import annotations

import base64
import binascii
import bisect
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from loyalty.close.batches import DigestMismatch, RunFiles
from loyalty.close.header import CloseMeta
from loyalty.close.review import CloseLine
from loyalty.close.runs import CloseError, _prefix
from loyalty.kernel.money import ZERO, to_cents
from loyalty.kernel.ports import BlobStore, MissingBlob

SHARD = 100  # rows per shard file (a page of at most 200 rows reads at most three)
MAX_LIMIT = 200
VERSION = 1
JSON = "application/json"
LISTS = ("payouts-amount", "payouts-partner", "held", "anomalies")


class ConsoleError(CloseError):
    """A console refusal with its HTTP status (400 bad cursor, 404 unknown, 409 not yet)."""


def row(line: CloseLine) -> dict[str, Any]:
    """What a list shows of a partner's proposed line."""
    return {
        "partner_id": line.partner_id,
        "name": line.name,
        "segment": line.segment,
        "tier": line.tier_after,
        "payout": str(line.payout),
        "carried_in": str(line.carried_in),
        "matured_now": str(line.matured_now),
        "carried_out": str(line.carried_out),
        "reason": line.payout_reason,
        "anomalies": len(line.anomalies),
    }


@dataclass
class _Tally:
    partners: int = 0
    eligible: int = 0
    eligible_total: Decimal = ZERO
    held: int = 0
    held_total: Decimal = ZERO
    negative: int = 0
    negative_total: Decimal = ZERO
    anomalies: int = 0
    committed: int = 0

    def add(self, line: CloseLine) -> None:
        self.partners += 1
        if line.payout > 0:
            self.eligible += 1
            self.eligible_total += line.payout
        elif line.carried_out > 0:
            self.held += 1
            self.held_total += line.carried_out
        elif line.carried_out < 0:
            self.negative += 1
            self.negative_total += line.carried_out
        self.anomalies += len(line.anomalies)

    def to_json(self) -> dict[str, Any]:
        return {
            "partners": self.partners,
            "eligible": self.eligible,
            "eligible_total": str(to_cents(self.eligible_total)),
            "held": self.held,
            "held_total": str(to_cents(self.held_total)),
            "negative": self.negative,
            "negative_total": str(to_cents(self.negative_total)),
            "anomalies": self.anomalies,
            "already_committed": self.committed,
        }


@dataclass(frozen=True)
class Index:
    """`index.json` of a run's projection."""

    period: str
    run: str
    digest: str
    figures: Mapping[str, Any]
    shards: Mapping[str, int]
    sizes: Mapping[str, int]
    batches: list[tuple[str, str, str]]  # (first partner, last partner, batch key)

    def to_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "period": self.period,
            "run": self.run,
            "digest": self.digest,
            "figures": dict(self.figures),
            "shards": dict(self.shards),
            "sizes": dict(self.sizes),
            "batches": [list(b) for b in self.batches],
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> Index:
        return cls(
            str(d["period"]),
            str(d["run"]),
            str(d["digest"]),
            dict(d["figures"]),
            {str(k): int(v) for k, v in d["shards"].items()},
            {str(k): int(v) for k, v in d["sizes"].items()},
            [(str(a), str(b), str(k)) for a, b, k in d["batches"]],
        )

    def batch_of(self, partner_id: str) -> str | None:
        """The batch file that holds the partner's line (batches are in partner-id order)."""
        firsts = [b[0] for b in self.batches]
        i = bisect.bisect_right(firsts, partner_id) - 1
        if i < 0:
            return None
        first, last, key = self.batches[i]
        return key if first <= partner_id <= last else None


def encode_cursor(run: str, offset: int) -> str:
    raw = json.dumps({"r": run, "o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, run: str) -> int:
    """The offset an opaque cursor names; 400 for anything not made by `encode_cursor`, 409 for a
    cursor of another run (the close was re-run since the first page)."""
    if not cursor:
        return 0
    try:
        d = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        offset, of_run = int(d["o"]), str(d["r"])
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ConsoleError("cursor: not a cursor this API returned", 400) from None
    if offset < 0:
        raise ConsoleError("cursor: not a cursor this API returned", 400)
    if of_run != run:
        raise ConsoleError(f"cursor: it pages run {of_run}, but the close is now run {run}", 409)
    return offset


@dataclass(frozen=True)
class Slice:
    rows: list[dict[str, Any]]
    next_offset: int | None
    total: int


class ProposalIndex:
    """Builds (once) and reads a run's projection."""

    def __init__(self, blobs: BlobStore) -> None:
        self.blobs = blobs
        self.files = RunFiles(blobs)

    @staticmethod
    def prefix(period: str, run: str) -> str:
        return f"console/{period}/{run}/"

    def index(self, meta: CloseMeta) -> Index:
        """The projection of the header's run (built on first use)."""
        if not meta.manifest or not meta.proposal_digest:
            raise ConsoleError(f"the close of {meta.period} has no proposal yet ({meta.status})", 409)
        key = self.prefix(meta.period, meta.run) + "index.json"
        try:
            found = Index.from_json(json.loads(self.blobs.get(key)))
        except MissingBlob:
            return self.build(meta)
        if found.digest != meta.proposal_digest:  # never serve another proposal's figures
            return self.build(meta)
        return found

    def _verified(self, meta: CloseMeta, batch: str) -> list[CloseLine]:
        try:
            return self.files.verified_review(_prefix(meta.period, meta.run), batch, meta.proposal_digest)
        except DigestMismatch as exc:
            raise ConsoleError(f"the proposal of {meta.period} cannot be shown: {exc}", 409) from None

    def _reviews(self, meta: CloseMeta) -> Iterator[tuple[str, list[CloseLine]]]:
        for b in self.files.batches(meta.manifest or ""):
            yield b, self._verified(meta, b)

    def build(self, meta: CloseMeta) -> Index:
        tally = _Tally()
        payees: list[dict[str, Any]] = []
        held: list[dict[str, Any]] = []
        anomalies: list[dict[str, Any]] = []
        batches: list[tuple[str, str, str]] = []
        for key, lines in self._reviews(meta):
            if lines:
                batches.append((lines[0].partner_id, lines[-1].partner_id, key))
            for ln in lines:
                if ln.state != "proposed":
                    tally.committed += 1
                    continue
                tally.add(ln)
                r = row(ln)
                if ln.payout > 0:
                    payees.append(r)
                elif ln.carried_out > 0:
                    held.append(r)
                anomalies.extend(
                    {"partner_id": ln.partner_id, "name": ln.name, "payout": str(ln.payout), "reason": a}
                    for a in ln.anomalies
                )
        by_amount = sorted(payees, key=lambda r: (-Decimal(r["payout"]), r["partner_id"]))
        lists = {
            "payouts-amount": by_amount,
            "payouts-partner": sorted(payees, key=lambda r: r["partner_id"]),
            "held": sorted(held, key=lambda r: r["partner_id"]),
            "anomalies": anomalies,
        }
        base = self.prefix(meta.period, meta.run)
        shards = {name: self._write_shards(base + name, rows) for name, rows in lists.items()}
        index = Index(
            meta.period,
            meta.run,
            meta.proposal_digest,
            tally.to_json(),
            shards,
            {name: len(rows) for name, rows in lists.items()},
            batches,
        )
        self.blobs.put(base + "index.json", json.dumps(index.to_json()).encode(), JSON)
        return index

    def _write_shards(self, base: str, rows: list[dict[str, Any]]) -> int:
        n = 0
        for n, start in enumerate(range(0, len(rows), SHARD), 1):
            body = json.dumps(rows[start : start + SHARD]).encode()
            self.blobs.put(f"{base}/{n - 1:05d}.json", body, JSON)
        return n

    def _shard(self, index: Index, name: str, n: int) -> list[dict[str, Any]]:
        key = f"{self.prefix(index.period, index.run)}{name}/{n:05d}.json"
        rows: list[dict[str, Any]] = json.loads(self.blobs.get(key))
        return rows

    def slice(self, index: Index, name: str, offset: int, limit: int) -> Slice:
        """`limit` rows of a list from `offset`: reads only the shards that hold them."""
        total = index.sizes.get(name, 0)
        limit = max(1, min(limit, MAX_LIMIT))
        end = min(offset + limit, total)
        rows: list[dict[str, Any]] = []
        first, last = offset // SHARD, (end - 1) // SHARD if end > offset else -1
        for n in range(first, last + 1):
            shard = self._shard(index, name, n)
            lo = max(offset - n * SHARD, 0)
            hi = min(end - n * SHARD, len(shard))
            rows.extend(shard[lo:hi])
        return Slice(rows, end if end < total else None, total)

    def all_rows(self, index: Index, name: str) -> Iterator[dict[str, Any]]:
        """Every row of a list, one shard in memory at a time (CSV exports)."""
        for n in range(index.shards.get(name, 0)):
            yield from self._shard(index, name, n)

    def line(self, meta: CloseMeta, index: Index, partner_id: str) -> CloseLine | None:
        """The partner's proposed (or earlier committed) line of the run: one review file."""
        batch = index.batch_of(partner_id)
        if batch is None:
            return None
        return next((ln for ln in self._verified(meta, batch) if ln.partner_id == partner_id), None)

    def lines(self, meta: CloseMeta, index: Index, partner_ids: Iterable[str]) -> Iterator[CloseLine]:
        """The lines of several partners, each review file read once."""
        wanted: dict[str, set[str]] = {}
        for pid in partner_ids:
            batch = index.batch_of(pid)
            if batch is not None:
                wanted.setdefault(batch, set()).add(pid)
        for batch in sorted(wanted):
            yield from (ln for ln in self._verified(meta, batch) if ln.partner_id in wanted[batch])
