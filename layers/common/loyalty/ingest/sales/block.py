"""Validated sales lines in columns (:class:`SaleBlock`): the unit that travels through SQS
and gets computed; its wire form is a JSON object of columns."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter

from loyalty.ingest.sales.contract import SaleRow

_month = itemgetter(slice(0, 7))


@dataclass(slots=True)
class SaleBlock:
    """Validated rows in columns (the unit that travels through SQS and gets computed)."""

    lines: list[int]
    sale_id: Sequence[str]
    partner_id: Sequence[str]
    sold_at: Sequence[str]
    sku: Sequence[str]
    quantity: Sequence[int]
    unit_price: Sequence[Decimal]
    currency: Sequence[str]
    category: Sequence[str]
    customer_id: Sequence[str]
    original_sale_id: Sequence[str]

    def __len__(self) -> int:
        return len(self.lines)

    @property
    def month(self) -> list[str]:
        return list(map(_month, self.sold_at))

    def rows(self) -> Iterator[SaleRow]:
        return map(
            SaleRow._make,
            zip(
                self.lines,
                self.sale_id,
                self.partner_id,
                self.sold_at,
                self.sku,
                self.quantity,
                self.unit_price,
                self.currency,
                self.category,
                self.customer_id,
                self.original_sale_id,
                strict=True,
            ),
        )

    @classmethod
    def from_rows(cls, rows: Sequence[SaleRow]) -> SaleBlock:
        if not rows:
            return cls([], (), (), (), (), (), (), (), (), (), ())
        c = list(zip(*rows, strict=True))
        return cls(list(c[0]), c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10])

    def slice(self, start: int, stop: int) -> SaleBlock:
        return SaleBlock(
            self.lines[start:stop],
            self.sale_id[start:stop],
            self.partner_id[start:stop],
            self.sold_at[start:stop],
            self.sku[start:stop],
            self.quantity[start:stop],
            self.unit_price[start:stop],
            self.currency[start:stop],
            self.category[start:stop],
            self.customer_id[start:stop],
            self.original_sale_id[start:stop],
        )

    def to_wire(self) -> dict[str, list[str] | list[int]]:
        return {
            "line": list(self.lines),
            "sale_id": list(self.sale_id),
            "partner_id": list(self.partner_id),
            "sold_at": list(self.sold_at),
            "sku": list(self.sku),
            "quantity": list(self.quantity),
            "unit_price": list(map(str, self.unit_price)),
            "currency": list(self.currency),
            "category": list(self.category),
            "customer_id": list(self.customer_id),
            "original_sale_id": list(self.original_sale_id),
        }

    @classmethod
    def from_wire(cls, w: dict[str, list[str] | list[int]]) -> SaleBlock:
        n = len(w["line"])
        if any(len(v) != n for v in w.values()):
            raise ValueError("columns of different lengths")
        return cls(
            [int(x) for x in w["line"]],
            [str(x) for x in w["sale_id"]],
            [str(x) for x in w["partner_id"]],
            [str(x) for x in w["sold_at"]],
            [str(x) for x in w["sku"]],
            [int(x) for x in w["quantity"]],
            [Decimal(str(x)) for x in w["unit_price"]],
            [str(x) for x in w["currency"]],
            [str(x) for x in w["category"]],
            [str(x) for x in w["customer_id"]],
            [str(x) for x in w["original_sale_id"]],
        )


def concat(blocks: Sequence[SaleBlock]) -> SaleBlock:
    if len(blocks) == 1:
        return blocks[0]
    out = SaleBlock([], [], [], [], [], [], [], [], [], [], [])
    for b in blocks:
        out.lines.extend(b.lines)
        for name in SaleBlock.__slots__[1:]:  # type: ignore[attr-defined]
            getattr(out, name).extend(getattr(b, name))
    return out
