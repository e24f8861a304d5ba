"""How the console writes figures for a person: money objects (`amount` to the cent as a string,
`currency`, and `text` as the caller's locale writes it), dates with their text."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from loyalty.kernel.i18n import Lang, datetime_text, money_text, period_text
from loyalty.kernel.money import to_cents

CURRENCY = "EUR"


def money(amount: Decimal | str, lang: Lang, currency: str = CURRENCY) -> dict[str, str]:
    """`{"amount": "1234.56", "currency": "EUR", "text": "1 234,56 €"}` (figures the close
    rounded already; `to_cents` only normalises the exponent)."""
    value = to_cents(Decimal(str(amount)))
    return {"amount": str(value), "currency": currency, "text": money_text(value, currency, lang)}


def period_view(period: str, lang: Lang) -> dict[str, str]:
    return {"period": period, "text": period_text(period, lang)}


def moment(iso: str | None, lang: Lang) -> dict[str, str] | None:
    """An ISO instant of a header or audit entry with its text (None when unset or unreadable)."""
    if not iso:
        return None
    try:
        at = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return {"at": iso, "text": datetime_text(at, lang)}


def json_safe(value: Any) -> Any:
    """Audit details as JSON (Decimals to strings; nested lists and mappings kept)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value
