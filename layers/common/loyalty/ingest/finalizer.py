"""When every chunk of an upload is written: summary, errors report, one notification."""

from __future__ import annotations

import json
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from loyalty.ingest.keys import PARTS, report_base
from loyalty.ingest.ports import UploadStore
from loyalty.ingest.records import ChunkResult, UploadRecord
from loyalty.kernel.clock import now_iso
from loyalty.kernel.money import ZERO, to_cents
from loyalty.kernel.ports import BlobStore, Notifier
from loyalty.kernel.reports import merge_errors


class Finalizer:
    """When every chunk of an upload is written: summary + errors report, one notification."""

    def __init__(self, store: UploadStore, blobs: BlobStore, notifier: Notifier) -> None:
        self.store = store
        self.blobs = blobs
        self.notifier = notifier

    def finalize(self, rec: UploadRecord) -> dict[str, Any] | None:
        results = self.store.chunk_results(rec.upload_id) if rec.chunks_total > 0 else []
        if len(results) < rec.chunks_total:
            return None
        base = report_base(rec.key)
        summary = self.summary(rec, results)
        parts: list[bytes] = []
        if rec.rejected:
            parts.append(self.blobs.get(f"{PARTS}{rec.upload_id}/split.csv"))
        parts += [self.blobs.get(r.issues_key) for r in results if r.issues_key]
        if parts:
            with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as out:
                merge_errors(parts, out)
                out.flush()
                out.seek(0)
                self.blobs.put(base + ".errors.csv", out.read().encode(), "text/csv")
            summary["errors_report"] = base + ".errors.csv"
        elif rec.file_error:
            summary["errors_report"] = None
        held = [self.blobs.get(r.held_key) for r in results if r.held_key]
        if held:
            summary["held_report"] = self._merged(held, base + ".held.csv")
        recategorised = [self.blobs.get(r.categories_key) for r in results if r.categories_key]
        if recategorised:
            summary["categories_report"] = self._merged(recategorised, base + ".categories.csv")
        self.blobs.put(base + ".summary.json", json.dumps(summary, indent=2).encode(), "application/json")
        if self.store.mark_notified(rec.upload_id):
            self.notifier.publish(
                subject="upload processed",
                message=summary,
                attributes={"type": "upload_processed", "partner": rec.uploader or "unknown"},
            )
        return summary

    def _merged(self, parts: list[bytes], key: str) -> str:
        with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as out:
            merge_errors(parts, out)
            out.flush()
            out.seek(0)
            self.blobs.put(key, out.read().encode(), "text/csv")
        return key

    @staticmethod
    def summary(rec: UploadRecord, results: Sequence[ChunkResult]) -> dict[str, Any]:
        accepted = sum(r.accepted for r in results)
        rejected = rec.rejected + sum(r.rejected for r in results)
        held = sum(r.held for r in results)
        partners: dict[str, dict[str, Any]] = {}
        for r in results:
            for p, (net, comm, rows) in r.partners.items():
                t = partners.setdefault(p, {"rows": 0, "net_eur": ZERO, "commission_eur": ZERO})
                t["rows"] += int(rows)
                t["net_eur"] += Decimal(net)
                t["commission_eur"] += Decimal(comm)
        out: dict[str, Any] = {
            "upload_id": rec.upload_id,
            "key": rec.key,
            "uploader": rec.uploader,
            "principal": rec.principal,
            "status": "rejected" if rec.file_error else "processed",
            "rows": rec.rows,
            "accepted": accepted,
            "rejected": rejected,
            "new": sum(r.new for r in results),
            "replaced": sum(r.replaced for r in results),
            "superseded": sum(r.superseded for r in results),
            "category_disagreements": sum(r.categories for r in results),  # the product master won
            "held": held,  # held for review (plausibility caps): in the .held.csv report, not accrued
            "blank_lines": rec.blank_lines,
            "reconciled": rec.rows == accepted + rejected + held,
            "encoding": rec.encoding,
            "delimiter": rec.delimiter,
            "ignored_columns": rec.ignored_columns,
            "late": _late(results),
            "totals": {
                "net_eur": str(to_cents(sum((r.net_eur for r in results), ZERO))),
                "commission_eur": str(to_cents(sum((r.commission for r in results), ZERO))),
            },
            "partners": {
                p: {
                    "rows": v["rows"],
                    "net_eur": str(v["net_eur"]),
                    "commission_eur": str(v["commission_eur"]),
                }
                for p, v in sorted(partners.items())
            },
            "processed_at": now_iso(),
        }
        if rec.file_error:
            out["file_error"] = {"code": rec.file_error_code, "message": rec.file_error}
        return out


def _late(results: Sequence[ChunkResult]) -> dict[str, Any]:
    """Rows dated in an already closed month: they accrue to the next open period (flagged)."""
    by_month: dict[str, int] = defaultdict(int)
    for r in results:
        for m, n in r.late.items():
            by_month[m] += n
    return {
        "rows": sum(by_month.values()),
        "by_closed_month": dict(sorted(by_month.items())),
        "note": "rows of a closed month accrue to the next open period" if by_month else "",
    }
