"""One chunk -> accrual lines and month totals, exactly once."""

from __future__ import annotations

import time
from collections import defaultdict
from decimal import Decimal

from loyalty.earning.commission.calculator import Calculator
from loyalty.earning.commission.model import OriginalRate, PartnerContext
from loyalty.earning.ports import ProgramView, UploadFinalizer, WriterStore
from loyalty.earning.records import MonthDelta, SaleRecord
from loyalty.ingest.chunks import Chunk
from loyalty.ingest.keys import PARTS
from loyalty.ingest.records import ChunkResult
from loyalty.kernel.money import ZERO
from loyalty.kernel.periods import open_period
from loyalty.kernel.ports import BlobStore
from loyalty.kernel.reports import issues_csv
from loyalty.program.fx import FxTable
from loyalty.program.rules import RuleBook


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
        calc = self.config.calculator()
        block = chunk.block
        partners = {p: self.config.partner(p) for p in set(block.partner_id)}
        orig_keys = [
            (p, o)
            for p, o, q in zip(block.partner_id, block.original_sale_id, block.quantity, strict=True)
            if o and q < 0
        ]
        sale_keys = list(zip(block.partner_id, block.sale_id, strict=True))
        existing = self.store.get_sales(list(dict.fromkeys(sale_keys + orig_keys)))
        originals: dict[tuple[str, str], OriginalRate] = {}
        for k in orig_keys:
            s = existing.get(k)
            if s is not None:
                originals[k] = OriginalRate(s.rate, s.tier, s.rule_version, s.month, s.day)
        computed, issues = calc.compute_block(block, originals, partners)
        missing = set(orig_keys) - set(originals)
        if missing:  # originals earlier in this same chunk (a return shares its original's group)
            for acc in computed.accruals():
                k = (acc.row.partner_id, acc.row.sale_id)
                if k in missing and acc.row.quantity > 0:
                    originals[k] = OriginalRate(
                        acc.rate, acc.tier, acc.rule_version, acc.row.month, acc.row.sold_at[:10]
                    )
            if set(originals) & missing:
                computed, issues = calc.compute_block(block, originals, partners)
        stats: dict[str, int] = defaultdict(int)
        frozen = self.store.frozen_periods()  # read per chunk: a freeze takes effect at once
        late: dict[str, int] = defaultdict(int)

        def accrue(month: str, day: int) -> tuple[str, int]:
            """(period, day) an accrual of `month` lands in: a closed month's go to the next open
            period, counted from its first day (their holding period starts there)."""
            if month not in frozen:
                return month, day
            return open_period(month, frozen), 1

        per_partner: dict[str, list[Decimal]] = {}
        accruals = list(computed.accruals())
        last = {(a.row.partner_id, a.row.sale_id): i for i, a in enumerate(accruals)}
        latest: list[SaleRecord] = []
        deltas: dict[tuple[str, str], MonthDelta] = defaultdict(MonthDelta)
        for i, acc in enumerate(accruals):
            r = acc.row
            k = (r.partner_id, r.sale_id)
            if last[k] != i:  # the same sale again later in this chunk: the later line wins
                stats["superseded"] += 1
                continue
            version = f"{chunk.version}~{r.line:09d}"
            period, day = accrue(r.month, int(r.sold_at[8:10]))
            if period != r.month:
                late[r.month] += 1
            cur = existing.get(k)
            redo = False
            if cur is None:
                prev = ""
            elif cur.version == version:  # redelivery: already written by this very row
                prev, redo = cur.prev_version, True
            elif cur.version > version:  # a newer correction is already in place
                stats["superseded"] += 1
                continue
            else:
                prev = cur.version
            stats["replaced" if prev else "new"] += 1
            latest.append(
                SaleRecord(
                    partner_id=r.partner_id,
                    sale_id=r.sale_id,
                    sold_at=r.sold_at,
                    sku=r.sku,
                    quantity=r.quantity,
                    unit_price=r.unit_price,
                    currency=r.currency,
                    category=r.category,
                    customer_id=r.customer_id,
                    original_sale_id=r.original_sale_id,
                    net=acc.net,
                    fx_rate=acc.fx_rate,
                    fx_date=acc.fx_date,
                    net_eur=acc.net_eur,
                    tier=acc.tier,
                    rate=acc.rate,
                    rule_version=acc.rule_version,
                    rate_basis=acc.rate_basis,
                    commission=acc.commission,
                    version=version,
                    prev_version=prev,
                    source=f"{chunk.upload_id}:{r.line}",
                    period="" if period == r.month else period,
                )
            )
            if not redo:  # (a redelivered chunk's deltas are already in, guarded by its id)
                if cur is not None:  # take the replaced line out of its period (or the open one)
                    was = cur.period or cur.month
                    p_out, d_out = accrue(was, int(cur.day[8:10]) if was == cur.month else 1)
                    deltas[(cur.partner_id, p_out)].add(
                        d_out, -cur.net_eur, -cur.commission, -1, -int(cur.quantity < 0)
                    )
                deltas[(r.partner_id, period)].add(
                    day,
                    acc.net_eur,
                    acc.commission,
                    1,
                    int(r.quantity < 0),
                    r.customer_id if r.quantity > 0 else "",
                )
            t = per_partner.setdefault(r.partner_id, [ZERO, ZERO, Decimal(0)])
            t[0] += acc.net_eur
            t[1] += acc.commission
            t[2] += 1
        # Month totals first, each guarded by this chunk's id, then the lines themselves: a crash
        # anywhere is repaired by the redelivery (deltas already applied are skipped, lines that
        # are already written compare equal).
        for (pid, month), delta in sorted(deltas.items()):
            self.store.apply_month_delta(pid, month, f"{chunk.upload_id}/{chunk.chunk_id}", delta)
        self.store.put_sales(latest)
        issues_key = ""
        if issues:
            issues_key = f"{PARTS}{chunk.upload_id}/{chunk.chunk_id}.csv"
            self.blobs.put(issues_key, issues_csv(issues), "text/csv")
        result = ChunkResult(
            chunk_id=chunk.chunk_id,
            rows=len(block),
            accepted=len(block) - len(issues),
            rejected=len(issues),
            new=stats["new"],
            replaced=stats["replaced"],
            unchanged=0,
            superseded=stats["superseded"],
            net_eur=sum((v[0] for v in per_partner.values()), ZERO),
            commission=sum((v[1] for v in per_partner.values()), ZERO),
            issues_key=issues_key,
            partners={p: [str(v[0]), str(v[1]), str(int(v[2]))] for p, v in per_partner.items()},
            late=dict(late),
        )
        before = self.store.get_upload(chunk.upload_id)
        again = before is not None and chunk.chunk_id in before.done_ids  # redelivered or redriven
        self.store.put_chunk_result(chunk.upload_id, result)
        rec = self.store.get_upload(chunk.upload_id)
        if (
            rec is not None
            and rec.state == "split"
            and rec.chunks_done >= rec.chunks_total
            and (again or not rec.notified)
        ):
            self.finalizer.finalize(rec)
        return result
