"""The bonus table of a target (ORACLE_FORMATS "Targets", to the letter).

- attainment_pct = round(actual / goal x 100) to 0.01 half-even (goal: the whole interval's);
- bands `a1:v1|a2:v2|...` ascending; no bands = `100:100`;
- flat: v of the highest band with a <= attainment_pct (0 if none);
- step: sum_i max(0, min(attainment_pct, a_(i+1)) - a_i) x v_i / 100, the last band open-ended;
- interpolated: 0 below a1; linear between consecutive points (a_i, v_i)-(a_(i+1), v_(i+1));
  v_last above the last point;
- bonus = round(bonus_eur x pct / 100), half-even to cents, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from loyalty.kernel.money import CENT, CTX, HUNDRED, ZERO, to_cents
from loyalty.program.targets import Band


def attainment_pct(actual: Decimal, goal: Decimal) -> Decimal:
    """actual / goal x 100, to 0.01 half-even."""
    return CTX.divide(CTX.multiply(actual, HUNDRED), goal).quantize(CENT, context=CTX)


def bonus_pct(att: Decimal, bands: Sequence[Band], method: str) -> Decimal:
    """The bonus, as % of bonus_eur, that `att` (attainment %) earns under the table."""
    if method == "step":
        total = ZERO
        for i, b in enumerate(bands):
            top = min(att, bands[i + 1].attainment_pct) if i + 1 < len(bands) else att
            total += max(ZERO, top - b.attainment_pct) * b.bonus_pct / HUNDRED
        return total
    reached = [b for b in bands if b.attainment_pct <= att]
    if not reached:
        return ZERO
    last = reached[-1]
    if method == "interpolated" and len(reached) < len(bands):
        nxt = bands[len(reached)]
        span = nxt.attainment_pct - last.attainment_pct
        return last.bonus_pct + (att - last.attainment_pct) * (nxt.bonus_pct - last.bonus_pct) / span
    return last.bonus_pct


def band_label(att: Decimal, bands: Sequence[Band]) -> str:
    """The highest band reached, `a:v` ("none" below the first)."""
    reached = [b for b in bands if b.attainment_pct <= att]
    if not reached:
        return "none"
    b = reached[-1]
    return f"{b.attainment_pct.normalize():f}:{b.bonus_pct.normalize():f}"


def bonus_amount(bonus_eur: Decimal, att: Decimal, bands: Sequence[Band], method: str) -> Decimal:
    return to_cents(bonus_eur * bonus_pct(att, bands, method) / HUNDRED)
