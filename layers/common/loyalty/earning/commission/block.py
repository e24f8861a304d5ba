"""Computed accruals in columns (:class:`AccrualBlock`), aligned with their :class:`SaleBlock`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import compress
from operator import attrgetter
from typing import Any

from loyalty.earning.commission.model import Accrual, RateEntry
from loyalty.ingest.sales.block import SaleBlock

_tier_of = attrgetter("tier")
_rate_of = attrgetter("rate")
_version_of = attrgetter("rule_version")
_basis_of = attrgetter("basis")


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

    def without(self, rows: Iterable[int]) -> AccrualBlock:
        """The block less the given rows (their indexes), `fx` renumbered."""
        gone = set(rows)
        keep = [i not in gone for i in range(len(self))]

        def f(col: Sequence[Any]) -> list[Any]:
            return list(compress(col, keep))

        b = self.block
        blk = SaleBlock(*(f(getattr(b, name)) for name in SaleBlock.__slots__))  # type: ignore[attr-defined,arg-type]
        new_index = {old: new for new, old in enumerate(compress(range(len(self)), keep))}
        return AccrualBlock(
            blk,
            f(self.entry),
            self.entries,
            {new_index[i]: v for i, v in self.fx.items() if i in new_index},
            f(self.net),
            f(self.net_eur),
            f(self.commission),
        )
