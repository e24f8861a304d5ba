"""Commission of one sales line (PRODUCT §5): tier rate of the month of sale, category bonus,
returns at the original sale's rate, FX to the program currency; rounded once, half-even.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from itertools import repeat
from operator import itemgetter, mul
from typing import Any, Protocol

from loyalty.csvio import RowIssue
from loyalty.ingest import SaleBlock, SaleRow
from loyalty.money import CENT, CTX, HUNDRED, to_cents
from loyalty.rules import RuleBook


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


_day = itemgetter(slice(0, 10))
_first, _second, _third = itemgetter(0), itemgetter(1), itemgetter(2)
_quantize = Decimal.quantize


@dataclass(slots=True)
class AccrualBlock:
    """Computed accruals in columns, aligned with `block` (only rows that could be computed)."""

    block: SaleBlock
    net: list[Decimal]
    fx_rate: list[Decimal | None]
    fx_date: list[str]
    net_eur: list[Decimal]
    tier: list[str]
    rate: list[Decimal]
    rule_version: list[str]
    rate_basis: list[str]
    commission: list[Decimal]

    def __len__(self) -> int:
        return len(self.net)

    def accruals(self) -> Iterator[Accrual]:
        for i, row in enumerate(self.block.rows()):
            yield Accrual(
                row,
                self.net[i],
                self.fx_rate[i],
                self.fx_date[i],
                self.net_eur[i],
                self.tier[i],
                self.rate[i],
                self.rule_version[i],
                self.rate_basis[i],
                self.commission[i],
            )


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
        """`compute` over a whole block, in columns. Same results as `compute` row by row."""
        n = len(block)
        days = list(map(_day, block.sold_at))
        months = block.month
        issues: list[RowIssue] = []
        keep = [True] * n
        # rule version per row (per day, or per day and partner when pilots exist)
        scoped = any(v.scope.cohort or v.scope.segments for v in self.rules.versions)
        vkeys: Sequence[object] = list(zip(days, block.partner_id, strict=True)) if scoped else days
        versions: dict[object, object] = {}
        for k in set(vkeys):
            day_s = k[0] if isinstance(k, tuple) else k
            ctx = (partners or {}).get(k[1]) if isinstance(k, tuple) else None
            try:
                versions[k] = self.rules.in_effect(
                    dt.date.fromisoformat(str(day_s)),
                    ctx.cohort if ctx else None,
                    ctx.segment if ctx else None,
                )
            except LookupError as exc:
                versions[k] = exc
        row_versions = list(map(versions.__getitem__, vkeys))
        # tiers per (partner, month), then rates per (tier, category): few distinct keys each
        tier_keys = list(zip(block.partner_id, months, strict=True))
        tiers_map = {pk: self.tier_of(pk[0], pk[1]) for pk in set(tier_keys)}
        tiers = list(map(tiers_map.__getitem__, tier_keys))
        distinct_versions = {id(v): v for v in versions.values()}
        rate_keys: list[tuple[object, ...]]
        keyed: list[tuple[tuple[object, object, object], tuple[object, ...]]]
        if len(distinct_versions) == 1:
            only = next(iter(distinct_versions.values()))
            rate_keys = list(zip(tiers, block.category, strict=True))
            keyed = [((only, k[0], k[1]), k) for k in set(rate_keys)]
        else:
            rate_keys = list(zip(map(id, row_versions), tiers, block.category, strict=True))
            keyed = [((distinct_versions[k[0]], k[1], k[2]), k) for k in set(rate_keys)]  # type: ignore[index,misc]
        rmap: dict[tuple[object, ...], tuple[Decimal, str, str] | str] = {}
        for (v, tier_name, category), k in keyed:
            if isinstance(v, LookupError):
                rmap[k] = str(v)
                continue
            tier = str(tier_name) or v.entry_tier  # type: ignore[attr-defined]
            try:
                rmap[k] = (v.commission_rate(tier, str(category)), tier, v.version)  # type: ignore[attr-defined]
            except KeyError:
                rmap[k] = f"tier {tier!r} is not defined in rules {v.version}"  # type: ignore[attr-defined]
        resolved = list(map(rmap.__getitem__, rate_keys))
        if any(isinstance(r, str) for r in rmap.values()):
            for i, r in enumerate(resolved):
                if isinstance(r, str):
                    keep[i] = False
                    where = "sold_at" if "rules in effect" in r else "partner_id"
                    issues.append(RowIssue(block.lines[i], where, "", r))
                    resolved[i] = (Decimal(0), "", "")
        rates: list[Decimal] = list(map(_first, resolved))  # type: ignore[arg-type]
        tier_col: list[str] = list(map(_second, resolved))  # type: ignore[arg-type]
        version_col: list[str] = list(map(_third, resolved))  # type: ignore[arg-type]
        basis = list(repeat("month", n))
        if originals:
            for i, o in enumerate(block.original_sale_id):
                if o and block.quantity[i] < 0:
                    orig = originals.get((block.partner_id[i], o))
                    if orig is not None and orig.day and days[i] < orig.day:
                        if keep[i]:
                            keep[i] = False
                            issues.append(
                                RowIssue(
                                    block.lines[i],
                                    "sold_at",
                                    block.sold_at[i],
                                    f"a return cannot be dated before the sale it returns ({o}, sold {orig.day})",
                                )
                            )
                        continue
                    if orig is not None:
                        rates[i], tier_col[i], version_col[i], basis[i] = (
                            orig.rate,
                            orig.tier,
                            orig.rule_version,
                            "original-sale",
                        )
        net = list(map(mul, block.unit_price, block.quantity))
        prog = list(net)
        fx_rate: list[Decimal | None] = list(repeat(None, n))
        fx_date = list(repeat("", n))
        home = self.currency
        foreign = (
            [] if set(block.currency) == {home} else [i for i, c in enumerate(block.currency) if c != home]
        )
        for i in foreign:
            cur = block.currency[i]
            found = self.fx_rate(cur, days[i])
            if found is None:
                if keep[i]:
                    keep[i] = False
                    issues.append(
                        RowIssue(
                            block.lines[i],
                            "currency",
                            cur,
                            f"no {cur}/{home} rate on or before {days[i]}; upload a rates file and re-send the row",
                        )
                    )
                continue
            assert not isinstance(found, bool)
            fx_rate[i] = found[0]
            fx_date[i] = found[1]
            prog[i] = CTX.divide(net[i], found[0])
        with localcontext(CTX):
            commission = list(map(_quantize, map(mul, prog, rates), repeat(CENT), repeat(ROUND_HALF_EVEN)))
            net_eur = list(map(_quantize, prog, repeat(CENT), repeat(ROUND_HALF_EVEN)))
        out = AccrualBlock(
            block, net, fx_rate, fx_date, net_eur, tier_col, rates, version_col, basis, commission
        )
        if not all(keep):
            out = _filter(out, keep)
        issues.sort(key=lambda x: x.line)
        return out, issues


def _filter(a: AccrualBlock, keep: list[bool]) -> AccrualBlock:
    def f(col: Sequence[Any]) -> list[Any]:
        return [x for x, k in zip(col, keep, strict=True) if k]

    b = a.block
    blk = SaleBlock(*(f(getattr(b, name)) for name in SaleBlock.__slots__))  # type: ignore[attr-defined,arg-type]
    return AccrualBlock(
        blk,
        *(f(getattr(a, name)) for name in AccrualBlock.__slots__[1:]),  # type: ignore[attr-defined,arg-type]
    )
