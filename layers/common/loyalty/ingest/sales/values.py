"""The value checks of a sales line, shared by the row path and the block path: each returns
the normalised value or raises a ValueError that says what is wrong."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from loyalty.ingest.sales.contract import MAX_QUANTITY, MAX_UNIT_PRICE, MIN_DATE
from loyalty.kernel.currencies import ISO_4217
from loyalty.kernel.ids import ID_RE, is_formula
from loyalty.kernel.money import parse_decimal

_NOT_A_DATE = "not an ISO 8601 date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM[:SS][±HH:MM])"


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


def check_sold_at(text: str, max_day: str) -> str:
    """`sold_at` in UTC, between `MIN_DATE` and `max_day` (ISO day) inclusive."""
    try:
        iso = parse_sold_at(text)
    except ValueError as exc:
        msg = str(exc)  # kept as is when it says "future" or "before" (a parser message quoting the text)
        raise ValueError(msg if "future" in msg or "before" in msg else _NOT_A_DATE) from None
    if iso[:10] > max_day:
        raise ValueError("date is in the future")
    if iso[:10] < MIN_DATE.isoformat():
        raise ValueError(f"date is before {MIN_DATE.isoformat()}")
    return iso


def check_unit_price(text: str) -> Decimal:
    p = parse_decimal(text)
    if p < 0:
        raise ValueError("unit_price must not be negative (use a negative quantity for returns)")
    if p > MAX_UNIT_PRICE:
        raise ValueError(f"unit_price above the {MAX_UNIT_PRICE} limit")
    if -p.as_tuple().exponent > 6:  # type: ignore[operator]
        raise ValueError("more than 6 decimal places")
    return p


def check_quantity(text: str) -> int:
    n = parse_quantity(text)
    if n is None:
        raise ValueError("quantity must be a whole number (negative for returns)")
    if n == 0:
        raise ValueError("quantity must not be 0")
    if abs(n) > MAX_QUANTITY:
        raise ValueError(f"quantity beyond ±{MAX_QUANTITY}")
    return n


def check_currency(text: str) -> str:
    code = text.strip().upper()
    if code not in ISO_4217:
        raise ValueError("not an ISO 4217 currency code")
    return code


def check_category(text: str) -> str:
    lc = text.strip().lower()
    if lc and (len(lc) > 40 or is_formula(lc) or not ID_RE.match(lc)):
        raise ValueError("category must be up to 40 printable characters, not a formula")
    return lc
