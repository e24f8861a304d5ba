"""One chunk -> accrual lines and month totals, exactly once."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

from loyalty.earning.accrual_rules import Key, originals_in_chunk, plan_chunk
from loyalty.earning.categories import with_master_categories
from loyalty.earning.commission.block import AccrualBlock
from loyalty.earning.commission.calculator import Calculator
from loyalty.earning.commission.model import OriginalRate, PartnerContext
from loyalty.earning.duplicates import first_lines
from loyalty.earning.plausibility import hold_implausible
from loyalty.earning.ports import ProgramView, UploadFinalizer, WriterStore
from loyalty.earning.records import StoredSale
from loyalty.earning.returns import ReturnPlan, ReturnResolver
from loyalty.ingest.chunks import Chunk
from loyalty.ingest.keys import PARTS
from loyalty.ingest.records import ChunkResult
from loyalty.ingest.sales.block import SaleBlock
from loyalty.kernel.csvio.model import RowIssue
from loyalty.kernel.money import ZERO
from loyalty.kernel.ports import BlobStore
from loyalty.kernel.reports import issues_csv
from loyalty.program.fx import FxTable
from loyalty.program.rules import RuleBook, RuleVersion


class ConfigCache:
    """Rules, FX and partner lookups for a warm container, refreshed every `ttl` seconds."""

    def __init__(self, store: ProgramView, ttl: float, currency: str) -> None:
        self.store = store
        self.ttl = ttl
        self.currency = currency
        self._at = -1e18
        self._calc: Calculator | None = None
        self._partners: dict[str, PartnerContext] = {}

    def calculator(self) -> Calculator:
        if self._calc is None or time.monotonic() - self._at > self.ttl:
            rules = RuleBook(self.store.rule_versions())
            fx = FxTable(self.store.fx_rates())
            self._calc = Calculator(rules, self.store, fx, self.currency)
            self._partners = {}
            self._at = time.monotonic()
        return self._calc

    def rule_versions(self) -> dict[str, RuleVersion]:
        """The rule versions by name (their plausibility caps), as of the calculator's refresh."""
        return {v.version: v for v in self.calculator().rules.versions}

    def partner(self, pid: str) -> PartnerContext:
        ctx = self._partners.get(pid)
        if ctx is None:
            p = self.store.get_partner(pid)
            ctx = PartnerContext(p.cohort or None, p.segment) if p else PartnerContext()
            self._partners[pid] = ctx
        return ctx


class AccrualService:
    """One chunk -> accruals. Exactly-once effect: every accrual is keyed by (partner, sale_id)
    and carries the version (upload time, upload, line) that wrote it; a row only replaces an
    older version, and a redelivered chunk finds its own versions already there."""

    def __init__(
        self, store: WriterStore, blobs: BlobStore, config: ConfigCache, finalizer: UploadFinalizer
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.config = config
        self.finalizer = finalizer

    def handle(self, chunk: Chunk) -> ChunkResult:
        # the product master's category wins over the file's (reported where they differ)
        master = self.store.product_categories(sorted(set(chunk.block.sku)))
        block, recategorised = with_master_categories(chunk.block, master)
        orig_keys = [
            (p, o)
            for p, o, q in zip(block.partner_id, block.original_sale_id, block.quantity, strict=True)
            if o and q < 0
        ]
        sale_keys = list(zip(block.partner_id, block.sale_id, strict=True))
        existing = self.store.get_sales(list(dict.fromkeys(sale_keys + orig_keys)))
        computed, issues, returns = self._compute(block, existing, orig_keys)
        # held lines first (a held line is not stored, so it is no first occurrence in any chunk),
        # then each sale's first line in the upload wins
        accruals, held = hold_implausible(list(computed.accruals()), self.config.rule_versions())
        accruals, duplicates = first_lines(accruals, existing, chunk.version)
        issues = sorted(issues + duplicates, key=lambda i: i.line)
        frozen = self.store.frozen_periods()  # read per chunk: a freeze takes effect at once
        plan = plan_chunk(
            accruals, existing, frozen, chunk.version, chunk.upload_id, returns.matched, returns.anchors
        )
        # Month totals first, each guarded by this chunk's id, then the lines themselves: a crash
        # anywhere is repaired by the redelivery (deltas already applied are skipped, lines that
        # are already written compare equal).
        for (pid, month), delta in sorted(plan.deltas.items()):
            self.store.apply_month_delta(pid, month, f"{chunk.upload_id}/{chunk.chunk_id}", delta)
        self.store.put_sales(plan.records)
        issues_key = held_key = ""
        if issues:
            issues_key = f"{PARTS}{chunk.upload_id}/{chunk.chunk_id}.csv"
            self.blobs.put(issues_key, issues_csv(issues), "text/csv")
        if held:  # not accrued, not lost: the upload's report lists them for review
            held_key = f"{PARTS}{chunk.upload_id}/{chunk.chunk_id}.held.csv"
            self.blobs.put(held_key, issues_csv(held), "text/csv")
        categories_key = ""
        if recategorised:
            categories_key = f"{PARTS}{chunk.upload_id}/{chunk.chunk_id}.categories.csv"
            self.blobs.put(categories_key, issues_csv(recategorised), "text/csv")
        result = ChunkResult(
            chunk_id=chunk.chunk_id,
            rows=len(block),
            accepted=len(block) - len(issues) - len(held),
            rejected=len(issues),
            new=plan.counts["new"],
            replaced=plan.counts["replaced"],
            unchanged=0,
            superseded=plan.counts["superseded"],
            net_eur=sum((v.net_eur for v in plan.partners.values()), ZERO),
            commission=sum((v.commission for v in plan.partners.values()), ZERO),
            issues_key=issues_key,
            partners={p: v.to_wire() for p, v in plan.partners.items()},
            late=plan.late,
            held=len(held),
            held_key=held_key,
            categories=len(recategorised),
            categories_key=categories_key,
        )
        self._record(chunk, result)
        return result

    def _compute(
        self, block: SaleBlock, existing: Mapping[Key, StoredSale], orig_keys: Sequence[Key]
    ) -> tuple[AccrualBlock, list[RowIssue], ReturnPlan]:
        """The chunk's accruals; returns reverse at the rate of their original, stored or sold
        earlier in this same chunk, else of the partner's latest earlier sale of the SKU, else at
        the highest rate it held (`loyalty.earning.returns`); over-returns are rejected."""
        calc = self.config.calculator()
        partners = {p: self.config.partner(p) for p in set(block.partner_id)}
        originals: dict[Key, OriginalRate] = {}
        for k in orig_keys:
            s = existing.get(k)
            if s is not None:
                originals[k] = OriginalRate(s.rate, s.tier, s.rule_version, s.month, s.day)
        computed, issues = calc.compute_block(block, originals, partners)
        missing = set(orig_keys) - set(originals)
        if missing:
            in_chunk = originals_in_chunk(computed.accruals(), missing)
            if in_chunk:
                originals = originals | in_chunk
                computed, issues = calc.compute_block(block, originals, partners)
        returns = ReturnResolver(self.store, calc.rules, calc.tier_of).plan(
            block, computed, existing, partners
        )
        if returns.fixed or returns.refused:
            computed, issues = calc.compute_block(block, originals, partners, returns.fixed, returns.refused)
        return computed, issues, returns

    def _record(self, chunk: Chunk, result: ChunkResult) -> None:
        """Count the chunk on its upload; the last one (or its redelivery) runs the finaliser."""
        again = not self.store.put_chunk_result(chunk.upload_id, result)  # redelivered or redriven
        rec = self.store.get_upload(chunk.upload_id)
        if (
            rec is not None
            and rec.state == "split"
            and rec.chunks_done >= rec.chunks_total
            and (again or not rec.notified)
        ):
            self.finalizer.finalize(rec)
