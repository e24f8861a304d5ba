"""The accrual writer's business rules as pure functions returning dataclasses (no store, no I/O).

- `landing`: the period (and day) an accrual of a month lands in: its own month, or, once that
  month is closed, the first open period after it, counted from its first day.
- `decide_version`: "the newer version wins": a new line, a replacement of an older version, a
  redelivery of this very row, or a line superseded by a newer correction already stored.
- `month_entries`: the month-total bookkeeping of one written line: the replaced line taken out of
  the period it had landed in, the new line added to its own.
- `last_occurrences` and `originals_in_chunk`: within one chunk the later line of a sale wins, and
  a return finds an original sold earlier in the same chunk.
- `plan_chunk`: all of the above over a chunk's computed accruals: the lines to write, the month
  deltas to apply and the counts of the chunk result.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from decimal import Decimal

from loyalty.earning.commission.final import FINAL
from loyalty.earning.commission.model import Accrual, OriginalRate
from loyalty.earning.records import MonthDelta, SaleRecord, StoredSale
from loyalty.kernel.money import ZERO
from loyalty.kernel.periods import open_period

Key = tuple[str, str]  # (partner_id, sale_id)


@dataclass(frozen=True)
class Landing:
    period: str
    day: int

    @property
    def iso(self) -> str:
        """The landing as an ISO day (the day its commission holds from)."""
        return f"{self.period}-{self.day:02d}"

    def is_late(self, month: str) -> bool:
        """A line of a closed month that accrues to a later period."""
        return self.period != month


def landing(month: str, day: int, frozen: Set[str]) -> Landing:
    """Where an accrual dated `day` of `month` lands: a closed month's go to the next open period,
    counted from its first day (their holding period starts there)."""
    if month not in frozen:
        return Landing(month, day)
    return Landing(open_period(month, frozen), 1)


@dataclass(frozen=True)
class VersionDecision:
    write: bool  # False: a newer version is already stored (superseded)
    prev_version: str = ""  # the version this line replaces ("" for a new sale)
    redelivered: bool = False  # this very row was written before: its month deltas are in

    @property
    def kind(self) -> str:
        """How the chunk result counts the line: new, replaced or superseded."""
        if not self.write:
            return "superseded"
        return "replaced" if self.prev_version else "new"


def decide_version(stored: StoredSale | None, version: str) -> VersionDecision:
    """The newer version wins; versions sort by (upload time, upload, line)."""
    if stored is None:
        return VersionDecision(True)
    if stored.version == version:
        return VersionDecision(True, stored.prev_version, redelivered=True)
    if stored.version > version:
        return VersionDecision(False)
    return VersionDecision(True, stored.version)


@dataclass(frozen=True)
class MonthEntry:
    """One change of a partner's month totals (a line in or out)."""

    partner_id: str
    period: str
    day: int
    net_eur: Decimal
    commission: Decimal
    lines: int
    returns: int
    customer: str = ""
    units: int = 0  # the line's quantity
    category: str = ""
    sold: str = ""  # the month it was sold in, when that is not `period` (a late line)


def replaced_landing(stored: StoredSale, frozen: Set[str]) -> Landing:
    """Where a stored line sits in the month totals: the period it accrued to (or its month), and
    its day of sale unless it was a late line (counted from the period's first day)."""
    was = stored.period or stored.month
    return landing(was, int(stored.day[8:10]) if was == stored.month else 1, frozen)


def holding_entries(
    partner_id: str,
    where: Landing,
    anchor: str,
    net_eur: Decimal,
    commission: Decimal,
    lines: int,
    returns: int,
    customer: str = "",
    sales: tuple[int, str, str] = (0, "", ""),
) -> list[MonthEntry]:
    """A line's month-total entries: its sales figures where it landed; its commission there too,
    or, for a return anchored to its sale, on the sale's landing day (ISO `anchor`), so that the
    two mature together: inside the holding window they cancel, after a payout it is a clawback.
    `sales`: (units, category, month sold) of the line, counted with its sales figures."""
    units, category, month = sales
    sold = month if month and month != where.period else ""
    figures = (lines, returns, customer, units, category, sold)
    if not anchor or (anchor[:7] == where.period and int(anchor[8:10]) == where.day):
        return [MonthEntry(partner_id, where.period, where.day, net_eur, commission, *figures)]
    return [
        MonthEntry(partner_id, where.period, where.day, net_eur, ZERO, *figures),
        MonthEntry(partner_id, anchor[:7], int(anchor[8:10]), ZERO, commission, 0, 0),
    ]


def month_entries(
    acc: Accrual,
    where: Landing,
    decision: VersionDecision,
    stored: StoredSale | None,
    frozen: Set[str],
    anchor: str = "",
) -> list[MonthEntry]:
    """The month-total changes of writing `acc`: nothing for a redelivered or superseded line;
    else the replaced line out of where it sat and the new line into `where` (its commission on
    `anchor`, the landing day of the sale it returns, when it has one)."""
    if decision.redelivered or not decision.write:
        return []
    out: list[MonthEntry] = []
    if stored is not None:
        out += holding_entries(
            stored.partner_id,
            replaced_landing(stored, frozen),
            stored.anchor,
            -stored.net_eur,
            -stored.commission,
            -1,
            -int(stored.quantity < 0),
            sales=(-stored.quantity, stored.category, stored.month),
        )
    r = acc.row
    out += holding_entries(
        r.partner_id,
        where,
        anchor,
        acc.net_eur,
        acc.commission,
        1,
        int(r.quantity < 0),
        r.customer_id if r.quantity > 0 else "",
        sales=(r.quantity, r.category, r.month),
    )
    return out


def landing_day(s: StoredSale) -> str:
    """The ISO day a stored line's commission sits on (its holding day)."""
    return s.anchor or (f"{s.period}-01" if s.period else s.day)


def anchor_of(
    acc: Accrual, original_id: str, stored: Mapping[Key, StoredSale], in_chunk: Mapping[Key, str]
) -> str:
    """The holding day of a return priced at its original sale's rate: the original's landing
    day (stored, or sold earlier in this chunk); "" for a sale or a return without a known sale."""
    r = acc.row
    if r.quantity >= 0 or acc.rate_basis != "original-sale" or not original_id:
        return ""
    k = (r.partner_id, original_id)
    s = stored.get(k)
    if s is not None and s.quantity > 0:
        return landing_day(s)
    return in_chunk.get(k, "")


def month_deltas(entries: Iterable[MonthEntry]) -> dict[tuple[str, str], MonthDelta]:
    """Entries summed per (partner, period): what the chunk adds to each month total."""
    out: dict[tuple[str, str], MonthDelta] = defaultdict(MonthDelta)
    for e in entries:
        d = out[(e.partner_id, e.period)]
        d.add(e.day, e.net_eur, e.commission, e.lines, e.returns, e.customer)
        if e.lines:
            d.add_sales(e.net_eur, e.units, e.category, e.sold)
    return dict(out)


def last_occurrences(accruals: Sequence[Accrual]) -> dict[Key, int]:
    """The index of each sale's last line in the chunk (the later line of a sale wins)."""
    return {(a.row.partner_id, a.row.sale_id): i for i, a in enumerate(accruals)}


def originals_in_chunk(accruals: Iterable[Accrual], missing: Set[Key]) -> dict[Key, OriginalRate]:
    """Rates of originals sold in this same chunk, for returns whose original is not stored yet
    (a return shares its original's message group, so the two can travel together)."""
    out: dict[Key, OriginalRate] = {}
    for acc in accruals:
        k = (acc.row.partner_id, acc.row.sale_id)
        if k in missing and acc.row.quantity > 0:
            out[k] = OriginalRate(acc.rate, acc.tier, acc.rule_version, acc.row.month, acc.row.sold_at[:10])
    return out


@dataclass
class PartnerTotal:
    net_eur: Decimal = ZERO
    commission: Decimal = ZERO
    rows: int = 0

    def to_wire(self) -> list[str]:
        return [str(self.net_eur), str(self.commission), str(self.rows)]


@dataclass
class ChunkPlan:
    """What writing one chunk does: lines to put, month deltas to apply, and its counts."""

    records: list[SaleRecord] = field(default_factory=list)
    deltas: dict[tuple[str, str], MonthDelta] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: {"new": 0, "replaced": 0, "superseded": 0})
    late: dict[str, int] = field(default_factory=dict)  # closed month -> lines accrued to a later period
    partners: dict[str, PartnerTotal] = field(default_factory=dict)


def sale_record(acc: Accrual, version: str, prev_version: str, source: str, period: str) -> SaleRecord:
    """The stored accrual line of `acc`; `period` is set only for a late line of a closed month."""
    r = acc.row
    return SaleRecord(
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
        prev_version=prev_version,
        source=source,
        period=period,
    )


def plan_chunk(
    accruals: Sequence[Accrual],
    stored: Mapping[Key, StoredSale],
    frozen: Set[str],
    chunk_version: str,
    upload_id: str,
    matched: Mapping[Key, str] | None = None,
    anchors: Mapping[Key, str] | None = None,
) -> ChunkPlan:
    """Every accrual of a chunk through the rules: the later line of a sale in the chunk wins,
    then the newer version wins against the stored line; each written line moves the month
    totals (the replaced line out, the new one in) unless the chunk is a redelivery. A return
    priced at its sale's rate (`original_sale_id`, or the sale `matched` to it) holds with it.
    A redelivered line that its month's close has since made final is left as it is. `matched`:
    returns matched by SKU to a sale, `anchors`: that sale's holding day when it is stored."""
    plan = ChunkPlan()
    last = last_occurrences(accruals)
    entries: list[MonthEntry] = []
    matched, anchors = matched or {}, anchors or {}
    in_chunk = (
        {
            (a.row.partner_id, a.row.sale_id): landing(a.row.month, int(a.row.sold_at[8:10]), frozen).iso
            for a in accruals
            if a.row.quantity > 0
        }
        if any(a.row.quantity < 0 for a in accruals)
        else {}
    )
    for i, acc in enumerate(accruals):
        r = acc.row
        k = (r.partner_id, r.sale_id)
        if last[k] != i:
            plan.counts["superseded"] += 1
            continue
        version = f"{chunk_version}~{r.line:09d}"
        where = landing(r.month, int(r.sold_at[8:10]), frozen)
        if where.is_late(r.month):
            plan.late[r.month] = plan.late.get(r.month, 0) + 1
        cur = stored.get(k)
        decision = decide_version(cur, version)
        plan.counts[decision.kind] += 1
        if not decision.write or (decision.redelivered and cur is not None and cur.status == FINAL):
            continue
        period = where.period if where.is_late(r.month) else ""
        original = matched.get(k, r.original_sale_id)
        anchor = anchors.get(k) or anchor_of(acc, original, stored, in_chunk)
        rec = sale_record(acc, version, decision.prev_version, f"{upload_id}:{r.line}", period)
        rec.anchor, rec.matched = anchor, original if k in matched else ""
        plan.records.append(rec)
        entries += month_entries(acc, where, decision, cur, frozen, anchor)
        t = plan.partners.setdefault(r.partner_id, PartnerTotal())
        t.net_eur += acc.net_eur
        t.commission += acc.commission
        t.rows += 1
    plan.deltas = month_deltas(entries)
    return plan
