"""Reference calculator: recomputes a program's monthly closes from a bucket-like directory.

Written from PRODUCT.md §5 and ORACLE_FORMATS.md only (standard library + yaml, never the engine).
`reference(root, periods)` returns {partner_id: {period: figures}}; see docs/oracle.md.
"""

from __future__ import annotations

import datetime as dt
import itertools
import pathlib
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext

from tests.oracle.inputs import (
    HUNDRED,
    ZERO,
    Line,
    Program,
    Target,
    cents,
    last_day,
    month_name,
    month_of,
    parse_month,
)

Figures = dict[str, str]


def band_pct(method: str, bands: tuple[tuple[Decimal, Decimal], ...], att: Decimal) -> Decimal:
    """The bonus percentage paid at attainment `att` (ORACLE_FORMATS "Targets")."""
    if method == "step":
        total = ZERO
        for index, (low, value) in enumerate(bands):
            high = min(att, bands[index + 1][0]) if index + 1 < len(bands) else att
            total += max(ZERO, high - low) * value / HUNDRED
        return total
    if method == "interpolated":
        if att < bands[0][0]:
            return ZERO
        for (a0, v0), (a1, v1) in itertools.pairwise(bands):
            if att <= a1:
                return v0 + (v1 - v0) * (att - a0) / (a1 - a0)
        return bands[-1][1]
    reached = [value for low, value in bands if low <= att]
    return reached[-1] if reached else ZERO


@dataclass
class _Account:
    """One partner's running close state."""

    tier: str
    below: int = 0
    matured: Decimal = ZERO
    carried: Decimal = ZERO


class Closes:
    """The monthly closes of a Program over a consecutive run of months."""

    def __init__(self, program: Program, months: list[int]) -> None:
        self.p = program
        self.months = months
        self.lines = [ln for ln in program.lines if month_of(ln.sold) <= months[-1]]
        self.net: dict[str, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for line in self.lines:
            self.net[line.pid][month_of(line.sold)] += line.net_eur
        self.children: dict[str, list[str]] = defaultdict(list)
        for partner in program.partners.values():
            if partner.sponsor in program.partners and partner.sponsor != partner.pid:
                self.children[partner.sponsor].append(partner.pid)
        self.tier_for: dict[str, dict[int, str]] = defaultdict(dict)
        self.tier_after: dict[str, dict[int, str]] = defaultdict(dict)
        self.close_version = {
            (pid, m): program.version(pid, last_day(m)) for pid in program.partners for m in months
        }
        self._review_tiers()
        self._rate_lines()

    def _review_tiers(self) -> None:
        for pid, partner in self.p.partners.items():
            entry = self.p.version(pid, last_day(self.months[0] - 1) + dt.timedelta(days=1))
            state = _Account(partner.starting_tier or entry.tiers[0].name)
            for month in self.months:
                self.tier_for[pid][month] = state.tier
                version = self.close_version[(pid, month)]
                trailing = sum((self.net[pid][k] for k in range(month - version.window + 1, month + 1)), ZERO)
                qualifying = version.tiers[0]
                for tier in version.tiers:
                    certified = all(partner.certs.get(c, 0) >= n for c, n in tier.certs.items())
                    if trailing >= tier.threshold and certified:
                        qualifying = tier
                if version.rank(qualifying.name) >= version.rank(state.tier):
                    state.tier, state.below = qualifying.name, 0
                else:
                    state.below += 1
                    if state.below >= version.downgrade_after:
                        state.tier, state.below = qualifying.name, 0
                self.tier_after[pid][month] = state.tier

    def _rate_lines(self) -> None:
        sales = {(ln.pid, ln.sale_id): ln for ln in self.lines if ln.qty >= 0}
        for line in sorted(self.lines, key=lambda ln: ln.qty < 0):  # sales first, then returns
            version = self.p.version(line.pid, line.sold)
            if line.qty >= 0:
                line.rate = version.rate(self.tier_for[line.pid][month_of(line.sold)], line.category)
            elif (original := self._original(line, sales.get((line.pid, line.original)))) is not None:
                # PRODUCT §5: a return reverses at its sale's rate and matures with that sale
                line.rate, line.holds_from = original.rate, original.sold
            else:
                month = month_of(line.sold)
                held = [
                    t for m, t in self.tier_for[line.pid].items() if month - version.lookback < m <= month
                ]
                line.rate = max(version.rate(t, line.category) for t in held)
            line.commission = cents(line.exact_eur * line.rate)

    def _original(self, line: Line, original: Line | None) -> Line | None:
        """The sale a return returns: its original_sale_id, else the latest earlier sale of the SKU."""
        if original is not None and original.sold <= line.sold:
            return original
        same_sku = [
            s
            for s in self.lines
            if s.pid == line.pid and s.qty > 0 and s.sku == line.sku and s.sold <= line.sold
        ]
        return same_sku[-1] if same_sku else None

    def override(self, sponsor: str, month: int) -> Decimal:
        """Σ overrides the sponsor earns at the close of `month` (0 in a non-qualifying month)."""
        version = self.close_version[(sponsor, month)]
        if version.requires_positive and self.net[sponsor][month] <= version.min_own:
            return ZERO
        total, frontier, seen = ZERO, [sponsor], {sponsor}
        for level in range(min(len(version.level_pct), version.max_depth)):
            frontier = [c for p in frontier for c in self.children[p] if c not in seen]
            seen.update(frontier)
            for recruit in frontier:
                total += cents(self.net[recruit][month] * version.level_pct[level] / HUNDRED)
        return total

    def actual(self, target: Target, pid: str) -> Decimal:
        """The target's metric for a partner over the target's interval."""
        lines = [
            ln
            for ln in self.lines
            if ln.pid == pid and (not target.category or ln.category.casefold() == target.category.casefold())
        ]
        inside = [ln for ln in lines if month_of(ln.sold) in target.months]
        if target.metric == "units":
            return Decimal(sum(ln.qty for ln in inside))
        if target.metric == "new_customers":
            first: dict[str, dt.date] = {}
            for ln in lines:
                if ln.customer and ln.qty > 0:
                    first[ln.customer] = min(first.get(ln.customer, ln.sold), ln.sold)
            return Decimal(sum(1 for day in first.values() if month_of(day) in target.months))
        return sum((ln.net_eur for ln in inside), ZERO)

    def bonuses(self) -> dict[tuple[str, int], Decimal]:
        """Σ target bonuses accrued per (partner, close month)."""
        awarded: dict[tuple[str, int], Decimal] = defaultdict(Decimal)
        done: set[tuple[str, tuple[int, ...], str]] = set()
        for target in self.p.targets:
            close = target.months[-1]
            if close not in self.months or target.goal == 0:
                continue
            for pid, partner in self.p.partners.items():
                key = (target.tid, target.months, pid)
                if key in done or not target.applies(partner):
                    continue
                if not self.close_version[(pid, close)].targets_enabled:
                    continue
                done.add(key)
                att = cents(self.actual(target, pid) / target.goal * HUNDRED)
                awarded[(pid, close)] += cents(
                    target.bonus * band_pct(target.method, target.bands, att) / HUNDRED
                )
        return awarded

    def figures(self) -> dict[str, dict[int, Figures]]:
        bonus = self.bonuses()
        # (the day holding counts from, the day it exists, amount): a return holds from its sale's
        # day, so inside the sale's window both mature together; after, at the return's own close
        items: dict[str, list[tuple[dt.date, dt.date, Decimal]]] = defaultdict(list)
        for line in self.lines:
            items[line.pid].append((line.holds_from or line.sold, line.sold, line.commission))
        overrides = {(pid, m): self.override(pid, m) for pid in self.p.partners for m in self.months}
        for (pid, month), amount in [*bonus.items(), *overrides.items()]:
            items[pid].append((last_day(month), last_day(month), amount))
        out: dict[str, dict[int, Figures]] = {}
        for pid in self.p.partners:
            state, out[pid] = _Account(""), {}
            for month in self.months:
                version = self.close_version[(pid, month)]
                end = last_day(month)
                cutoff = end - dt.timedelta(days=version.holding_days)
                matured = sum((a for held, day, a in items[pid] if held <= cutoff and day <= end), ZERO)
                now, state.matured = matured - state.matured, matured
                total = state.carried + now
                paid = total if total >= version.minimum_payout and total > 0 else ZERO
                state.carried = total - paid
                sold = [ln for ln in self.lines if ln.pid == pid and month_of(ln.sold) == month]
                out[pid][month] = {
                    "net_sales": _money(self.net[pid][month]),
                    "commission": _money(sum((ln.commission for ln in sold), ZERO)),
                    "tier_for_sales": self.tier_for[pid][month],
                    "tier_after": self.tier_after[pid][month],
                    "bonus": _money(bonus.get((pid, month), ZERO)),
                    "override": _money(overrides[(pid, month)]),
                    "matured_now": _money(now),
                    "payout": _money(paid),
                    "carried_out": _money(state.carried),
                    "rule_version": version.name,
                }
        return out


def _money(value: Decimal) -> str:
    return f"{cents(value) + ZERO:.2f}" if value else "0.00"


def reference(root: pathlib.Path, periods: list[str]) -> dict[str, dict[str, dict[str, str]]]:
    """{partner_id: {period: figures}} for every registry partner and every period in `periods`.

    Closes run one per month, in order, from the earlier of the first month of sales and the first
    requested period up to the last requested period; only the requested periods are returned.
    """
    with localcontext() as ctx:
        ctx.prec, ctx.rounding = 28, ROUND_HALF_EVEN
        wanted = sorted({parse_month(p) for p in periods})
        if not wanted:
            return {}
        program = Program(root)
        first = min([wanted[0], *(month_of(ln.sold) for ln in program.lines)])
        result = Closes(program, list(range(first, wanted[-1] + 1))).figures()
        return {
            pid: {month_name(m): figures for m, figures in by_month.items() if m in wanted}
            for pid, by_month in result.items()
        }
