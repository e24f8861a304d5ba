"""Returns matched to the sale they reverse (PRODUCT §5; issue 9, point 14): "a return reverses at
the rate of its original sale (`original_sale_id`, else the partner's latest earlier sale of the
same SKU); with no original found, at the highest rate the partner held in the lookback window - a
return never earns the partner anything and never reverses more units than were sold."

`decide_returns` is the pure rule, row by row in file order (units returned earlier in the chunk
count against the later rows):

1. `original_sale_id` names a sale that is known (stored or earlier in the chunk): the return
   reverses at its rate (the calculator applies it), unless it returns more units than that sale
   has left (sold minus returned by other lines): then the row is **rejected** with the figures.
2. Otherwise the partner's earlier sales of the same SKU (sold at or before the return), latest
   first: the first with enough units left is the match (its rate, its holding day).
3. No such sale: if the partner never sold the SKU before (among the `MATCH_CANDIDATES` latest
   sales, or none at all), or its earlier sales together still have enough units left (a return
   spanning several sales), the return reverses at the **highest rate** of the lookback window;
   if they have fewer units left than the return, the row is **rejected** (over-return).

A rejected row is reported with its line number and reason like any other rejected row; the
partner re-sends it corrected (split per sale with `original_sale_id`, or fewer units).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from loyalty.earning.accrual_rules import landing_day, last_occurrences
from loyalty.earning.commission.block import AccrualBlock
from loyalty.earning.commission.highest import HighestRate
from loyalty.earning.commission.model import PartnerContext, RateEntry
from loyalty.earning.ports import SaleHistory
from loyalty.earning.records import SaleRef, StoredSale
from loyalty.ingest.sales.block import SaleBlock
from loyalty.program.rules import RuleBook

MATCH_CANDIDATES = 20  # the latest earlier sales of a SKU a return without its sale id is matched on
ORIGINAL = "original-sale"
Key = tuple[str, str]


@dataclass(frozen=True)
class ReturnAsk:
    """A return row of a chunk (the last line of its sale id there)."""

    index: int  # its row in the block
    partner_id: str
    sale_id: str
    sku: str
    sold_at: str
    category: str
    units: int  # units returned (positive)
    original_sale_id: str = ""


@dataclass
class ReturnPlan:
    fixed: dict[int, RateEntry] = field(default_factory=dict)  # row -> the rate it reverses at
    refused: dict[int, str] = field(default_factory=dict)  # row -> why it is rejected
    matched: dict[Key, str] = field(default_factory=dict)  # return -> sale matched by SKU
    anchors: dict[Key, str] = field(default_factory=dict)  # return -> that sale's holding day


def _units(n: int) -> str:
    return f"{n} unit{'s' if n != 1 else ''}"


class _Ledger:
    """Units returned per sale, as the chunk goes: each stored return line counts until this
    chunk accepts a new version of it (a rejected row leaves its stored line, and its units, in
    place); a row never counts its own stored version against itself (a correction, a redelivery)."""

    def __init__(self, returned: Mapping[Key, Mapping[str, int]]) -> None:
        self.returned = returned
        self.replaced: set[Key] = set()
        self.now: dict[Key, int] = {}

    def left(self, ref: SaleRef, ask: ReturnAsk) -> int:
        k, p = (ref.partner_id, ref.sale_id), ref.partner_id
        before = sum(
            n
            for rid, n in self.returned.get(k, {}).items()
            if rid != ask.sale_id and (p, rid) not in self.replaced
        )
        return ref.quantity - before - self.now.get(k, 0)

    def take(self, ref: SaleRef, ask: ReturnAsk) -> None:
        k = (ref.partner_id, ref.sale_id)
        self.now[k] = self.now.get(k, 0) + ask.units
        self.replaced.add((ask.partner_id, ask.sale_id))


def decide_returns(
    asks: Sequence[ReturnAsk],
    explicit: Mapping[Key, SaleRef],
    candidates: Mapping[Key, Sequence[SaleRef]],
    returned: Mapping[Key, Mapping[str, int]],
    highest: Callable[[ReturnAsk], RateEntry | None],
    truncated: frozenset[Key] = frozenset(),
) -> ReturnPlan:
    """The plan of a chunk's returns. `explicit`: the known sales named by `original_sale_id`;
    `candidates`: per (partner, SKU) the earlier sales, latest first (`truncated` when there may
    be older ones); `returned`: per sale, the units each other return line took already."""
    plan = ReturnPlan()
    book = _Ledger(returned)
    for ask in asks:
        ref = explicit.get((ask.partner_id, ask.original_sale_id)) if ask.original_sale_id else None
        if ref is not None:
            left = book.left(ref, ask)
            if ask.units > left:
                plan.refused[ask.index] = (
                    f"returns {_units(ask.units)} of sale {ref.sale_id}, which sold {ref.quantity}"
                    f" and has {max(left, 0)} not yet returned: a return never reverses more units than were sold"
                )
            else:
                book.take(ref, ask)
            continue
        _by_sku(plan, book, ask, candidates, highest, truncated)
    return plan


def _by_sku(
    plan: ReturnPlan,
    book: _Ledger,
    ask: ReturnAsk,
    candidates: Mapping[Key, Sequence[SaleRef]],
    highest: Callable[[ReturnAsk], RateEntry | None],
    truncated: frozenset[Key],
) -> None:
    """Steps 2 and 3: the latest earlier sale of the SKU with enough units left, else the highest
    rate, else (fewer units left than returned) a rejection."""
    k = (ask.partner_id, ask.sale_id)
    earlier = [
        c
        for c in candidates.get((ask.partner_id, ask.sku), ())
        if c.sold_at <= ask.sold_at and c.sale_id != ask.sale_id
    ]
    left_total = 0
    for ref in earlier:
        left = book.left(ref, ask)
        left_total += max(left, 0)
        if left >= ask.units:
            book.take(ref, ask)
            plan.fixed[ask.index] = RateEntry(ref.tier, ref.rate, ref.rule_version, ORIGINAL)
            plan.matched[k] = ref.sale_id
            plan.anchors[k] = ref.holding_day
            return
    if earlier and left_total < ask.units and (ask.partner_id, ask.sku) not in truncated:
        plan.refused[ask.index] = (
            f"returns {_units(ask.units)} of SKU {ask.sku}, but the partner's earlier sales of it have"
            f" {_units(left_total)} not yet returned: a return never reverses more units than were sold"
        )
        return
    entry = highest(ask)
    if entry is not None:
        plan.fixed[ask.index] = entry


class ReturnResolver:
    """Reads what `decide_returns` needs for a chunk through the `SaleHistory` port: the named
    sales, the earlier sales of each returned SKU (bounded) and the units already returned."""

    def __init__(self, history: SaleHistory, rules: RuleBook, tier_of: Callable[[str, str], str]) -> None:
        self.history = history
        self.rules = rules
        self.tier_of = tier_of

    def plan(
        self,
        block: SaleBlock,
        computed: AccrualBlock,
        existing: Mapping[Key, StoredSale],
        contexts: Mapping[str, PartnerContext],
    ) -> ReturnPlan:
        """The rates of `computed`'s returns, keyed by their row in `block` (the chunk as read:
        `computed` holds only the rows that priced, so its own indexes are shifted past any
        rejected row)."""
        if min(computed.block.quantity, default=0) >= 0:  # no returns: nothing to read or decide
            return ReturnPlan()
        accs = list(computed.accruals())
        last = last_occurrences(accs)
        live = [a for j, a in enumerate(accs) if last[(a.row.partner_id, a.row.sale_id)] == j]
        row_of = {line: i for i, line in enumerate(block.lines)}  # computed rows are a subset
        asks = [
            ReturnAsk(
                row_of[a.row.line],
                a.row.partner_id,
                a.row.sale_id,
                a.row.sku,
                a.row.sold_at,
                a.row.category,
                -a.row.quantity,
                a.row.original_sale_id,
            )
            for a in live
            if a.row.quantity < 0
        ]
        if not asks:
            return ReturnPlan()
        in_chunk = {
            (a.row.partner_id, a.row.sale_id): SaleRef(
                a.row.partner_id, a.row.sale_id, a.row.sold_at, a.row.sku, a.row.quantity,
                a.tier, a.rate, a.rule_version, "",
            )
            for a in live
            if a.row.quantity > 0
        }  # fmt: skip
        explicit = self._explicit(asks, in_chunk, existing)
        unnamed = [a for a in asks if (a.partner_id, a.original_sale_id) not in explicit]
        candidates, truncated = self._candidates(unnamed, in_chunk, set(last))
        wanted = {k for k in explicit.values()} | {c for cs in candidates.values() for c in cs}
        returned: dict[Key, dict[str, int]] = {}
        for pid in sorted({r.partner_id for r in wanted}):
            got = self.history.returned_units(pid, sorted({r.sale_id for r in wanted if r.partner_id == pid}))
            returned.update({(pid, sid): units for sid, units in got.items()})

        def highest(ask: ReturnAsk) -> RateEntry | None:
            return HighestRate(self.rules, self.tier_of, contexts.get(ask.partner_id)).entry(ask)

        return decide_returns(asks, explicit, candidates, returned, highest, frozenset(truncated))

    @staticmethod
    def _explicit(
        asks: Sequence[ReturnAsk], in_chunk: Mapping[Key, SaleRef], existing: Mapping[Key, StoredSale]
    ) -> dict[Key, SaleRef]:
        """The known sales that returns name by `original_sale_id` (in the chunk, else stored)."""
        out: dict[Key, SaleRef] = {}
        for a in asks:
            k = (a.partner_id, a.original_sale_id)
            if not a.original_sale_id:
                continue
            s = existing.get(k)
            if k in in_chunk:
                out[k] = in_chunk[k]
            elif s is not None and s.quantity > 0:
                out[k] = SaleRef(
                    s.partner_id,
                    s.sale_id,
                    s.day,
                    "",
                    s.quantity,
                    s.tier,
                    s.rate,
                    s.rule_version,
                    landing_day(s),
                )
        return out

    def _candidates(
        self, asks: Sequence[ReturnAsk], in_chunk: Mapping[Key, SaleRef], in_this_chunk: set[Key]
    ) -> tuple[dict[Key, list[SaleRef]], set[Key]]:
        """Per (partner, SKU): the earlier sales, latest first - stored ones (bounded) unless this
        chunk rewrites them, and this chunk's own."""
        until: dict[Key, str] = {}
        for a in asks:
            k = (a.partner_id, a.sku)
            until[k] = max(until.get(k, ""), a.sold_at)
        out: dict[Key, list[SaleRef]] = {}
        truncated: set[Key] = set()
        for (pid, sku), last in sorted(until.items()):
            stored = self.history.earlier_sales(pid, sku, last, MATCH_CANDIDATES)
            if len(stored) >= MATCH_CANDIDATES:
                truncated.add((pid, sku))
            refs = [r for r in stored if (pid, r.sale_id) not in in_this_chunk]
            refs += [
                r for r in in_chunk.values() if r.partner_id == pid and r.sku == sku and r.sold_at <= last
            ]
            out[(pid, sku)] = sorted(refs, key=lambda r: (r.sold_at, r.sale_id), reverse=True)
        return out, truncated
