"""The files a close run keeps between its steps (`close/<period>/<run>/`): batches of partners
that the Distributed Map hands to the review, pay and statements steps, each batch's review
(proposed close lines) and the payments a pay batch committed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from loyalty.close.payees import BankSnapshot
from loyalty.close.review import CloseLine
from loyalty.close.runs import _prefix
from loyalty.incentives.lines import ProgramAccrual
from loyalty.kernel.i18n import lang_for_country
from loyalty.kernel.ports import BlobStore
from loyalty.program.registry import Partner
from loyalty.program.rules import norm_cohort

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
    cohort: str = ""  # pilots: the partner's rule version depends on it (lower-case)
    recruits: tuple[tuple[str, int], ...] = ()  # (recruit, level) of its downline, at plan time
    opt_out: bool = False  # opted out of recognition (leaderboards, partner of the month)
    lang: str = ""  # the statement's language (its country's; "" = English)
    country: str = ""  # analytics: the partner-month facts carry it (net sales by country)
    joined: str = ""  # analytics: the month it joined (YYYY-MM), its retention cohort

    @classmethod
    def of(cls, p: Partner, recruits: Sequence[tuple[str, int]] = ()) -> BatchPartner:
        return cls(
            p.partner_id,
            p.name,
            p.segment,
            p.certifications,
            bool(p.iban),
            p.starting_tier,
            norm_cohort(p.cohort),
            tuple((str(r), int(n)) for r, n in recruits),
            p.recognition_opt_out,
            lang_for_country(p.country),
            p.country.upper(),
            p.joined_on.isoformat()[:7],
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.partner_id,
            "name": self.name,
            "segment": self.segment,
            "certified": dict(self.certified),
            "has_bank": self.has_bank,
            "starting_tier": self.starting_tier,
            "cohort": self.cohort,
            "recruits": [[r, n] for r, n in self.recruits],
            "opt_out": self.opt_out,
            "lang": self.lang,
            "country": self.country,
            "joined": self.joined,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> BatchPartner:
        return cls(
            d["id"],
            d["name"],
            d["segment"],
            d["certified"],
            d["has_bank"],
            d["starting_tier"],
            str(d.get("cohort") or ""),
            tuple((str(r), int(n)) for r, n in d.get("recruits") or ()),
            bool(d.get("opt_out", False)),
            str(d.get("lang") or ""),
            str(d.get("country") or ""),
            str(d.get("joined") or ""),
        )


@dataclass(frozen=True)
class PaymentRow:
    """A payout committed by a pay batch, for the bank files."""

    partner_id: str
    name: str
    amount: Decimal
    run: str = ""  # the run that committed it (a re-run's batch lists earlier commits too)
    bank_fp: str = ""  # fingerprint of the bank details committed with it

    def to_json(self) -> dict[str, Any]:
        return {
            "partner_id": self.partner_id,
            "name": self.name,
            "amount": str(self.amount),
            "run": self.run,
            "bank_fp": self.bank_fp,
        }

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> PaymentRow:
        return cls(
            d["partner_id"], d["name"], Decimal(d["amount"]), str(d.get("run", "")), str(d.get("bank_fp", ""))
        )


class DigestMismatch(Exception):
    """A review file differs from the one finance approved (or the digest is missing)."""


def _sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


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

    def write_plan(
        self,
        prefix: str,
        partners: Iterable[Partner],
        size: int,
        recruits: Mapping[str, Sequence[tuple[str, int]]] | None = None,
    ) -> tuple[str, int, int]:
        """Partners in batches of `size` (at least one batch, maybe empty) and the manifest;
        `recruits` is each sponsor's downline (recruit, level), kept with the sponsor."""
        keys: list[str] = []
        batch: list[BatchPartner] = []
        total = 0
        downline = recruits or {}
        for p in partners:
            batch.append(BatchPartner.of(p, downline.get(p.partner_id, ())))
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

    def put_facts(self, batch: str, facts: Mapping[str, Any]) -> None:
        """The batch's analytics rows (`loyalty.close.facts`), which the analytics step turns into
        Parquet: written with the statements, so a retry of the batch writes the same rows."""
        self.blobs.put(part_key(batch, "facts"), json.dumps(facts).encode(), JSON)

    def facts(self, batch: str) -> dict[str, Any]:
        got: dict[str, Any] = json.loads(self.blobs.get(part_key(batch, "facts")))
        return got

    def put_program(self, batch: str, lines: Iterable[tuple[str, ProgramAccrual]]) -> None:
        """The batch's program lines (bonuses, overrides), each with its partner: they are not
        kept in the close item (a sponsor may have thousands), the statement reads them here."""
        self._put(
            part_key(batch, "program"),
            ({"partner_id": pid, **a.to_json()} for pid, a in lines),
        )

    def program(self, batch: str) -> dict[str, list[ProgramAccrual]]:
        """The batch's program lines by partner (in the order they were written)."""
        return _by_partner(self._get(part_key(batch, "program")))

    def verified_program(self, prefix: str, batch: str, digest: str) -> dict[str, list[ProgramAccrual]]:
        return _by_partner(self._verified(prefix, batch, "program", digest))

    def reviews(self, manifest: str) -> Iterator[CloseLine]:
        for b in self.batches(manifest):
            yield from self.review(b)

    # -- the proposal's digest: what finance approves is what is paid -------------------------
    def write_digests(self, prefix: str, manifest: str) -> str:
        """`digests.json` lists each review file with its sha256; the proposal digest is the
        sha256 of that list (kept in the close header, which the bucket's writers cannot touch)."""
        listed = [
            {"review": part_key(b, part), "sha256": _sha256(self.blobs.get(part_key(b, part)))}
            for b in self.batches(manifest)
            for part in ("review", "bank", "program")
        ]
        body = json.dumps(listed, sort_keys=True).encode()
        self.blobs.put(f"{prefix}digests.json", body, JSON)
        return _sha256(body)

    def _verified(self, prefix: str, batch: str, part: str, digest: str) -> list[dict[str, Any]]:
        """A batch's review or bank file, only if it is byte for byte the one finance approved."""
        listed = self.blobs.get(f"{prefix}digests.json")
        if not digest or _sha256(listed) != digest:
            raise DigestMismatch(f"the run's review digests do not match the approved proposal {digest[:12]}")
        key = part_key(batch, part)
        want = {d["review"]: d["sha256"] for d in json.loads(listed)}.get(key)
        body = self.blobs.get(key)
        if want is None or _sha256(body) != want:
            raise DigestMismatch(f"{key} changed after the proposal was made")
        items: list[dict[str, Any]] = json.loads(body)
        return items

    def verified_review(self, prefix: str, batch: str, digest: str) -> list[CloseLine]:
        return [CloseLine.from_json(d) for d in self._verified(prefix, batch, "review", digest)]

    def put_bank(self, batch: str, snapshots: Iterable[BankSnapshot]) -> None:
        self._put(part_key(batch, "bank"), (s.to_json() for s in snapshots))

    def verified_bank(self, prefix: str, manifest: str, digest: str) -> dict[str, BankSnapshot]:
        """The payees' bank snapshots of every batch (verified against the proposal digest)."""
        out: dict[str, BankSnapshot] = {}
        for b in self.batches(manifest):
            for d in self._verified(prefix, b, "bank", digest):
                snap = BankSnapshot.from_json(d)
                out[snap.partner_id] = snap
        return out

    def verified_reviews(self, prefix: str, manifest: str, digest: str) -> Iterator[CloseLine]:
        for b in self.batches(manifest):
            yield from self.verified_review(prefix, b, digest)

    def put_payments(self, batch: str, rows: Iterable[PaymentRow]) -> None:
        self._put(part_key(batch, "pay"), (r.to_json() for r in rows))

    def payments(self, manifest: str) -> list[PaymentRow]:
        return [
            PaymentRow.from_json(d) for b in self.batches(manifest) for d in self._get(part_key(b, "pay"))
        ]


def _by_partner(items: Iterable[Mapping[str, Any]]) -> dict[str, list[ProgramAccrual]]:
    out: dict[str, list[ProgramAccrual]] = {}
    for d in items:
        out.setdefault(str(d["partner_id"]), []).append(ProgramAccrual.from_json(d))
    return out


class EarlierPrograms:
    """The program lines of partners an earlier run of the period committed: a re-run lists
    their committed lines again, and their statements show the lines that run accrued (read
    from that run's program files, once per run)."""

    def __init__(self, files: RunFiles, period: str) -> None:
        self.files = files
        self.period = period
        self._runs: dict[str, dict[str, list[ProgramAccrual]]] = {}

    def lines(self, line: CloseLine) -> list[ProgramAccrual]:
        if not line.program_lines:
            return []
        if line.run not in self._runs:
            found: dict[str, list[ProgramAccrual]] = {}
            for b in self.files.batches(f"{_prefix(self.period, line.run)}manifest.json"):
                for pid, accruals in self.files.program(b).items():
                    found.setdefault(pid, []).extend(accruals)
            self._runs[line.run] = found
        return list(self._runs[line.run].get(line.partner_id, []))
