"""In-memory adapter of the earning ports: accrual lines, month totals, frozen periods.

Same results as `adapters.dynamo.sales` (held by tests/contract/test_sales_store.py): `put_sales`
overwrites a line whatever its version (the writer decides what wins), a month delta is applied
once per chunk id, a customer is counted new in the first month it
bought in, lines come back in sale-id
order and month totals in month order."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from loyalty.adapters.memory.tables import MemoryTables
from loyalty.earning.records import (
    MonthDelta,
    MonthTotals,
    SaleRecord,
    SaleRef,
    StoredSale,
    add_pair,
    bounded_categories,
    sale_ref,
)
from loyalty.kernel.ports import Cipher


@dataclass
class _MonthItem:
    net: Decimal = Decimal(0)
    comm: Decimal = Decimal(0)
    lines: int = 0
    returns: int = 0
    applied: set[str] = field(default_factory=set)
    newc: int = 0  # customers first seen in this month
    days: dict[int, Decimal] = field(default_factory=dict)
    units: int = 0
    cats: dict[str, tuple[Decimal, int]] = field(default_factory=dict)  # bounded (MAX_CATEGORIES)
    late: dict[str, tuple[Decimal, int]] = field(default_factory=dict)


class MemorySales(MemoryTables):
    def __init__(self, cipher: Cipher | None = None) -> None:
        super().__init__(cipher)
        self.sales: dict[str, dict[str, SaleRecord]] = {}  # partner -> sale id -> line
        self.months: dict[str, dict[str, _MonthItem]] = {}  # partner -> month -> totals
        self.frozen: set[str] = set()
        self.products: dict[str, str] = {}  # product master: sku -> category
        self.first_month: dict[str, dict[str, str]] = {}  # partner -> customer -> first month seen

    # -- sales ------------------------------------------------------------------------------
    def get_sales(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], StoredSale]:
        out: dict[tuple[str, str], StoredSale] = {}
        for p, s in keys:
            r = self.sales.get(p, {}).get(s)
            if r is not None:
                out[(p, s)] = StoredSale(
                    p,
                    s,
                    r.version,
                    r.prev_version,
                    r.rate,
                    r.tier,
                    r.rule_version,
                    r.sold_at[:7],
                    r.net_eur,
                    r.commission,
                    r.sold_at[:10],
                    r.quantity,
                    r.period,
                    r.anchor,
                    r.status,
                    r.category,
                )
        return out

    def put_sales(self, records: Sequence[SaleRecord]) -> None:
        for r in records:
            self.sales.setdefault(r.partner_id, {})[r.sale_id] = dataclasses.replace(r)

    def partner_sales(self, partner_id: str, period: str | None = None) -> Iterator[SaleRecord]:
        lines = self.sales.get(partner_id, {})
        for sale_id in sorted(lines):
            r = lines[sale_id]
            if period is None or r.sold_at.startswith(period) or r.period == period:
                yield dataclasses.replace(r)

    # -- month totals -----------------------------------------------------------------------
    def apply_month_delta(self, partner_id: str, month: str, chunk_id: str, delta: MonthDelta) -> bool:
        first = self.first_month.setdefault(partner_id, {})
        firsts = [c for c in sorted(delta.customers) if c not in first or first[c] > month]
        moved = [first[c] for c in firsts if c in first]
        for c in firsts:  # written whether the chunk applied or not (a redelivery repairs a crash)
            first[c] = month
        months = self.months.setdefault(partner_id, {})
        it = months.setdefault(month, _MonthItem())
        if chunk_id in it.applied:
            return False
        it.applied.add(chunk_id)
        it.newc += len(firsts)
        for old in moved:
            months.setdefault(old, _MonthItem()).newc -= 1
        it.net += delta.net_eur
        it.comm += delta.commission
        it.lines += delta.lines
        it.returns += delta.returns
        for day, amount in delta.by_day.items():
            it.days[day] = it.days.get(day, Decimal(0)) + amount
        it.units += delta.units
        for cat, (net, units) in bounded_categories(delta.by_category, set(it.cats)).items():
            add_pair(it.cats, cat, net, units)
        for key, (net, units) in delta.late_sold.items():
            add_pair(it.late, key, net, units)
        return True

    def month_totals(self, partner_id: str) -> list[MonthTotals]:
        months = self.months.get(partner_id, {})
        return [
            MonthTotals(
                partner_id,
                m,
                months[m].net,
                months[m].comm,
                months[m].lines,
                months[m].returns,
                dict(sorted(months[m].days.items())),
                months[m].newc,
                months[m].units,
                dict(sorted(months[m].cats.items())),
                dict(sorted(months[m].late.items())),
            )
            for m in sorted(months)
        ]

    # -- product master -----------------------------------------------------------------------
    def put_products(self, products: Mapping[str, str]) -> None:
        self.products.update(products)

    def product_categories(self, skus: Sequence[str]) -> dict[str, str]:
        return {s: self.products[s] for s in set(skus) if s in self.products}

    # -- frozen periods ---------------------------------------------------------------------
    def frozen_periods(self) -> set[str]:
        return set(self.frozen)

    def freeze_period(self, period: str) -> None:
        self.frozen.add(period)

    # -- final rates (the month's close) ----------------------------------------------------
    def finalize_sales(self, changes: Sequence[tuple[SaleRecord, SaleRecord, str]]) -> int:
        done = 0
        for old, new, on in changes:
            cur = self.sales.get(old.partner_id, {}).get(old.sale_id)
            if cur is None or cur.version != old.version or cur.commission != old.commission:
                continue
            self.sales[old.partner_id][old.sale_id] = dataclasses.replace(new)
            diff = new.commission - old.commission
            it = self.months.setdefault(old.partner_id, {}).setdefault(on[:7], _MonthItem())
            day = int(on[8:10])
            it.comm += diff
            it.days[day] = it.days.get(day, Decimal(0)) + diff
            done += 1
        return done

    # -- returns' lookups (issue 9, point 14) ----------------------------------------------
    def earlier_sales(self, partner_id: str, sku: str, until: str, limit: int) -> list[SaleRef]:
        lines = [
            r
            for r in self.sales.get(partner_id, {}).values()
            if r.quantity > 0 and r.sku == sku and r.sold_at <= until
        ]
        lines.sort(key=lambda r: (r.sold_at, r.sale_id), reverse=True)
        return [sale_ref(r) for r in lines[:limit]]

    def returned_units(self, partner_id: str, sale_ids: Sequence[str]) -> dict[str, dict[str, int]]:
        out: dict[str, dict[str, int]] = {}
        wanted = set(sale_ids)
        for r in self.sales.get(partner_id, {}).values():
            orig = r.matched or r.original_sale_id
            if r.quantity < 0 and r.rate_basis == "original-sale" and orig in wanted:
                out.setdefault(orig, {})[r.sale_id] = -r.quantity
        return out
