"""What a certificate says in each language: words, month names, dates and figures formatted per
locale (a small table instead of Babel: two languages, a handful of formats)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal

from loyalty.kernel.money import to_cents

Lang = Literal["ru", "en"]
LANGS: tuple[Lang, ...] = ("ru", "en")

NBSP, NNBSP = "\u00a0", "\u202f"

_MONTHS_EN = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
# "по итогам марта 2026 года", "15 апреля 2026 г.": the genitive in both places
_MONTHS_RU_GEN = [
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
]

WORDS: dict[Lang, dict[str, str]] = {
    "ru": {
        "title": "Партнёр месяца",
        "kicker": "Сертификат",
        "awarded": "настоящий сертификат подтверждает, что",
        "reason": "признан лучшим партнёром сегмента",
        "segment": "Сегмент",
        "number": "Сертификат №",
        "issued": "Дата выдачи",
        "signature": "Руководитель партнёрской программы",
        "net_sales": "Чистые продажи за месяц",
        "units": "Продано единиц за месяц",
        "new_customers": "Новых клиентов за месяц",
        "thanks": "Благодарим за вклад в общий успех и высокие результаты!",
        "q_open": "«",
        "q_close": "»",
    },
    "en": {
        "title": "Partner of the Month",
        "kicker": "Certificate",
        "awarded": "this certifies that",
        "reason": "has been recognised as the best partner in the segment",
        "segment": "Segment",
        "number": "Certificate no.",
        "issued": "Issued on",
        "signature": "Head of the Partner Program",
        "net_sales": "Net sales in the month",
        "units": "Units sold in the month",
        "new_customers": "New customers in the month",
        "thanks": "Thank you for your contribution and outstanding results!",
        "q_open": "\u201c",
        "q_close": "\u201d",
    },
}


def check_lang(lang: str) -> Lang:
    if lang == "ru":
        return "ru"
    if lang == "en":
        return "en"
    raise ValueError(f"certificates are made in {', '.join(LANGS)}, not {lang!r}")


def month_phrase(period: str, lang: Lang) -> str:
    """`2026-03` -> "по итогам марта 2026 года" / "for March 2026"."""
    year, month = int(period[:4]), int(period[5:7])
    if lang == "ru":
        return f"по итогам {_MONTHS_RU_GEN[month - 1]} {year}{NBSP}года"
    return f"for {_MONTHS_EN[month - 1]} {year}"


def long_date(day: dt.date, lang: Lang) -> str:
    if lang == "ru":
        return f"{day.day}{NBSP}{_MONTHS_RU_GEN[day.month - 1]} {day.year}{NBSP}г."
    return f"{day.day} {_MONTHS_EN[day.month - 1]} {day.year}"


def _group(digits: str, sep: str) -> str:
    groups = []
    while digits:
        groups.append(digits[-3:])
        digits = digits[:-3]
    return sep.join(reversed(groups)) or "0"


def number(value: Decimal, lang: Lang, places: int = 0) -> str:
    """Grouped per locale: ru `1 234 567,89` (narrow no-break spaces, decimal comma), en
    `1,234,567.89`. Rounded half-even to `places`."""
    q = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    sign = "-" if q < 0 else ""
    whole, _, frac = f"{abs(q):.{places}f}".partition(".")
    sep, point = (NNBSP, ",") if lang == "ru" else (",", ".")
    return sign + _group(whole, sep) + (point + frac if frac else "")


def figure(metric: str, value: Decimal, lang: Lang) -> str:
    """The metric's value as the certificate prints it: EUR amounts with cents, counts whole."""
    if metric == "net_sales":
        amount = number(to_cents(value), lang, 2)
        return f"{amount}{NBSP}€" if lang == "ru" else f"€{amount}"
    return number(value, lang, 0)
