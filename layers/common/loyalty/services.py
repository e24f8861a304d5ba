"""Domain services behind the Lambda handlers: ingest split, accrual write, upload finalisation,
configuration loads (registry, FX, rules) and balances. No AWS imports: everything goes through
the ports in :mod:`loyalty.ports`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import posixpath
import re
import tempfile
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from loyalty.close import open_period
from loyalty.commission import Calculator, OriginalRate, PartnerContext
from loyalty.csvio import CsvStream, FileError, RowIssue
from loyalty.fx import FxTable, parse_rates
from loyalty.ingest import PARTNER_ID_RE, SALES_SPEC, SaleBlock, SalesValidator, concat
from loyalty.money import ZERO, to_cents
from loyalty.ports import (
    BlobStore,
    ChunkQueue,
    ChunkResult,
    MonthDelta,
    Notifier,
    QueueMessage,
    SaleRecord,
    Store,
    UploadRecord,
)
from loyalty.registry import parse_registry
from loyalty.reports import ErrorsWriter, issues_csv, merge_errors
from loyalty.rules import RuleBook, parse_rules

INCOMING = "incoming/"
REPORTS = "reports/ingest/"
PARTS = "reports/ingest/.parts/"
_NAME_RE = re.compile(r"^[^/\x00-\x1f\x7f]{1,200}\.csv$", re.IGNORECASE)


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# -- object keys ------------------------------------------------------------------------------
@dataclass(frozen=True)
class UploadKey:
    key: str
    uploader: str
    name: str


def parse_upload_key(key: str) -> UploadKey:
    """`incoming/<partner_id>/<name>.csv`, nothing else: no nesting, no dot segments."""
    if not key.startswith(INCOMING):
        raise FileError("bad_key", f"uploads go under {INCOMING}<partner_id>/<name>.csv")
    parts = key[len(INCOMING) :].split("/")
    if len(parts) != 2 or any(p in ("", ".", "..") for p in parts) or posixpath.normpath(key) != key:
        raise FileError(
            "bad_key", "the object key must be incoming/<partner_id>/<name>.csv (no sub-folders, '.' or '..')"
        )
    uploader, name = parts
    if not PARTNER_ID_RE.match(uploader):
        raise FileError("bad_key", f"{uploader!r} is not a partner id")
    if not _NAME_RE.match(name):
        raise FileError("bad_key", "the file name must end in .csv and have no control characters")
    return UploadKey(key, uploader, name)


def report_base(key: str) -> str:
    """Where an upload's reports go; keys that fail validation get a hashed, safe name."""
    try:
        parse_upload_key(key)
        return REPORTS + key
    except FileError:
        return REPORTS + "_rejected/" + hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:24]


def upload_id_for(bucket: str, key: str, etag: str, sequencer: str) -> str:
    return hashlib.sha256(f"{bucket}/{key}#{etag}#{sequencer}".encode()).hexdigest()[:24]


def chunk_group(partner_id: str, groups: int) -> int:
    """All rows of one partner share a FIFO message group: a partner's chunks are written one
    at a time and in upload order, so corrections, returns and their originals never race;
    different partners are written in parallel."""
    return zlib.crc32(partner_id.encode()) % groups


# -- split --------------------------------------------------------------------------------------
@dataclass
class S3Object:
    bucket: str
    key: str
    size: int
    etag: str
    sequencer: str
    event_time: str  # ISO 8601 from the S3 event


class IngestService:
    """S3 ObjectCreated -> validate and split a sales file into FIFO chunk messages."""

    def __init__(
        self,
        store: Store,
        blobs: BlobStore,
        queue: ChunkQueue,
        notifier: Notifier,
        *,
        max_upload_bytes: int,
        chunk_rows: int,
        chunk_groups: int,
        today: Callable[[], dt.date] = lambda: dt.datetime.now(dt.UTC).date(),
    ) -> None:
        self.store = store
        self.blobs = blobs
        self.queue = queue
        self.notifier = notifier
        self.max_upload_bytes = max_upload_bytes
        self.chunk_rows = chunk_rows
        self.chunk_groups = chunk_groups
        self.today = today

    def handle(self, obj: S3Object) -> UploadRecord:
        upload_id = upload_id_for(obj.bucket, obj.key, obj.etag, obj.sequencer)
        existing = self.store.get_upload(upload_id)
        if existing is not None and existing.state in ("split", "done"):
            return existing  # a duplicate S3 event: already split, the writers do the rest
        version = f"{obj.event_time}~{obj.sequencer or '0'}~{upload_id[:8]}"
        uploader = ""
        with contextlib.suppress(FileError):
            uploader = parse_upload_key(obj.key).uploader
        rec = existing or self.store.create_upload(
            UploadRecord(
                upload_id=upload_id, key=obj.key, uploader=uploader, version=version, created_at=now_iso()
            )
        )
        finalizer = Finalizer(self.store, self.blobs, self.notifier)
        try:
            self._split(obj, rec)
        except FileError as exc:
            rec.file_error, rec.file_error_code = exc.message, exc.code
            rec.chunks_total = 0
            rec.state = "split"
            self.store.save_upload(rec)
            finalizer.finalize(rec)
            return rec
        self.store.save_upload(rec)
        fresh = self.store.get_upload(rec.upload_id)
        if fresh is not None and fresh.chunks_done >= fresh.chunks_total and not fresh.notified:
            finalizer.finalize(fresh)  # every chunk was written before the split finished
        return rec

    def _split(self, obj: S3Object, rec: UploadRecord) -> None:
        key = parse_upload_key(obj.key)
        if obj.size > self.max_upload_bytes:
            raise FileError(
                "too_large",
                f"the file is {obj.size} bytes; the limit is {self.max_upload_bytes} bytes - split it into smaller files",
            )
        uploader = self.store.get_partner(key.uploader)
        if uploader is None:
            raise FileError("unknown_uploader", f"{key.uploader!r} is not a registered partner")
        allowed = set(uploader.distributor_for)
        known: dict[str, bool] = {}

        def may_write(pid: str) -> str | None:
            if pid == uploader.partner_id:
                return None
            if pid not in allowed:
                return (
                    f"{uploader.partner_id} may not create sales for partner {pid!r}"
                    " (not itself, nor a partner it is a registered distributor for)"
                )
            if pid not in known:
                known[pid] = self.store.get_partner(pid) is not None
            return None if known[pid] else f"partner {pid!r} is not in the registry"

        body = self.blobs.open(obj.key)
        stream = CsvStream(body, SALES_SPEC)
        validator = SalesValidator(may_write, today=self.today())
        groups: dict[int, list[SaleBlock]] = defaultdict(list)
        fill: dict[int, int] = defaultdict(int)
        buffered = 0
        seq = 0
        sent_rows = 0
        outbox: list[QueueMessage] = []
        with tempfile.TemporaryFile("w+", encoding="utf-8", newline="") as errfile:
            errors = ErrorsWriter(errfile)

            def emit(g: int, block: SaleBlock) -> None:
                nonlocal seq, sent_rows
                seq += 1
                sent_rows += len(block)
                msg = {
                    "upload_id": rec.upload_id,
                    "chunk_id": f"{g:04d}-{seq:06d}",
                    "key": obj.key,
                    "uploader": key.uploader,
                    "version": rec.version,
                    "rows": block.to_wire(),
                }
                outbox.append(
                    QueueMessage(
                        body=json.dumps(msg, separators=(",", ":")),
                        group=f"g{g:04d}",
                        dedup_id=f"{rec.upload_id}-{g:04d}-{seq:06d}",
                    )
                )
                if len(outbox) >= 10:
                    self.queue.send(outbox)
                    outbox.clear()

            def flush(g: int, everything: bool) -> None:
                """Send the group's buffered rows in chunks of `chunk_rows` (and the rest if asked)."""
                nonlocal buffered
                block = concat(groups.pop(g))
                n = len(block)
                size = self.chunk_rows
                full = n - n % size if not everything else n
                for start in range(0, full, size):
                    emit(g, block.slice(start, min(start + size, full)))
                buffered -= full
                if full < n:
                    groups[g] = [block.slice(full, n)]
                    fill[g] = n - full
                else:
                    fill.pop(g, None)

            for raw in stream.blocks():
                good, issues = validator.validate_block(raw)
                errors.write(issues)
                if not len(good):
                    continue
                gid_of = {p: chunk_group(p, self.chunk_groups) for p in set(good.partner_id)}
                gids = list(map(gid_of.__getitem__, good.partner_id))
                order: dict[int, list[int]] = defaultdict(list)
                for i, g in enumerate(gids):
                    order[g].append(i)
                for g, idx in order.items():
                    part = SaleBlock(*([getattr(good, f)[i] for i in idx] for f in SaleBlock.__slots__))  # type: ignore[attr-defined]
                    groups[g].append(part)
                    fill[g] += len(idx)
                    buffered += len(idx)
                    if fill[g] >= self.chunk_rows:
                        flush(g, everything=False)
                if buffered >= self.chunk_rows * max(
                    16, self.chunk_groups
                ):  # bound memory: flush the fullest
                    for g in sorted(fill, key=fill.__getitem__, reverse=True)[:8]:
                        flush(g, everything=True)
            for g in sorted(groups):
                flush(g, everything=True)
            if outbox:
                self.queue.send(outbox)
            if stream.rows == 0:
                raise FileError("no_rows", "the file has a header but no data rows")
            rec.rows = stream.rows
            rec.accepted = sent_rows
            rec.rejected = errors.count
            rec.blank_lines = stream.blank_lines
            rec.encoding = stream.encoding
            rec.delimiter = stream.delimiter
            rec.ignored_columns = stream.ignored_columns
            rec.chunks_total = seq
            rec.state = "split"
            if errors.count:
                errfile.flush()
                errfile.seek(0)
                self.blobs.put(f"{PARTS}{rec.upload_id}/split.csv", errfile.read().encode(), "text/csv")


# -- write ------------------------------------------------------------------------------------------
class ConfigCache:
    """Rules, FX and partner lookups for a warm container, refreshed every `ttl` seconds."""

    def __init__(self, store: Store, ttl: float, currency: str) -> None:
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


@dataclass
class Chunk:
    upload_id: str
    chunk_id: str
    key: str
    uploader: str
    version: str
    block: SaleBlock

    @classmethod
    def parse(cls, body: str) -> Chunk:
        d = json.loads(body)
        return cls(
            str(d["upload_id"]),
            str(d["chunk_id"]),
            str(d["key"]),
            str(d["uploader"]),
            str(d["version"]),
            SaleBlock.from_wire(d["rows"]),
        )


class AccrualService:
    """One chunk -> accruals. Exactly-once effect: every accrual is keyed by (partner, sale_id)
    and carries the version (upload time, upload, line) that wrote it; a row only replaces an
    older version, and a redelivered chunk finds its own versions already there."""

    def __init__(self, store: Store, blobs: BlobStore, notifier: Notifier, config: ConfigCache) -> None:
        self.store = store
        self.blobs = blobs
        self.notifier = notifier
        self.config = config

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
            Finalizer(self.store, self.blobs, self.notifier).finalize(rec)
        return result


class Finalizer:
    """When every chunk of an upload is written: summary + errors report, one notification."""

    def __init__(self, store: Store, blobs: BlobStore, notifier: Notifier) -> None:
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
        self.blobs.put(base + ".summary.json", json.dumps(summary, indent=2).encode(), "application/json")
        if self.store.mark_notified(rec.upload_id):
            self.notifier.publish(
                subject="upload processed",
                message=summary,
                attributes={"type": "upload_processed", "partner": rec.uploader or "unknown"},
            )
        return summary

    @staticmethod
    def summary(rec: UploadRecord, results: Sequence[ChunkResult]) -> dict[str, Any]:
        accepted = sum(r.accepted for r in results)
        rejected = rec.rejected + sum(r.rejected for r in results)
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
            "status": "rejected" if rec.file_error else "processed",
            "rows": rec.rows,
            "accepted": accepted,
            "rejected": rejected,
            "new": sum(r.new for r in results),
            "replaced": sum(r.replaced for r in results),
            "superseded": sum(r.superseded for r in results),
            "blank_lines": rec.blank_lines,
            "reconciled": rec.rows == accepted + rejected,
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


# -- configuration uploads ----------------------------------------------------------------------------
@dataclass
class LoadReport:
    kind: str
    key: str
    rows: int = 0
    accepted: int = 0
    rejected: int = 0
    issues: list[RowIssue] = field(default_factory=list)
    file_error: str = ""
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "status": "rejected" if self.file_error else "processed",
            "rows": self.rows,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "reconciled": self.rows == self.accepted + self.rejected or bool(self.file_error),
            "file_error": self.file_error or None,
            "errors": [asdict(i) for i in self.issues[:1000]],
            "processed_at": now_iso(),
            **self.detail,
        }


class ConfigService:
    """registry/partners.csv, rates/*.csv and rules/*.yaml|json uploads."""

    def __init__(self, store: Store, blobs: BlobStore, notifier: Notifier) -> None:
        self.store = store
        self.blobs = blobs
        self.notifier = notifier

    def handle(self, key: str) -> LoadReport:
        if key.startswith("registry/") and key.lower().endswith(".csv"):
            report = self._registry(key)
        elif key.startswith("rates/") and key.lower().endswith(".csv"):
            report = self._rates(key)
        elif key.startswith("rules/") and key.lower().endswith((".yaml", ".yml", ".json")):
            report = self._rules(key)
        else:
            report = LoadReport("unknown", key, file_error="not a registry, rates or rules file")
        out = f"reports/config/{key}.report.json"
        self.blobs.put(out, json.dumps(report.to_json(), indent=2, default=str).encode(), "application/json")
        self.notifier.publish(
            subject=f"{report.kind} loaded",
            message=report.to_json(),
            attributes={"type": f"{report.kind}_loaded", "partner": "program"},
        )
        return report

    def _registry(self, key: str) -> LoadReport:
        rep = LoadReport("registry", key)
        books = RuleBook(self.store.rule_versions())
        tiers = [t.name for t in books.versions[-1].tiers] if books else []
        try:
            partners, issues, rows = parse_registry(self.blobs.open(key), tiers)
        except FileError as exc:
            rep.file_error = exc.message
            return rep
        if not tiers:
            issues += [
                RowIssue(0, "starting_tier", p.starting_tier, "no rules loaded: upload rules first")
                for p in partners
                if p.starting_tier
            ]
            partners = [p for p in partners if not p.starting_tier]
        self.store.put_partners(partners)
        for p in partners:
            if p.starting_tier:
                self.store.put_tier(
                    p.partner_id, p.joined_on.isoformat()[:7], p.starting_tier, "starting tier (registry)"
                )
        rep.rows, rep.accepted, rep.rejected, rep.issues = rows, len(partners), len(issues), issues
        return rep

    def _rates(self, key: str) -> LoadReport:
        rep = LoadReport("rates", key)
        good: list[tuple[Any, str, Decimal]] = []
        try:
            for item in parse_rates(self.blobs.open(key)):
                if isinstance(item, RowIssue):
                    rep.issues.append(item)
                else:
                    good.append(item)
        except FileError as exc:
            rep.file_error = exc.message
            return rep
        self.store.put_fx_rates(good)
        rep.rows = len(good) + len(rep.issues)
        rep.accepted, rep.rejected = len(good), len(rep.issues)
        rep.detail = {"currencies": sorted({c for _, c, _ in good})}
        return rep

    def _rules(self, key: str) -> LoadReport:
        rep = LoadReport("rules", key, rows=1)
        try:
            rules = parse_rules(self.blobs.get(key).decode("utf-8"))
        except Exception as exc:  # pydantic ValidationError, YAML errors, bad UTF-8
            rep.file_error = f"invalid rules file: {exc}"
            rep.rejected = 1
            return rep
        created = self.store.put_rule_version(rules, key)
        rep.accepted = 1
        rep.detail = {
            "version": rules.version,
            "effective_from": rules.effective_from.isoformat(),
            "new": created,
        }
        return rep


# -- balances ------------------------------------------------------------------------------------------
@dataclass
class Balance:
    partner_id: str
    month: str
    tier: str
    net_sales_eur: Decimal
    commission: dict[str, Decimal]
    lines: int
    returns: int

    def to_json(self) -> dict[str, Any]:
        return {
            "partner_id": self.partner_id,
            "month": self.month,
            "tier": self.tier,
            "net_sales_eur": str(self.net_sales_eur),
            "commission_eur": {k: str(v) for k, v in self.commission.items()},
            "lines": self.lines,
            "returns": self.returns,
        }


class BalanceService:
    """Month-to-date figures from the month totals the writer maintains (one Query a partner)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def balance(self, partner_id: str, month: str, today: dt.date) -> Balance:
        return self.balances(partner_id, [month], today)[month]

    def balances(self, partner_id: str, months: Sequence[str], today: dt.date) -> dict[str, Balance]:
        rules = RuleBook(self.store.rule_versions())
        totals = {t.month: t for t in self.store.month_totals(partner_id)}
        out = {}
        for month in months:
            first = dt.date.fromisoformat(month + "-01")
            version = rules.in_effect(first) if rules and first >= rules.versions[0].effective_from else None
            tier = self.store.tier_for(partner_id, month) or (version.entry_tier if version else "")
            holding = dt.timedelta(days=version.holding_days if version else 30)
            t = totals.get(month)
            by_status = {"provisional": ZERO, "payable": ZERO, "paid": ZERO}
            if t is not None:
                for day, amount in t.by_day.items():
                    key = "payable" if first.replace(day=day) + holding <= today else "provisional"
                    by_status[key] += amount
            out[month] = Balance(
                partner_id,
                month,
                tier,
                t.net_eur if t else ZERO,
                by_status,
                t.lines if t else 0,
                t.returns if t else 0,
            )
        return out
