"""Commission of one sales line (PRODUCT §5): tier rate of the month of sale, category bonus,
returns at the original sale's rate, FX to the program currency; rounded once, half-even.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext
from itertools import compress, repeat
from operator import attrgetter, itemgetter, mul, ne
from typing import Any, Protocol, cast

from loyalty.ingest.sales import SaleBlock, SaleRow
from loyalty.kernel.csvio import RowIssue
from loyalty.kernel.money import CENT, CTX, HUNDRED, to_cents
from loyalty.program.rules import RuleBook


class TierLookup(Protocol):
    def tier_for(self, partner_id: str, month: str) -> str | None: ...


class FxLookup(Protocol):
    def rate(self, currency: str, day: dt.date) -> tuple[Decimal, dt.date] | None: ...


@dataclass(frozen=True, slots=True)
class OriginalRate:
    """What a return needs from the sale it returns."""

    rate: Decimal
    tier: str
    rule_version: str
    month: str
    day: str = ""  # sale date of the original (ISO); a return may not precede it


@dataclass(frozen=True, slots=True)
class PartnerContext:
    cohort: str | None = None
    segment: str | None = None


@dataclass(slots=True)
class Accrual:
    row: SaleRow
    net: Decimal  # in the sale's currency, exact
    fx_rate: Decimal | None  # units of sale currency per EUR; None for EUR
    fx_date: str
    net_eur: Decimal  # rounded to cents (reporting)
    tier: str
    rate: Decimal  # fraction, e.g. 0.04
    rule_version: str
    rate_basis: str  # "month" | "original-sale"
    commission: Decimal  # cents, half-even, once

    def trace(self) -> str:
        r = self.row
        parts = [f"{r.quantity} x {r.unit_price} {r.currency} = {self.net} {r.currency}"]
        if self.fx_rate is not None:
            parts.append(f"/ {self.fx_rate} {r.currency}/EUR ({self.fx_date}) = {self.net_eur} EUR")
        pct = (self.rate * HUNDRED).normalize()
        basis = (
            "rate of original sale"
            if self.rate_basis == "original-sale"
            else f"{self.tier} rate of {r.month}"
        )
        cat = f", {r.category}" if r.category else ""
        parts.append(f"x {pct:f} % ({basis}{cat}; rules {self.rule_version}) = {self.commission} EUR")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class RateEntry:
    """What a line's rate rests on; a block holds few distinct ones (dictionary-encoded)."""

    tier: str
    rate: Decimal
    rule_version: str
    basis: str  # "month" | "original-sale"


@dataclass(frozen=True, slots=True)
class _RateProblem:
    column: str
    reason: str
    rank: int  # which problem `compute` would report first, when a row has several
    value: str = ""  # what the row's issue quotes (problems of one row only)


@dataclass(slots=True)
class AccrualBlock:
    """Computed accruals in columns, aligned with `block` (only rows that could be computed).

    Rates are dictionary-encoded: `entry[i]` indexes `entries`; `fx` holds the rows in a
    foreign currency (row index -> (units per EUR, rate date)).
    """

    block: SaleBlock
    entry: list[int]
    entries: list[RateEntry]
    fx: dict[int, tuple[Decimal, str]]
    net: list[Decimal]
    net_eur: list[Decimal]
    commission: list[Decimal]

    def __len__(self) -> int:
        return len(self.net)

    def _col(self, get: Any) -> list[Any]:
        table = list(map(get, self.entries))
        return list(map(table.__getitem__, self.entry))

    @property
    def tier(self) -> list[str]:
        return self._col(_tier_of)

    @property
    def rate(self) -> list[Decimal]:
        return self._col(_rate_of)

    @property
    def rule_version(self) -> list[str]:
        return self._col(_version_of)

    @property
    def rate_basis(self) -> list[str]:
        return self._col(_basis_of)

    @property
    def fx_rate(self) -> list[Decimal | None]:
        return [self.fx[i][0] if i in self.fx else None for i in range(len(self))]

    @property
    def fx_date(self) -> list[str]:
        return [self.fx[i][1] if i in self.fx else "" for i in range(len(self))]

    def accruals(self) -> Iterator[Accrual]:
        entries, fx = self.entries, self.fx
        for i, row in enumerate(self.block.rows()):
            e = entries[self.entry[i]]
            rate, date = fx.get(i, (None, ""))
            yield Accrual(
                row,
                self.net[i],
                rate,
                date,
                self.net_eur[i],
                e.tier,
                e.rate,
                e.rule_version,
                e.basis,
                self.commission[i],
            )


_first = itemgetter(0)
_tier_of = attrgetter("tier")
_rate_of = attrgetter("rate")
_version_of = attrgetter("rule_version")
_basis_of = attrgetter("basis")
_CACHE_LIMIT = 100_000


class AccrualError(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


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
        self._tokens: dict[str, str] = {}
        self._steady: dict[str, bool] = {}
        self._keys: dict[tuple[str, str, str], int] = {}
        self._entries: list[RateEntry] = []  # the rate table blocks share (blank for a problem)
        self._problems: dict[int, _RateProblem] = {}  # table index -> problem
        self._index: dict[RateEntry | _RateProblem, int] = {}
        self._decimals: dict[int, Decimal] = {}
        self._rates: list[Decimal] = []  # rate per table index (0 for problems)
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
    ) -> tuple[AccrualBlock, list[RowIssue]]:
        """`compute` over a whole block, in columns: the same accruals and the same first problem
        of every row (a property test holds the two to it).

        Per row this is a few C-level passes: a token per `sold_at` (the month, or the day when a
        rule version starts within the month), one dictionary lookup of (partner, token,
        category) for the rate, then Decimal products and one half-even quantize per amount.
        Everything that is per partner, month, tier or currency is worked out once per distinct
        value and cached for the calculator's lifetime (a warm container's).
        """
        n = len(block)
        if not n:
            return AccrualBlock(block, [], [], {}, [], [], []), []
        if self._scoped and partners is not self._keyed_for:  # pilot scopes depend on the partner
            self._keys.clear()
            self._keyed_for = partners
        sold_at = block.sold_at
        try:
            tokens = list(map(self._tokens.__getitem__, sold_at))
        except KeyError:
            self._add_tokens(sold_at)
            tokens = list(map(self._tokens.__getitem__, sold_at))
        keys = self._keys
        try:
            entry = list(map(keys.__getitem__, zip(block.partner_id, tokens, block.category, strict=True)))
        except KeyError:
            if len(keys) > _CACHE_LIMIT:
                keys.clear()
            for k in set(zip(block.partner_id, tokens, block.category, strict=True)).difference(keys):
                keys[k] = self._resolve(k[0], k[1], k[2], partners)
            entry = list(map(keys.__getitem__, zip(block.partner_id, tokens, block.category, strict=True)))
        problems: dict[int, _RateProblem] = {}
        if not self._problems.keys().isdisjoint(entry):
            for i in compress(range(n), map(self._problems.__contains__, entry)):
                problems[i] = self._problems[entry[i]]
        if originals and any(block.original_sale_id):
            self._apply_originals(block, originals, entry, problems)
        rates = list(map(self._rates.__getitem__, entry))
        quantities = self._decimals
        try:
            qty = list(map(quantities.__getitem__, block.quantity))
        except KeyError:
            for q in set(block.quantity).difference(quantities):
                quantities[q] = Decimal(q)
            qty = list(map(quantities.__getitem__, block.quantity))
        if not self._cent_prices.issuperset(block.unit_price):
            self._add_cent_prices(block.unit_price)
            cents = self._cent_prices.issuperset(block.unit_price)
        else:
            cents = True
        fx: dict[int, tuple[Decimal, str]] = {}
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
        out = AccrualBlock(block, entry, self._entries, fx, net, net_eur, commission)
        if not problems:
            return out, []
        issues = [
            RowIssue(block.lines[i], pr.column, pr.value, pr.reason) for i, pr in sorted(problems.items())
        ]
        return _drop(out, problems.keys()), issues

    def _convert(
        self,
        block: SaleBlock,
        net: list[Decimal],
        prog: list[Decimal],
        fx: dict[int, tuple[Decimal, str]],
        problems: dict[int, _RateProblem],
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
            if len(known) > _CACHE_LIMIT:
                known.clear()
            for cur, sold in set(keys).difference(known):
                known[cur, sold] = self.fx_rate(cur, sold[:10])
            hits = list(map(known.__getitem__, keys))
        if None in hits:
            for i, (cur, sold), hit in zip(rows, keys, hits, strict=True):
                if hit is None and (i not in problems or problems[i].rank > 2):
                    problems[i] = _RateProblem(
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

    def _add_cent_prices(self, prices: Sequence[Decimal]) -> None:
        if len(self._cent_prices) > _CACHE_LIMIT:
            self._cent_prices.clear()
        self._cent_prices.update(p for p in set(prices) if p.as_tuple().exponent == -2)

    # -- the columnar path's caches ------------------------------------------------------------------
    def _add_tokens(self, sold_at: Sequence[str]) -> None:
        """Token of each new `sold_at`: its month when one rule version is in effect for the whole
        month (for every scope), else its day."""
        if len(self._tokens) > _CACHE_LIMIT:
            self._tokens.clear()
        for s in set(sold_at).difference(self._tokens):
            month = s[:7]
            steady = self._steady.get(month)
            if steady is None:
                first = dt.date.fromisoformat(f"{month}-01")
                last = (first + dt.timedelta(days=31)).replace(day=1)
                steady = not any(first < v.effective_from < last for v in self.rules.versions)
                if steady:
                    try:
                        self.rules.in_effect(first)
                    except LookupError:
                        steady = False
                self._steady[month] = steady
            self._tokens[s] = month if steady else s[:10]

    def _resolve(
        self, partner_id: str, token: str, category: str, partners: Mapping[str, PartnerContext] | None
    ) -> int:
        """Index in the rate table of (partner, month or day, category): a rate entry or a problem."""
        day = token if len(token) == 10 else f"{token}-01"
        ctx = partners.get(partner_id) if partners else None
        try:
            version = self.rules.in_effect(
                dt.date.fromisoformat(day), ctx.cohort if ctx else None, ctx.segment if ctx else None
            )
        except LookupError as exc:
            return self._intern(_RateProblem("sold_at", str(exc), 1))
        tier = self.tier_of(partner_id, token[:7]) or version.entry_tier
        try:
            rate = version.commission_rate(tier, category)
        except KeyError:
            return self._intern(
                _RateProblem("partner_id", f"tier {tier!r} is not defined in rules {version.version}", 4)
            )
        return self._intern(RateEntry(tier, rate, version.version, "month"))

    def _intern(self, value: RateEntry | _RateProblem) -> int:
        idx = self._index.get(value)
        if idx is None:
            idx = self._index[value] = len(self._entries)
            if isinstance(value, _RateProblem):
                self._problems[idx] = value
                value = RateEntry("", _ZERO, "", "")
            self._entries.append(value)
            self._rates.append(value.rate)
        return idx

    def _apply_originals(
        self,
        block: SaleBlock,
        originals: Mapping[tuple[str, str], OriginalRate],
        entry: list[int],
        problems: dict[int, _RateProblem],
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
                problems[i] = _RateProblem(
                    "sold_at",
                    f"a return cannot be dated before the sale it returns ({o}, sold {orig.day})",
                    3,
                    block.sold_at[i],
                )
                continue
            problems.pop(i, None)  # a tier problem does not concern a return at its sale's rate
            entry[i] = self._intern(RateEntry(orig.tier, orig.rate, orig.rule_version, "original-sale"))


_ZERO = Decimal(0)


def _drop(a: AccrualBlock, rows: Iterable[int]) -> AccrualBlock:
    gone = set(rows)
    keep = [i not in gone for i in range(len(a))]

    def f(col: Sequence[Any]) -> list[Any]:
        return list(compress(col, keep))

    b = a.block
    blk = SaleBlock(*(f(getattr(b, name)) for name in SaleBlock.__slots__))  # type: ignore[attr-defined,arg-type]
    new_index = {old: new for new, old in enumerate(compress(range(len(a)), keep))}
    return AccrualBlock(
        blk,
        f(a.entry),
        a.entries,
        {new_index[i]: v for i, v in a.fx.items() if i in new_index},
        f(a.net),
        f(a.net_eur),
        f(a.commission),
    )
