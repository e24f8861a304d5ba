"""Validation of a sales file's rows for one upload (:class:`SalesValidator`).

`SalesValidator.validate` turns one CSV row into a :class:`SaleRow` or a :class:`RowIssue`;
`validate_block` does a whole block in columns when every row is clean, else row by row. It is
the hot path of ingestion, so parsed dates and prices are memoised per distinct text.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import partial
from itertools import compress

from loyalty.ingest.sales.block import SaleBlock
from loyalty.ingest.sales.contract import SaleRow
from loyalty.ingest.sales.values import (
    check_category,
    check_currency,
    check_quantity,
    check_sold_at,
    check_unit_price,
)
from loyalty.kernel.csvio.fast import ids_ok
from loyalty.kernel.csvio.model import RawBlock, RowIssue
from loyalty.kernel.ids import ID_RE, is_formula

_CACHE_LIMIT = 100_000


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
        self._check_date = partial(
            check_sold_at, max_day=(today + dt.timedelta(days=future_tolerance_days)).isoformat()
        )
        # the block path's memory of values already found good
        self._to_partner: dict[str, str] = {}  # -> one shared string per partner
        self._to_date: dict[str, str] = {}
        self._to_quantity: dict[str, int] = {}
        self._to_price: dict[str, Decimal] = {}
        self._to_currency: dict[str, str] = {}
        self._to_category: dict[str, str] = {}

    def _date(self, text: str) -> str:
        return _memo(self._dates, text, self._check_date)

    def _price(self, text: str) -> Decimal:
        return _memo(self._prices, text, check_unit_price)

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

    # -- the block path ----------------------------------------------------------------------
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
        quantities = _mapped(self._to_quantity, qty, check_quantity)
        prices = _mapped(self._to_price, price, self._price)
        currencies = _mapped(self._to_currency, cur, check_currency)
        categories = _mapped(self._to_category, cat, check_category)
        if dates is None or quantities is None or prices is None or currencies is None or categories is None:
            return None
        if any(orig) and not _returns_ok(sale_id, quantities, orig):
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

    # -- the row path ------------------------------------------------------------------------
    def validate(self, line: int, v: list[str]) -> SaleRow | RowIssue:
        sale_id, partner_id, sold_at, sku, qty, price, cur, cat, cust, orig = v
        sale_id = sale_id.strip()
        partner_id = partner_id.strip()
        sku = sku.strip()
        issue = (
            _id_issue(line, "sale_id", sale_id)
            or _id_issue(line, "partner_id", partner_id)
            or _id_issue(line, "sku", sku)
            or self._right_issue(line, partner_id)
        )
        if issue is not None:
            return issue
        values = self._values(line, sold_at, qty, price, cur, cat)
        if isinstance(values, RowIssue):
            return values
        when, quantity, unit_price, currency, category = values
        issue = _customer_issue(line, cust) or _original_issue(line, orig, sale_id, quantity)
        if issue is not None:
            return issue
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
            cust.strip(),
            orig.strip(),
        )

    def _right_issue(self, line: int, partner_id: str) -> RowIssue | None:
        right = self._right(partner_id)
        return None if right is None else RowIssue(line, "partner_id", partner_id, right)

    def _values(
        self, line: int, sold_at: str, qty: str, price: str, cur: str, cat: str
    ) -> tuple[str, int, Decimal, str, str] | RowIssue:
        """The row's date, quantity, price, currency and category, or the first one's issue."""
        column, text = "sold_at", sold_at
        try:
            when = self._date(sold_at)
            column, text = "quantity", qty
            quantity = check_quantity(qty)
            column, text = "unit_price", price
            unit_price = self._price(price)
            column, text = "currency", cur
            currency = check_currency(cur)
            column, text = "category", cat
            category = check_category(cat)
        except ValueError as exc:
            reason = f"unit_price: {exc}" if column == "unit_price" else str(exc)
            return RowIssue(line, column, text, reason)
        return when, quantity, unit_price, currency, category


def _id_issue(line: int, column: str, value: str) -> RowIssue | None:
    """What is wrong with a required id (already stripped), if anything."""
    if not value:
        return RowIssue(line, column, value, f"{column} is required")
    if not ID_RE.match(value):
        return RowIssue(line, column, value, f"{column} must be 1-64 printable characters")
    if is_formula(value):
        return RowIssue(
            line, column, value, f"{column} starts with {value[0]!r} and looks like a spreadsheet formula"
        )
    return None


def _customer_issue(line: int, cust: str) -> RowIssue | None:
    customer_id = cust.strip()
    if customer_id and (not ID_RE.match(customer_id) or is_formula(customer_id)):
        return RowIssue(
            line, "customer_id", cust, "customer_id must be 1-64 printable characters, not a formula"
        )
    return None


def _original_issue(line: int, orig: str, sale_id: str, quantity: int) -> RowIssue | None:
    """A return may name the sale it returns: only a return, a clean id, not itself."""
    original = orig.strip()
    if not original:
        return None
    if quantity > 0:
        return RowIssue(line, "original_sale_id", orig, "original_sale_id is only allowed on returns")
    if not ID_RE.match(original) or is_formula(original):
        return RowIssue(line, "original_sale_id", orig, "original_sale_id must be 1-64 printable characters")
    if original == sale_id:
        return RowIssue(line, "original_sale_id", orig, "a return cannot refer to itself")
    return None


def _returns_ok(sale_id: Sequence[str], quantities: list[int], orig: Sequence[str]) -> bool:
    """The block path's `_original_issue`: every `original_sale_id` given is a clean id, on a
    return, not the row's own sale."""
    if not ids_ok(list(filter(None, orig)), True):
        return False
    return not any(quantities[i] > 0 or orig[i] == sale_id[i] for i in compress(range(len(orig)), orig))


def _memo[T](cache: dict[str, T | ValueError], text: str, check: Callable[[str], T]) -> T:
    """`check(text)`, remembered per distinct text (its ValueError too), up to a bound."""
    cached = cache.get(text)
    if cached is None:
        try:
            cached = check(text)
        except ValueError as exc:
            cached = exc
        if len(cache) < _CACHE_LIMIT:
            cache[text] = cached
    if isinstance(cached, ValueError):
        raise cached
    return cached


def _mapped[T](cache: dict[str, T], col: Sequence[str], convert: Callable[[str], T]) -> list[T] | None:
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
