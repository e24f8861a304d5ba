"""Tier review (PRODUCT §5), pure domain, run by the monthly close. At each close a partner's
trailing net sales (months M-2..M by default) and certifications give a *qualifying* tier; the
review moves up at once, and down (to the qualifying tier) only after `downgrade_after_reviews`
consecutive reviews below the current tier. The result applies to sales of the next month.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from loyalty.kernel.periods import months_back
from loyalty.program.rules import RuleVersion


@dataclass(frozen=True)
class TierState:
    tier: str
    below_reviews: int = 0  # consecutive reviews that qualified below `tier`


@dataclass(frozen=True)
class ReviewResult:
    tier_before: str
    qualifying: str
    tier_after: str
    below_reviews: int
    change: str  # "up" | "down" | "hold" | "grace"
    reason: str

    @property
    def state(self) -> TierState:
        return TierState(self.tier_after, self.below_reviews)


def trailing_net(month_net: Mapping[str, Decimal], month: str, window: int) -> Decimal:
    return sum((month_net.get(m, Decimal(0)) for m in months_back(month, window)), Decimal(0))


def qualifying_tier(
    rules: RuleVersion, trailing_eur: Decimal, certified: Mapping[str, int]
) -> tuple[str, str]:
    """The highest tier whose threshold and certification requirements are met, and why."""
    best = rules.tiers[0].name
    why = f"entry tier ({rules.tiers[0].name})"
    for t in rules.tiers[1:]:
        if trailing_eur < t.threshold_eur:
            break
        missing = {c: n for c, n in t.requires_certifications.items() if certified.get(c, 0) < n}
        if missing:
            need = ", ".join(f"{n} certified on {c}" for c, n in sorted(missing.items()))
            why = f"{best}: sales qualify for {t.name} but it needs {need}"
            break
        best, why = t.name, f"{t.name}: trailing net sales EUR {trailing_eur} >= {t.threshold_eur}"
    return best, why


def review(
    rules: RuleVersion, state: TierState, trailing_eur: Decimal, certified: Mapping[str, int]
) -> ReviewResult:
    names = [t.name for t in rules.tiers]
    current = state.tier if state.tier in names else names[0]
    qualifying, why = qualifying_tier(rules, trailing_eur, certified)
    q, c = names.index(qualifying), names.index(current)
    if q > c:
        return ReviewResult(current, qualifying, qualifying, 0, "up", f"upgrade at once - {why}")
    if q == c:
        return ReviewResult(current, qualifying, current, 0, "hold", why)
    below = state.below_reviews + 1
    needed = rules.tier_review.downgrade_after_reviews
    if below >= needed:
        return ReviewResult(
            current, qualifying, qualifying, 0, "down", f"{below} consecutive reviews below {current} - {why}"
        )
    return ReviewResult(
        current,
        qualifying,
        current,
        below,
        "grace",
        f"below {current} in {below} of {needed} reviews; keeps {current} - {why}",
    )
