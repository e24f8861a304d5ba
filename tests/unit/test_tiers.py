from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from loyalty.close.tiers import TierState, qualifying_tier, review, trailing_net
from loyalty.kernel.periods import months_back
from loyalty.program.rules import parse_rules

RULES = parse_rules((Path(__file__).resolve().parents[2] / "rules/default-program.yaml").read_text())
CERT = {"CERT-SALES": 1}


def test_thresholds_and_platinum_certification() -> None:
    assert qualifying_tier(RULES, Decimal("24999.99"), {})[0] == "Bronze"
    assert qualifying_tier(RULES, Decimal("25000"), {})[0] == "Silver"
    assert qualifying_tier(RULES, Decimal("100000"), {})[0] == "Gold"
    tier, why = qualifying_tier(RULES, Decimal("300000"), {})
    assert tier == "Gold" and "needs 1 certified on CERT-SALES" in why
    assert qualifying_tier(RULES, Decimal("300000"), CERT)[0] == "Platinum"


def test_up_at_once_down_after_two_reviews() -> None:
    s = TierState("Bronze")
    r = review(RULES, s, Decimal("120000"), {})
    assert (r.tier_after, r.change) == ("Gold", "up")
    r = review(RULES, r.state, Decimal("30000"), {})
    assert (r.tier_after, r.change, r.below_reviews) == ("Gold", "grace", 1)
    r = review(RULES, r.state, Decimal("110000"), {})  # back above: the grace counter resets
    assert (r.tier_after, r.change, r.below_reviews) == ("Gold", "hold", 0)
    r = review(RULES, r.state, Decimal("30000"), {})
    r = review(RULES, r.state, Decimal("10000"), {})
    assert (r.tier_after, r.change) == ("Bronze", "down")  # to the qualifying tier, not one step


def test_trailing_window_crosses_years() -> None:
    assert months_back("2026-02", 3) == ["2025-12", "2026-01", "2026-02"]
    net = {"2025-12": Decimal("1"), "2026-01": Decimal("2"), "2026-02": Decimal("4"), "2026-03": Decimal("8")}
    assert trailing_net(net, "2026-02", 3) == Decimal("7")


@given(st.lists(st.decimals(min_value=0, max_value=400000, places=2), min_size=1, max_size=24), st.booleans())
def test_never_more_than_one_review_below_without_moving_down(sales: list[Decimal], cert: bool) -> None:
    s = TierState("Bronze")
    names = [t.name for t in RULES.tiers]
    for amount in sales:
        r = review(RULES, s, amount, CERT if cert else {})
        if r.change == "up":
            assert names.index(r.tier_after) > names.index(r.tier_before)
        if r.change == "down":
            assert (
                r.tier_after == r.qualifying
                and s.below_reviews == RULES.tier_review.downgrade_after_reviews - 1
            )
        assert names.index(r.tier_after) >= names.index(r.qualifying)
        s = r.state
