from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from loyalty.close.ledger import (
    BANK,
    EXPENSE,
    Entry,
    Ledger,
    decide_payout,
    entry_id,
    matured,
    payable_account,
)

D = Decimal


def test_holding_period_at_the_close_cutoff() -> None:
    by_day = {"2026-09-30": D("10"), "2026-10-01": D("5"), "2026-10-02": D("1")}
    # close of October: cut-off 2026-10-31; 30 days of holding -> days up to 2026-10-01 matured
    assert matured(by_day, dt.date(2026, 10, 31), 30) == D("15")


def test_minimum_payout_and_clawback_carry() -> None:
    small = decide_payout(D("0"), D("49.99"), D("50"))
    assert (small.payout, small.carried_out) == (D("0"), D("49.99"))
    paid = decide_payout(small.carried_out, D("0.01"), D("50"))
    assert (paid.payout, paid.carried_out) == (D("50.00"), D("0"))
    clawed = decide_payout(D("0"), D("-30"), D("50"))  # returns after payout
    assert (clawed.payout, clawed.carried_out) == (D("0"), D("-30")) and "recovered" in clawed.reason
    recovered = decide_payout(clawed.carried_out, D("100"), D("50"))
    assert (recovered.payout, recovered.carried_out) == (D("70.00"), D("0"))


def test_ledger_is_append_only_and_balanced() -> None:
    led = Ledger()
    accrue = Entry(
        entry_id("2026-10", "P1", "accrual"),
        "2026-10",
        EXPENSE,
        payable_account("P1"),
        D("120.00"),
        "October commission",
    )
    pay = Entry(
        entry_id("2026-10", "P1", "payout"), "2026-10", payable_account("P1"), BANK, D("120.00"), "payout"
    )
    assert led.post(accrue) and led.post(pay) and not led.post(pay)  # the same entry twice: once
    with pytest.raises(ValueError, match="immutable"):
        led.post(Entry(pay.entry_id, "2026-10", payable_account("P1"), BANK, D("99.00"), "changed"))
    led.reverse(pay.entry_id, "2026-11", "bank returned the transfer")
    b = led.balances()
    assert b[payable_account("P1")] == D("-120.00") and b[BANK] == D("0") and led.trial_balance() == 0
    with pytest.raises(ValueError, match="positive amount in cents"):
        Entry("x", "2026-10", EXPENSE, BANK, D("0.001"), "")


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["P1", "P2", "P3"]),
            st.decimals(min_value=D("0.01"), max_value=D("9999"), places=2),
        ),
        max_size=40,
    )
)
def test_trial_balance_is_always_zero(moves: list[tuple[str, Decimal]]) -> None:
    led = Ledger()
    for i, (p, amount) in enumerate(moves):
        led.post(Entry(entry_id(str(i), p, "accrual"), "2026-10", EXPENSE, payable_account(p), amount, ""))
        if i % 3 == 0:
            led.post(Entry(entry_id(str(i), p, "payout"), "2026-10", payable_account(p), BANK, amount, ""))
    assert led.trial_balance() == 0


def test_the_reason_nothing_is_paid_is_the_true_one() -> None:
    fifty = Decimal("50")
    assert decide_payout(Decimal("0"), Decimal("20.00"), fifty).reason == "below the EUR 50 minimum"
    nothing = decide_payout(Decimal("0"), Decimal("0"), fifty)
    assert (nothing.payout, nothing.reason) == (
        Decimal("0"),
        "nothing to pay: no commission passed its holding period and no balance is carried",
    )
    recovered = decide_payout(Decimal("-30.00"), Decimal("30.00"), fifty)
    assert recovered.reason == "the matured commission recovers the negative balance carried in"
    assert decide_payout(Decimal("-30.00"), Decimal("10.00"), fifty).reason.startswith("negative balance")
