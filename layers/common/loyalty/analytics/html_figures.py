"""The report page's figures as the language writes them (`loyalty.kernel.i18n`, Babel): money
in EUR to the cent, counts, percentages and ratios, months; a missing figure is a dash."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.dates import format_date

from loyalty.kernel.i18n import Lang, money_text, number_text, percent_text, period_text
from loyalty.kernel.money import to_cents

EUR = "EUR"
DASH = "\N{EM DASH}"
COUNTS = frozenset({"partners", "active_partners"})
PERCENTS = frozenset({"retention_pct"})
RATIOS = frozenset({"cost_per_eur"})


# -- figures --------------------------------------------------------------------------------------
def dec(value: Any) -> Decimal | None:
    """A report figure (decimal string, int, Decimal) as a Decimal; None when absent or not a
    number."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


class Fmt:
    """The report's figures as the language writes them; a missing figure is a dash."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang

    def money(self, v: Any, signed: bool = False) -> str:
        d = dec(v)
        if d is None:
            return DASH
        text = money_text(to_cents(d), EUR, self.lang)
        return f"+{text}" if signed and d > 0 else text

    def count(self, v: Any) -> str:
        d = dec(v)
        return DASH if d is None else number_text(int(d), self.lang)

    def pct(self, v: Any, digits: int = 1, signed: bool = False) -> str:
        """A percentage field (`*_pct`: 87.5 means 87.5 %)."""
        d = dec(v)
        return DASH if d is None else self.ratio(d / 100, digits, signed)

    def ratio(self, v: Any, digits: int = 1, signed: bool = False) -> str:
        """A ratio (0.047 -> 4.7 %)."""
        d = dec(v)
        if d is None:
            return DASH
        text = percent_text(d, self.lang, digits)
        return f"+{text}" if signed and d > 0 else text

    def number(self, v: Any, places: str = "0.001") -> str:
        d = dec(v)
        return DASH if d is None else number_text(d.quantize(Decimal(places)), self.lang)

    def p_value(self, v: Any) -> str:
        """A p-value to three places; below them `< 0.001`, never a misleading 0."""
        d = dec(v)
        floor = Decimal("0.001")
        if d is not None and d < floor:
            return f"< {number_text(floor, self.lang)}"
        return self.number(v)

    def kpi(self, name: str, v: Any) -> str:
        if name in COUNTS:
            return self.count(v)
        if name in PERCENTS:
            return self.pct(v)
        if name in RATIOS:
            return self.ratio(v, 2)
        return self.money(v)

    def period(self, p: Any) -> str:
        try:
            return period_text(str(p), self.lang)
        except ValueError:
            return str(p or DASH)

    def month(self, p: str) -> tuple[str, str]:
        """A chart's month label (`Nov`, `нояб`) and the year under January and the first month."""
        try:
            y, m = (int(x) for x in p.split("-"))
            label = str(format_date(dt.date(y, m, 1), "LLL", locale=self.lang)).rstrip(".")
        except ValueError:
            return p, ""
        return label, str(y)
