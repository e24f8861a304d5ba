"""Commission of one sales line (PRODUCT §5): tier rate of the month of sale, category bonus,
returns at the original sale's rate, FX to the program currency; rounded once, half-even.

:class:`Calculator` computes one row (`compute`) or a whole block in columns (`compute_block`);
a property test holds the two to the same accruals and the same first problem of every row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal, localcontext
from itertools import compress, repeat
from operator import itemgetter, mul, ne
from typing import cast

from loyalty.earning.commission.block import AccrualBlock
from loyalty.earning.commission.model import (
    Accrual,
    AccrualError,
    FxLookup,
    OriginalRate,
    PartnerContext,
    RateEntry,
    TierLookup,
)
from loyalty.earning.commission.rates import CACHE_LIMIT, PeriodTokens, RateProblem, RateTable, resolve_rate
from loyalty.ingest.sales.block import SaleBlock
from loyalty.ingest.sales.contract import SaleRow
from loyalty.kernel.csvio.model import RowIssue
from loyalty.kernel.money import CENT, CTX, to_cents
from loyalty.program.rules import RuleBook

_first = itemgetter(0)


class Calculator:
    """Pure commission maths over lookups (tiers, FX, rules). Memoises per (tier, category)."""

    def __init__(self, rules: RuleBook, tiers: TierLookup, fx: FxLookup, currency: str = "EUR") -> None:
        self.rules = rules
        self.tiers = tiers
        self.fx = fx
        self.currency = currency
        self._tier_cache: dict[tuple[str, str], str] = {}
        self._fx_cache: dict[tuple[str, str], tuple[Decimal, str] | None] = {}
        # columnar path: sold_at -> month or day token; (partner, token, category) -> table index
        self._tokens = PeriodTokens(rules)
        self._keys: dict[tuple[str, str, str], int] = {}
        self._table = RateTable()  # the rate table blocks share
        self._decimals: dict[int, Decimal] = {}
        self._cent_prices: set[Decimal] = set()  # prices with exactly two decimals
        self._fx_rows: dict[tuple[str, str], tuple[Decimal, str] | None] = {}  # (currency, sold_at)
        self._home_only = frozenset({currency})
        self._scoped = any(v.scope.cohort or v.scope.segments for v in rules.versions)
        self._keyed_for: Mapping[str, PartnerContext] | None = None

    def fx_rate(self, currency: str, day: str) -> tuple[Decimal, str] | None:
        key = (currency, day)
        found = self._fx_cache.get(key, False)
        if found is False:
            hit = self.fx.rate(currency, dt.date.fromisoformat(day))
            found = (hit[0], hit[1].isoformat()) if hit else None
            self._fx_cache[key] = found
        return found  # type: ignore[return-value]

    def tier_of(self, partner_id: str, month: str) -> str:
        """The partner's tier for the month, "" when none is recorded (the entry tier applies)."""
        key = (partner_id, month)
        t = self._tier_cache.get(key)
        if t is None:
            t = self.tiers.tier_for(partner_id, month) or ""
            self._tier_cache[key] = t
        return t

    def compute(
        self,
        row: SaleRow,
        original: OriginalRate | None = None,
        partner: PartnerContext | None = None,
    ) -> Accrual:
        day_s = row.sold_at[:10]
        day = dt.date.fromisoformat(day_s)
        try:
            version = self.rules.in_effect(
                day, partner.cohort if partner else None, partner.segment if partner else None
            )
        except LookupError as exc:
            raise AccrualError("sold_at", str(exc)) from exc
        net = row.unit_price * row.quantity
        if row.currency == self.currency:
            fx_rate: Decimal | None = None
            fx_date = ""
            net_prog = net
        else:
            found = self.fx_rate(row.currency, day_s)
            if found is None:
                raise AccrualError(
                    "currency",
                    f"no {row.currency}/{self.currency} rate on or before {day_s}; upload a rates file and re-send the row",
                )
            fx_rate, fx_date = found
            net_prog = CTX.divide(net, fx_rate)
        if original is not None and row.quantity < 0:
            if original.day and day_s < original.day:
                raise AccrualError(
                    "sold_at",
                    f"a return cannot be dated before the sale it returns ({row.original_sale_id}, sold {original.day})",
                )
            tier, rate, rule_version, basis = (
                original.tier,
                original.rate,
                original.rule_version,
                "original-sale",
            )
        else:
            tier = self.tier_of(row.partner_id, row.month) or version.entry_tier
            try:
                rate = version.commission_rate(tier, row.category)
            except KeyError as exc:
                raise AccrualError(
                    "partner_id", f"tier {tier!r} is not defined in rules {version.version}"
                ) from exc
            rule_version, basis = version.version, "month"
        commission = to_cents(CTX.multiply(net_prog, rate))
        return Accrual(
            row=row,
            net=net,
            fx_rate=fx_rate,
            fx_date=fx_date,
            net_eur=to_cents(net_prog),
            tier=tier,
            rate=rate,
            rule_version=rule_version,
            rate_basis=basis,
            commission=commission,
        )

    # -- columnar ------------------------------------------------------------------------------
    def compute_block(
        self,
        block: SaleBlock,
        originals: Mapping[tuple[str, str], OriginalRate] | None = None,
        partners: Mapping[str, PartnerContext] | None = None,
        fixed: Mapping[int, RateEntry] | None = None,
        refused: Mapping[int, str] | None = None,
    ) -> tuple[AccrualBlock, list[RowIssue]]:
        """`compute` over a whole block, in columns: the same accruals and the same first problem
        of every row (a property test holds the two to it). `fixed` and `refused` are the plan of
        the block's returns (`loyalty.earning.returns`): rows reversing at a rate found for them,
        and rows rejected (more units returned than were sold).

        Per row this is a few C-level passes: a token per `sold_at` (the month, or the day when a
        rule version starts within the month), one dictionary lookup of (partner, token,
        category) for the rate, then Decimal products and one half-even quantize per amount.
        Everything that is per partner, month, tier or currency is worked out once per distinct
        value and cached for the calculator's lifetime (a warm container's). Each helper below
        runs once per block, not per row.
        """
        if not len(block):
            return AccrualBlock(block, [], [], {}, [], [], []), []
        entry = self._entry_column(block, partners)
        problems = self._table_problems(entry)
        if originals and any(block.original_sale_id):
            self._apply_originals(block, originals, entry, problems)
        if fixed or refused:
            self._apply_returns(block, fixed or {}, refused or {}, entry, problems)
        fx: dict[int, tuple[Decimal, str]] = {}
        net, net_eur, commission = self._amounts(block, entry, fx, problems)
        out = AccrualBlock(block, entry, self._table.entries, fx, net, net_eur, commission)
        if not problems:
            return out, []
        issues = [
            RowIssue(block.lines[i], pr.column, pr.value, pr.reason) for i, pr in sorted(problems.items())
        ]
        return out.without(problems.keys()), issues

    def _entry_column(self, block: SaleBlock, partners: Mapping[str, PartnerContext] | None) -> list[int]:
        """Each row's index in the rate table, from its (partner, month or day, category)."""
        if self._scoped and partners is not self._keyed_for:  # pilot scopes depend on the partner
            self._keys.clear()
            self._keyed_for = partners
        tokens = self._tokens.of(block.sold_at)
        keys = self._keys
        try:
            return list(map(keys.__getitem__, zip(block.partner_id, tokens, block.category, strict=True)))
        except KeyError:
            if len(keys) > CACHE_LIMIT:
                keys.clear()
            for k in set(zip(block.partner_id, tokens, block.category, strict=True)).difference(keys):
                ctx = partners.get(k[0]) if partners else None
                keys[k] = self._table.intern(resolve_rate(self.rules, self.tier_of, k[0], k[1], k[2], ctx))
            return list(map(keys.__getitem__, zip(block.partner_id, tokens, block.category, strict=True)))

    def _table_problems(self, entry: list[int]) -> dict[int, RateProblem]:
        """Row index -> problem, for the rows whose table index is a problem."""
        table = self._table.problems
        problems: dict[int, RateProblem] = {}
        if not table.keys().isdisjoint(entry):
            for i in compress(range(len(entry)), map(table.__contains__, entry)):
                problems[i] = table[entry[i]]
        return problems

    def _amounts(
        self,
        block: SaleBlock,
        entry: list[int],
        fx: dict[int, tuple[Decimal, str]],
        problems: dict[int, RateProblem],
    ) -> tuple[list[Decimal], list[Decimal], list[Decimal]]:
        """(net, net in the program currency rounded to cents, commission) of every row."""
        rates = list(map(self._table.rates.__getitem__, entry))
        qty = self._quantities(block.quantity)
        cents = self._in_cents(block.unit_price)
        with localcontext(CTX):
            net = list(map(mul, block.unit_price, qty))
            if self._home_only.issuperset(block.currency):
                prog = net
            else:
                prog = list(net)
                self._convert(block, net, prog, fx, problems)
            commission = list(map(CTX.quantize, map(mul, prog, rates), repeat(CENT)))  # half-even
            if cents:  # quantizing to cents is the identity on amounts already in cents
                net_eur = list(prog)
                for i in fx:
                    net_eur[i] = CTX.quantize(prog[i], CENT)
            else:
                net_eur = list(map(CTX.quantize, prog, repeat(CENT)))
        return net, net_eur, commission

    def _quantities(self, quantity: Sequence[int]) -> list[Decimal]:
        known = self._decimals
        try:
            return list(map(known.__getitem__, quantity))
        except KeyError:
            for q in set(quantity).difference(known):
                known[q] = Decimal(q)
            return list(map(known.__getitem__, quantity))

    def _in_cents(self, prices: Sequence[Decimal]) -> bool:
        """Do all prices have exactly two decimals?"""
        if self._cent_prices.issuperset(prices):
            return True
        if len(self._cent_prices) > CACHE_LIMIT:
            self._cent_prices.clear()
        self._cent_prices.update(p for p in set(prices) if p.as_tuple().exponent == -2)
        return self._cent_prices.issuperset(prices)

    def _convert(
        self,
        block: SaleBlock,
        net: list[Decimal],
        prog: list[Decimal],
        fx: dict[int, tuple[Decimal, str]],
        problems: dict[int, RateProblem],
    ) -> None:
        """Foreign-currency rows: `prog[i]` = net / rate of the sale day (or the latest before)."""
        home = self.currency
        foreign = list(map(ne, block.currency, repeat(home)))
        rows = list(compress(range(len(block)), foreign))
        keys = list(zip(compress(block.currency, foreign), compress(block.sold_at, foreign), strict=True))
        known = self._fx_rows
        try:
            hits = list(map(known.__getitem__, keys))
        except KeyError:
            if len(known) > CACHE_LIMIT:
                known.clear()
            for cur, sold in set(keys).difference(known):
                known[cur, sold] = self.fx_rate(cur, sold[:10])
            hits = list(map(known.__getitem__, keys))
        if None in hits:
            for i, (cur, sold), hit in zip(rows, keys, hits, strict=True):
                if hit is None and (i not in problems or problems[i].rank > 2):
                    problems[i] = RateProblem(
                        "currency",
                        f"no {cur}/{home} rate on or before {sold[:10]}; upload a rates file and re-send the row",
                        2,
                        cur,
                    )
            ok = [h is not None for h in hits]
            rows, hits = list(compress(rows, ok)), list(compress(hits, ok))
        found = cast(list[tuple[Decimal, str]], hits)
        fx.update(zip(rows, found, strict=True))
        converted = map(CTX.divide, map(net.__getitem__, rows), map(_first, found))
        for i, value in zip(rows, converted, strict=True):
            prog[i] = value

    def _apply_returns(
        self,
        block: SaleBlock,
        fixed: Mapping[int, RateEntry],
        refused: Mapping[int, str],
        entry: list[int],
        problems: dict[int, RateProblem],
    ) -> None:
        """Returns matched to a sale (or at the highest rate) take that rate; over-returns are
        rejected. A row's earlier problem (no rules, no FX rate) is reported first."""
        for i, e in fixed.items():
            if i in problems and problems[i].rank < 3:
                continue
            problems.pop(i, None)
            entry[i] = self._table.intern(e)
        for i, reason in refused.items():
            if i not in problems or problems[i].rank >= 3:
                problems[i] = RateProblem("quantity", reason, 3, str(block.quantity[i]))

    def _apply_originals(
        self,
        block: SaleBlock,
        originals: Mapping[tuple[str, str], OriginalRate],
        entry: list[int],
        problems: dict[int, RateProblem],
    ) -> None:
        """Returns of a known sale take its rate, unless dated before it."""
        for i in compress(range(len(block)), block.original_sale_id):
            o = block.original_sale_id[i]
            if block.quantity[i] >= 0:
                continue
            orig = originals.get((block.partner_id[i], o))
            if orig is None or (i in problems and problems[i].rank < 3):
                continue
            if orig.day and block.sold_at[i][:10] < orig.day:
                problems[i] = RateProblem(
                    "sold_at",
                    f"a return cannot be dated before the sale it returns ({o}, sold {orig.day})",
                    3,
                    block.sold_at[i],
                )
                continue
            problems.pop(i, None)  # a tier problem does not concern a return at its sale's rate
            entry[i] = self._table.intern(RateEntry(orig.tier, orig.rate, orig.rule_version, "original-sale"))
