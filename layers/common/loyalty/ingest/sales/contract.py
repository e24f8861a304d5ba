"""The sales-file contract (PRODUCT §3): its columns, which are required, the header aliases
partners use, the limits on values, and :class:`SaleRow`, a validated and normalised line."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import NamedTuple

from loyalty.kernel.csvio.model import ColumnSpec

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
