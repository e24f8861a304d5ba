"""Reading a simulation's start state and the actual figures from history (pure rules over the
read-only `HistorySource`).

- `sim_rules`: the rule book a simulation runs under: the live versions in effect before the
  window, the candidate from the window's first day on (live versions of the candidate's scope
  that start inside the window are left out: the candidate is what the window runs under).
- `sponsor_batches`: partners in batches of whole sponsor trees (a sponsor's overrides need its
  recruits' months in the same isolated world).
- `read_partner`: one partner's start state (`PartnerStart`), its lines to replay per period and
  the lines that cannot be replayed exactly (see docs/simulation.md, "Exactness")."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from loyalty.close.payees import BankSnapshot
from loyalty.earning.records import MonthTotals, SaleRecord
from loyalty.kernel.periods import months_back, previous_period
from loyalty.program.registry import Partner
from loyalty.program.rules import RuleVersion
from loyalty.simulation.ports import HistorySource
from loyalty.simulation.start import PartnerStart

HISTORY_LINES = 12  # committed close lines a partner's start keeps (the close reads at most 7)


def first_day(period: str) -> dt.date:
    return dt.date(int(period[:4]), int(period[5:7]), 1)


def _same_scope(a: RuleVersion, b: RuleVersion) -> bool:
    return (a.scope.cohort or "").lower() == (b.scope.cohort or "").lower() and sorted(
        a.scope.segments
    ) == sorted(b.scope.segments)


def sim_rules(live: Sequence[RuleVersion], candidate: RuleVersion, start: str) -> list[RuleVersion]:
    """The live versions in effect before `start`, and the candidate in effect from its first day
    (whatever its own `effective_from` says). Where closes start is the program's, not a what-if:
    the candidate keeps the live `first_close_period`."""
    day = first_day(start)
    general = [v for v in live if not (v.scope.cohort or v.scope.segments)]
    first = general[-1].payouts.first_close_period if general else candidate.payouts.first_close_period
    payouts = candidate.payouts.model_copy(update={"first_close_period": first})
    cand = candidate.model_copy(update={"effective_from": day, "payouts": payouts})
    kept = [v for v in live if v.effective_from < day or not _same_scope(v, candidate)]
    return [*kept, cand]


def lookback(rules: Iterable[RuleVersion]) -> int:
    """Months of tiers a start keeps: the longest returns lookback of any version."""
    return max((v.returns.lookback_months for v in rules), default=12)


def _root(pid: str, sponsors: dict[str, str]) -> str:
    seen = {pid}
    while sponsors.get(pid) and sponsors[pid] in sponsors and sponsors[pid] not in seen:
        pid = sponsors[pid]
        seen.add(pid)
    return pid


def sponsor_batches(partners: Iterable[Partner], size: int) -> list[list[Partner]]:
    """Partners in batches of about `size`, each sponsor tree whole (sorted by partner id)."""
    everyone = sorted(partners, key=lambda p: p.partner_id)
    sponsors = {p.partner_id: p.sponsor_id for p in everyone}
    trees: dict[str, list[Partner]] = defaultdict(list)
    for p in everyone:
        trees[_root(p.partner_id, sponsors)].append(p)
    out: list[list[Partner]] = []
    batch: list[Partner] = []
    for root in sorted(trees):
        if batch and len(batch) + len(trees[root]) > size:
            out.append(sorted(batch, key=lambda p: p.partner_id))
            batch = []
        batch.extend(trees[root])
    if batch:
        out.append(sorted(batch, key=lambda p: p.partner_id))
    return out


def landing(r: SaleRecord) -> str:
    """The period a line accrued to."""
    return r.period or r.month


@dataclass
class PartnerRead:
    start: PartnerStart
    replay: dict[str, list[SaleRecord]] = field(default_factory=dict)  # period -> lines, write order
    approximate: int = 0  # lines corrected after their month closed (replayed as corrected)
    actual_months: list[MonthTotals] = field(default_factory=list)  # the window's months, as they are


def as_of(months: Iterable[MonthTotals], later: Iterable[SaleRecord], lo: str, hi: str) -> list[MonthTotals]:
    """The month totals of months `lo`..`hi` as they stood before the `later` lines were written:
    a later return held with its sale moved the sale's month (its commission sits on the sale's
    day); a replay moves it again."""
    out = {m.month: dataclasses.replace(m, by_day=dict(m.by_day)) for m in months if lo <= m.month <= hi}
    for r in later:
        m = out.get(r.anchor[:7]) if r.anchor else None
        if m is not None:
            day = int(r.anchor[8:10])
            m.commission -= r.commission
            m.by_day[day] = m.by_day.get(day, Decimal(0)) - r.commission
    return [out[k] for k in sorted(out)]


def read_partner(
    history: HistorySource, p: Partner, bank: BankSnapshot | None, start: str, end: str, tier_months: int
) -> PartnerRead:
    pid = p.partner_id
    sales = list(history.partner_sales(pid))
    before = [r for r in sales if landing(r) < start]
    window = [r for r in sales if start <= landing(r) <= end]
    first: dict[str, str] = {}
    for r in before:
        if r.quantity > 0 and r.customer_id:
            m = landing(r)
            if r.customer_id not in first or m < first[r.customer_id]:
                first[r.customer_id] = m
    replay: dict[str, list[SaleRecord]] = defaultdict(list)
    for r in sorted(window, key=lambda r: (r.version, r.sale_id)):
        replay[landing(r)].append(r)
    tiers = {}
    for m in months_back(start, tier_months):
        t = history.tier_for(pid, m)
        if t:
            tiers[m] = t
    months = history.month_totals(pid)
    ps = PartnerStart(
        partner=p,
        bank=bank,
        tiers=tiers,
        months=as_of(months, (r for r in sales if landing(r) >= start), "0000-00", previous_period(start)),
        first_months=first,
        sales=before,
        history=history.close_history(pid, start, HISTORY_LINES),
        entries=[e for e in history.ledger_entries(partner_id=pid) if e.period < start],
        completions=history.completions(pid),
    )
    approximate = sum(1 for r in window if r.prev_version and r.period)
    actual = as_of(months, (r for r in sales if landing(r) > end), start, end)
    return PartnerRead(ps, dict(replay), approximate, actual)


def batch_reads(
    history: HistorySource, batch: Sequence[Partner], start: str, end: str, tier_months: int
) -> Iterator[PartnerRead]:
    banks = history.bank_snapshots([p.partner_id for p in batch])
    for p in batch:
        yield read_partner(history, p, banks.get(p.partner_id), start, end, tier_months)
