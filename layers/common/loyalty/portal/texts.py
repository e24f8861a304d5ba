"""Figures as the caller reads them: Money objects and dates with their text in the caller's
language (`loyalty.kernel.i18n`), and the few words the portal itself says, in both languages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from loyalty.kernel.i18n import Lang, date_text, money_text, period_text
from loyalty.kernel.money import to_cents


def money(amount: Decimal, currency: str, lang: Lang) -> dict[str, str]:
    """`{"amount": "1234.56", "currency": "EUR", "text": "1 234,56 €"}` (rounded to cents once)."""
    cents = to_cents(amount)
    return {"amount": f"{cents:f}", "currency": currency, "text": money_text(cents, currency, lang)}


def day(value: dt.date | None, lang: Lang) -> dict[str, str] | None:
    if value is None:
        return None
    return {"date": value.isoformat(), "text": date_text(value, lang)}


def period(value: str, lang: Lang) -> dict[str, str]:
    return {"period": value, "text": period_text(value, lang)}


# what the portal says in words (the pages translate their own labels)
WORDS: dict[str, dict[Lang, str]] = {
    "holding": {
        "en": "Commission becomes payable {days} days after the sale (at a month's close).",
        "ru": "Комиссия становится к выплате через {days} дн. после продажи (при закрытии месяца).",
    },
    "minimum": {
        "en": "Payouts below {amount} carry forward to the next month.",
        "ru": "Выплаты меньше {amount} переносятся на следующий месяц.",
    },
    "top_tier": {"en": "Top tier reached.", "ru": "Достигнут высший уровень."},
    "to_next": {
        "en": "{amount} more net sales over {months} months for {tier}.",
        "ru": "Ещё {amount} чистых продаж за {months} мес. до уровня {tier}.",
    },
    "certs": {
        "en": "{tier} also needs {need} certified on {course} ({have} now).",
        "ru": "Для {tier} нужно ещё {need} сертифицированных по {course} (сейчас {have}).",
    },
}


def say(key: str, lang: Lang, **values: object) -> str:
    return WORDS[key][lang].format(**values)
