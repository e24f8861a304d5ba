"""The sales-file contract (PRODUCT §3): row validation and normalisation.

`SalesValidator.validate` turns one CSV row into a :class:`SaleRow` or a :class:`RowIssue`.
It is the hot path of ingestion, so parsed dates and prices are memoised per distinct text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import compress
from operator import itemgetter
from typing import NamedTuple, TypeVar

from loyalty.kernel.csvio import ColumnSpec, RawBlock, RowIssue, ids_ok
from loyalty.kernel.currencies import ISO_4217
from loyalty.kernel.ids import ID_RE, is_formula
from loyalty.kernel.money import parse_decimal

COLUMNS = (
    "sale_id",
    "partner_id",
    "sold_at",
    "sku",
    "quantity",
    "unit_price",
    "currency",
    "category",
    "customer_id",
    "original_sale_id",
)
REQUIRED = frozenset(COLUMNS[:7])
_ALIASES = {
    "sale_id": [
        "saleid",
        "sale",
        "sale_no",
        "sale_number",
        "line_id",
        "invoice_line",
        "номер_продажи",
        "id_продажи",
    ],
    "partner_id": [
        "partner",
        "partnerid",
        "partner_code",
        "dealer_id",
        "reseller_id",
        "партнер",
        "код_партнера",
    ],
    "sold_at": [
        "date",
        "sale_date",
        "sold_on",
        "sold",
        "sold_date",
        "transaction_date",
        "дата",
        "дата_продажи",
    ],
    "sku": ["product", "product_code", "item", "item_code", "article", "артикул", "товар"],
    "quantity": ["qty", "units", "count", "количество", "кол_во"],
    "unit_price": ["price", "unitprice", "price_per_unit", "цена", "цена_за_единицу"],
    "currency": ["ccy", "currency_code", "cur", "валюта"],
    "category": ["product_category", "cat", "категория"],
    "customer_id": ["customer", "client", "client_id", "end_customer", "клиент", "код_клиента"],
    "original_sale_id": [
        "orig_sale_id",
        "original_sale",
        "return_of",
        "returned_sale_id",
        "исходная_продажа",
    ],
}
SALES_SPEC = ColumnSpec(
    columns=COLUMNS,
    required=REQUIRED,
    aliases={alias: canon for canon, names in _ALIASES.items() for alias in names},
)

MAX_QUANTITY = 1_000_000
MAX_UNIT_PRICE = Decimal("100000000")
MIN_DATE = dt.date(2000, 1, 1)


class SaleRow(NamedTuple):
    """A validated, normalised sales line (amounts still in the sale's currency)."""

    line: int
    sale_id: str
    partner_id: str
    sold_at: str  # ISO 8601 UTC, seconds precision, "Z"
    sku: str
    quantity: int
    unit_price: Decimal
    currency: str
    category: str
    customer_id: str
    original_sale_id: str

    @property
    def month(self) -> str:
        return self.sold_at[:7]


def parse_sold_at(text: str) -> str:
    """ISO date or date-time -> 'YYYY-MM-DDTHH:MM:SSZ' in UTC (UTC assumed without offset)."""
    s = text.strip()
    if not s:
        raise ValueError("empty date")
    if len(s) == 10:
        d = dt.date.fromisoformat(s)
        return f"{d.isoformat()}T00:00:00Z"
    if s.endswith(("z", "Z")):
        s = s[:-1] + "+00:00"
    if len(s) < 16 or s[10] not in "Tt ":
        raise ValueError("not an ISO 8601 date or date-time")
    t = dt.datetime.fromisoformat(s)
    if t.tzinfo is not None:
        t = t.astimezone(dt.UTC).replace(tzinfo=None)
    return t.replace(microsecond=0).isoformat() + "Z"


def parse_quantity(text: str) -> int | None:
    q = text.strip()
    body = q[1:] if q[:1] in "+-" else q
    if not body or not (body.isascii() and body.isdigit()) or len(body) > 9:
        return None
    return int(q)


class SalesValidator:
    """Validates rows for one upload.

    `may_write(partner_id)` answers whether the uploader may create sales for that partner
    (itself, or a partner it is a registered distributor for, that exists in the registry).
    """

    def __init__(
        self,
        may_write: Callable[[str], str | None],
        today: dt.date,
        future_tolerance_days: int = 1,
    ) -> None:
        self._may_write = may_write
        self._rights: dict[str, str | None] = {}
        self._dates: dict[str, str | ValueError] = {}
        self._prices: dict[str, Decimal | ValueError] = {}
        self._max_day = (today + dt.timedelta(days=future_tolerance_days)).isoformat()
        # the block path's memory of values already found good
        self._to_partner: dict[str, str] = {}  # -> one shared string per partner
        self._to_date: dict[str, str] = {}
        self._to_quantity: dict[str, int] = {}
        self._to_price: dict[str, Decimal] = {}
        self._to_currency: dict[str, str] = {}
        self._to_category: dict[str, str] = {}

    def _date(self, text: str) -> str:
        cached = self._dates.get(text)
        if cached is None:
            try:
                iso = parse_sold_at(text)
                if iso[:10] > self._max_day:
                    raise ValueError("date is in the future")
                if iso[:10] < MIN_DATE.isoformat():
                    raise ValueError(f"date is before {MIN_DATE.isoformat()}")
                cached = iso
            except ValueError as exc:
                msg = str(exc)
                if "future" not in msg and "before" not in msg:
                    msg = "not an ISO 8601 date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM[:SS][±HH:MM])"
                cached = ValueError(msg)
            if len(self._dates) < 100_000:
                self._dates[text] = cached
        if isinstance(cached, ValueError):
            raise cached
        return cached

    def _right(self, partner_id: str) -> str | None:
        """Why the uploader may not write this partner's sales, or None when it may."""
        right = self._rights.get(partner_id, "?")
        if right == "?":
            right = self._may_write(partner_id)
            self._rights[partner_id] = right
        return right

    def _writable(self, partner_id: str) -> str:
        """The partner id when the uploader may write its sales (as is: no spaces around)."""
        if partner_id != partner_id.strip() or not partner_id:
            raise ValueError(partner_id)
        right = self._right(partner_id)
        if right is not None:
            raise ValueError(right)
        return partner_id

    def _price(self, text: str) -> Decimal:
        cached = self._prices.get(text)
        if cached is None:
            try:
                p = parse_decimal(text)
                if p < 0:
                    raise ValueError("unit_price must not be negative (use a negative quantity for returns)")
                if p > MAX_UNIT_PRICE:
                    raise ValueError(f"unit_price above the {MAX_UNIT_PRICE} limit")
                if -p.as_tuple().exponent > 6:  # type: ignore[operator]
                    raise ValueError("more than 6 decimal places")
                cached = p
            except ValueError as exc:
                cached = exc
            if len(self._prices) < 100_000:
                self._prices[text] = cached
        if isinstance(cached, ValueError):
            raise cached
        return cached

    def validate_block(self, raw: RawBlock) -> tuple[SaleBlock, list[RowIssue]]:
        """Validate a block: a columnar fast path when every row is clean, else row by row.

        Both paths give the same result for every row (a property test holds them to it).
        """
        if not raw.lines:
            return SaleBlock.from_rows([]), list(raw.issues)
        fast = self._fast_block(raw)
        if fast is not None:
            return fast, list(raw.issues)
        good: list[SaleRow] = []
        issues = list(raw.issues)
        for line, values in zip(raw.lines, zip(*raw.cols, strict=True), strict=True):
            r = self.validate(line, list(values))
            if isinstance(r, RowIssue):
                issues.append(r)
            else:
                good.append(r)
        issues.sort(key=lambda i: i.line)
        return SaleBlock.from_rows(good), issues

    def _fast_block(self, raw: RawBlock) -> SaleBlock | None:
        """The whole block at C speed, or None when any value needs the row-by-row path.

        Ids are checked by string scans over the joined column. Every other distinct value is
        checked and normalised once per validator (a warm container's), then looked up in the
        `_to_*` maps. A value that fails is never cached there; the row path reports it.
        """
        sale_id, partner_id, sold_at, sku, qty, price, cur, cat, cust, orig = raw.cols
        if not (ids_ok(sale_id, True) and ids_ok(sku, True) and ids_ok(cust, False)):
            return None
        partners = _mapped(self._to_partner, partner_id, self._writable)
        if partners is None:
            return None
        dates = _mapped(self._to_date, sold_at, self._date)
        quantities = _mapped(self._to_quantity, qty, _quantity)
        prices = _mapped(self._to_price, price, self._price)
        currencies = _mapped(self._to_currency, cur, _currency)
        categories = _mapped(self._to_category, cat, _category)
        if dates is None or quantities is None or prices is None or currencies is None or categories is None:
            return None
        if any(orig):
            if not ids_ok(list(filter(None, orig)), True):
                return None
            for i in compress(range(len(orig)), orig):
                if quantities[i] > 0 or orig[i] == sale_id[i]:
                    return None
        return SaleBlock(
            raw.lines,
            sale_id,
            partners,
            dates,
            sku,
            quantities,
            prices,
            currencies,
            categories,
            cust,
            orig,
        )

    def validate(self, line: int, v: list[str]) -> SaleRow | RowIssue:
        sale_id, partner_id, sold_at, sku, qty, price, cur, cat, cust, orig = v
        sale_id = sale_id.strip()
        partner_id = partner_id.strip()
        sku = sku.strip()
        # -- identities ----------------------------------------------------------------------
        for col, val, required in (
            ("sale_id", sale_id, True),
            ("partner_id", partner_id, True),
            ("sku", sku, True),
        ):
            if not val:
                if required:
                    return RowIssue(line, col, val, f"{col} is required")
            elif not ID_RE.match(val):
                return RowIssue(line, col, val, f"{col} must be 1-64 printable characters")
            elif is_formula(val):
                return RowIssue(
                    line, col, val, f"{col} starts with {val[0]!r} and looks like a spreadsheet formula"
                )
        right = self._right(partner_id)
        if right is not None:
            return RowIssue(line, "partner_id", partner_id, right)
        # -- date ----------------------------------------------------------------------------
        try:
            when = self._date(sold_at)
        except ValueError as exc:
            return RowIssue(line, "sold_at", sold_at, str(exc))
        # -- quantity ------------------------------------------------------------------------
        try:
            quantity = _quantity(qty)
        except ValueError as exc:
            return RowIssue(line, "quantity", qty, str(exc))
        # -- price / currency ----------------------------------------------------------------
        try:
            unit_price = self._price(price)
        except ValueError as exc:
            return RowIssue(line, "unit_price", price, f"unit_price: {exc}")
        try:
            currency = _currency(cur)
        except ValueError as exc:
            return RowIssue(line, "currency", cur, str(exc))
        # -- optional ------------------------------------------------------------------------
        try:
            category = _category(cat)
        except ValueError as exc:
            return RowIssue(line, "category", cat, str(exc))
        customer_id = cust.strip()
        if customer_id and (not ID_RE.match(customer_id) or is_formula(customer_id)):
            return RowIssue(
                line, "customer_id", cust, "customer_id must be 1-64 printable characters, not a formula"
            )
        original = orig.strip()
        if original:
            if quantity > 0:
                return RowIssue(line, "original_sale_id", orig, "original_sale_id is only allowed on returns")
            if not ID_RE.match(original) or is_formula(original):
                return RowIssue(
                    line, "original_sale_id", orig, "original_sale_id must be 1-64 printable characters"
                )
            if original == sale_id:
                return RowIssue(line, "original_sale_id", orig, "a return cannot refer to itself")
        return SaleRow(
            line,
            sale_id,
            partner_id,
            when,
            sku,
            quantity,
            unit_price,
            currency,
            category,
            customer_id,
            original,
        )


_month = itemgetter(slice(0, 7))
_CACHE_LIMIT = 100_000
T = TypeVar("T")


def _mapped(cache: dict[str, T], col: Sequence[str], convert: Callable[[str], T]) -> list[T] | None:
    """`convert` over a column, once per distinct value; None when a value is not valid."""
    try:
        return list(map(cache.__getitem__, col))
    except KeyError:
        pass
    if len(cache) > _CACHE_LIMIT:
        cache.clear()
    for v in set(col).difference(cache):
        try:
            cache[v] = convert(v)
        except ValueError:
            return None
    return list(map(cache.__getitem__, col))


# Value checks shared by both paths; the ValueError says what is wrong.
def _quantity(text: str) -> int:
    n = parse_quantity(text)
    if n is None:
        raise ValueError("quantity must be a whole number (negative for returns)")
    if n == 0:
        raise ValueError("quantity must not be 0")
    if abs(n) > MAX_QUANTITY:
        raise ValueError(f"quantity beyond ±{MAX_QUANTITY}")
    return n


def _currency(text: str) -> str:
    code = text.strip().upper()
    if code not in ISO_4217:
        raise ValueError("not an ISO 4217 currency code")
    return code


def _category(text: str) -> str:
    lc = text.strip().lower()
    if lc and (len(lc) > 40 or is_formula(lc) or not ID_RE.match(lc)):
        raise ValueError("category must be up to 40 printable characters, not a formula")
    return lc


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
