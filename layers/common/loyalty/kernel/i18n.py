"""Languages of the people the platform speaks to, and figures and dates as each locale writes
them (Babel's CLDR data): `1 234,56 €` and `31 окт. 2026 г.` in Russian, `€1,234.56` and
`Oct 31, 2026` in English. Amounts are Decimals already rounded to the cent; nothing here
rounds money."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Literal, cast

from babel.dates import format_date, format_datetime, format_skeleton
from babel.numbers import format_currency, format_decimal, format_percent

Lang = Literal["ru", "en"]
LANGS: tuple[Lang, ...] = ("ru", "en")
DEFAULT_LANG: Lang = "en"
# the language a partner gets before it chose one: Russian where the partner's country speaks it
RUSSIAN_SPEAKING = frozenset({"RU", "BY", "KZ", "KG"})


def as_lang(value: object, default: Lang = DEFAULT_LANG) -> Lang:
    """`value` if it names a supported language (`ru`, `en-GB` -> `en`), else `default`."""
    text = str(value or "").strip().lower().replace("_", "-").split("-", 1)[0]
    for lang in LANGS:
        if text == lang:
            return lang
    return default


def lang_for_country(country: str) -> Lang:
    return "ru" if country.upper() in RUSSIAN_SPEAKING else DEFAULT_LANG


def accept_language(header: str | None) -> Lang | None:
    """The first supported language of an Accept-Language header, by quality."""
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, i, tag))
    for _, _, tag in sorted(ranked):
        lang = as_lang(tag, default=cast(Lang, ""))
        if lang:
            return lang
    return None


def choose_lang(*candidates: object) -> Lang:
    """The first candidate that names a supported language (query, saved choice, header, ...)."""
    for c in candidates:
        lang = as_lang(c, default=cast(Lang, ""))
        if lang:
            return lang
    return DEFAULT_LANG


def money_text(amount: Decimal, currency: str, lang: Lang) -> str:
    return str(format_currency(amount, currency, locale=lang, currency_digits=True))


def number_text(value: int | Decimal, lang: Lang) -> str:
    return str(format_decimal(value, locale=lang))


def percent_text(ratio: Decimal, lang: Lang, digits: int = 1) -> str:
    """`ratio` 0.125 -> `12.5%` / `12,5 %`."""
    return str(format_percent(ratio, format=f"#,##0.{'0' * digits}%" if digits else "#,##0%", locale=lang))


def date_text(day: dt.date, lang: Lang, width: Literal["short", "medium", "long"] = "medium") -> str:
    return str(format_date(day, format=width, locale=lang))


def datetime_text(moment: dt.datetime, lang: Lang) -> str:
    return str(format_datetime(moment, format="medium", locale=lang))


def period_text(period: str, lang: Lang) -> str:
    """`2026-10` -> `October 2026` / `октябрь 2026 г.` (the stand-alone month)."""
    y, m = (int(p) for p in period.split("-"))
    return str(format_skeleton("yMMMM", dt.date(y, m, 1), locale=lang))


def supported(langs: Iterable[str]) -> list[Lang]:
    return [lang for x in langs for lang in LANGS if x == lang]
