"""Money: Decimal only, rounded half-even to cents once per line."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0")
HUNDRED = Decimal(100)
# Intermediate results (FX conversion, rate x amount) keep 28 significant digits and are rounded
# exactly once, when the line amount is fixed.
CTX = Context(prec=28, rounding=ROUND_HALF_EVEN)


def to_cents(value: Decimal) -> Decimal:
    """Round once, half-even, to cents."""
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN, context=CTX)


def parse_decimal(text: str) -> Decimal:
    """Parse a decimal with `.` or `,` as separator and no thousands separators.

    Raises ValueError with a reason a partner can act on.
    """
    s = text.strip()
    if not s:
        raise ValueError("empty number")
    if s.count(",") + s.count(".") > 1:
        raise ValueError("more than one decimal separator (thousands separators are not allowed)")
    if " " in s or "\u00a0" in s or "'" in s or "_" in s:
        raise ValueError("thousands separators are not allowed")
    s = s.replace(",", ".")
    body = s[1:] if s[:1] in "+-" else s
    if not body or not all(c.isdigit() or c == "." for c in body) or body in {"."}:
        raise ValueError("not a decimal number")
    if not body.isascii():
        raise ValueError("not a decimal number")
    try:
        value = Decimal(s)
    except InvalidOperation as exc:  # pragma: no cover - guarded by the checks above
        raise ValueError("not a decimal number") from exc
    return value


def fmt_eur(value: Decimal) -> str:
    """`12345.6` -> `12 345.60` (display only)."""
    q = to_cents(value)
    sign = "-" if q < 0 else ""
    whole, _, frac = f"{abs(q):.2f}".partition(".")
    groups = []
    while whole:
        groups.append(whole[-3:])
        whole = whole[:-3]
    return f"{sign}{' '.join(reversed(groups))}.{frac}"
