"""A partner's commission position consistent with the ledger (issue 9, point 13, first half):
what a close paid shows as paid and is no longer payable; provisional + held + payable + paid
is everything earned; paid and carried are the ledger's; maturity is judged as of today."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from loyalty.adapters.memory import MemoryStore
from loyalty.close.header import CloseMeta
from loyalty.close.ledger import BANK, EXPENSE, Entry, Ledger, payable_account
from loyalty.close.position import Position, PositionService, position
from loyalty.close.runs import CloseStatus
from loyalty.earning.records import MonthTotals
from loyalty_cli.stack import balance_report

from tests.unit.test_close_service import PARTNERS, World, approved_run, seed_month, world

D = Decimal
SEP_15 = dt.date(2026, 9, 15)


def reconciles(p: Position, w: World) -> None:
    """The figures against the books: earned = every month's commission; paid = the ledger's
    payouts to the bank; carried = the ledger balance of the partner's account and the carried
    balance of its last close; paid + carried = everything the closes matured."""
    pid = p.partner_id
    assert p.provisional + p.held + p.payable + p.paid == p.earned
    assert p.earned == sum((m.commission for m in w.store.month_totals(pid)), D(0))
    entries = w.store.ledger_entries(partner_id=pid)
    assert p.paid == sum((e.amount for e in entries if e.credit == BANK), D(0))
    assert p.carried == -Ledger(entries).balances().get(payable_account(pid), D(0))
    history = w.store.close_history(pid, "9999-12", 12)
    if history:
        assert p.carried == history[0].carried_out
        assert p.paid + p.carried == sum((h.matured_now for h in history), D(0))


def test_after_a_close_that_paid_600_the_balance_shows_600_paid_and_not_payable() -> None:
    w = world()
    approved_run(w)  # August: P00001's 600 of July matured and was paid
    svc = PositionService(w.store)
    acme = svc.position("P00001", SEP_15)
    # the Aug 3 sale (EUR 2) matured on Sep 2: payable at the next close, not before
    assert (acme.provisional, acme.held, acme.payable, acme.paid, acme.carried) == (
        D(0),
        D(0),
        D("2.00"),
        D("600.00"),
        D(0),
    )
    assert (acme.last_close, acme.earned, acme.matured_since_close) == ("2026-08", D("602.00"), D("2.00"))
    before_it_matures = svc.position("P00001", dt.date(2026, 9, 1))
    assert (before_it_matures.held, before_it_matures.payable) == (D("2.00"), D(0))
    for pid in PARTNERS:
        for today in (dt.date(2026, 9, 1), SEP_15, dt.date(2027, 1, 1)):
            reconciles(svc.position(pid, today), w)


def test_a_balance_the_close_did_not_pay_is_carried_and_payable() -> None:
    w = world()
    approved_run(w, exclude=("P00001",))
    svc = PositionService(w.store)
    acme = svc.position("P00001", SEP_15)  # excluded by finance
    assert (acme.paid, acme.carried, acme.payable) == (D(0), D("600.00"), D("602.00"))
    gamma = svc.position("P00003", SEP_15)  # no bank details: held and carried
    assert (gamma.paid, gamma.carried, gamma.payable, gamma.held) == (D(0), D("100.00"), D("100.00"), D(0))
    beta = svc.position("P00002", SEP_15)
    assert (beta.paid, beta.carried, beta.payable) == (D("60.00"), D(0), D(0))
    for pid in PARTNERS:
        reconciles(svc.position(pid, SEP_15), w)


def test_months_after_the_last_close_are_provisional_whatever_their_age() -> None:
    w = world()
    seed_month(w.store, MonthTotals("P00001", "2026-09", D(500), D("10.00"), 1, 0, {1: D("10.00")}))
    before = PositionService(w.store).position("P00001", SEP_15)  # no close yet
    assert (before.last_close, before.provisional, before.paid) == (None, D("612.00"), D(0))
    approved_run(w)
    after = PositionService(w.store).position("P00001", dt.date(2026, 11, 1))
    # September's sale is 31 days old but September is not closed: provisional until its close
    assert (after.provisional, after.payable, after.paid) == (D("10.00"), D("2.00"), D("600.00"))
    reconciles(after, w)


def test_a_clawback_carries_a_negative_balance() -> None:
    pid, acct = "P1", payable_account("P1")
    months = [
        MonthTotals(pid, "2026-07", D(5000), D("100.00"), 1, 0, {1: D("100.00")}),
        MonthTotals(pid, "2026-08", D(-1500), D("-30.00"), 1, 1, {5: D("-30.00")}),
    ]
    entries = [
        Entry("a", "2026-08", EXPENSE, acct, D("100.00"), "matured"),
        Entry("p", "2026-08", acct, BANK, D("100.00"), "payout"),
        Entry("c", "2026-09", acct, EXPENSE, D("30.00"), "clawback"),
    ]
    p = position(pid, months, entries, "2026-09", 30, dt.date(2026, 10, 2))
    assert (p.paid, p.carried, p.payable, p.held, p.provisional) == (
        D("100.00"),
        D("-30.00"),
        D("-30.00"),
        D(0),
        D(0),
    )
    assert p.earned == D("70.00")


def test_maturity_never_goes_back_before_the_last_close() -> None:
    months = [MonthTotals("P1", "2026-08", D(100), D("2.00"), 1, 0, {1: D("2.00")})]
    entries = [Entry("a", "2026-08", EXPENSE, payable_account("P1"), D("2.00"), "matured")]
    p = position("P1", months, entries, "2026-08", 30, dt.date(2026, 8, 15))  # a clock behind
    assert (p.as_of, p.payable, p.held, p.carried) == (dt.date(2026, 8, 31), D("2.00"), D(0), D("2.00"))


@pytest.mark.parametrize(
    ("today", "held", "payable"),
    [(dt.date(2026, 10, 29), D("0.20"), D(0)), (dt.date(2026, 10, 30), D(0), D("0.20"))],
)
def test_before_any_rules_the_holding_period_is_thirty_days(today: dt.date, held: D, payable: D) -> None:
    w = World(store=MemoryStore())
    seed_month(w.store, MonthTotals("P1", "2026-09", D(10), D("0.20"), 1, 0, {30: D("0.20")}))
    w.store.save_close_meta(CloseMeta("2026-09", CloseStatus.PAID, "close-2026-09"))
    p = PositionService(w.store).position("P1", today)  # Sep 30 + 30 days = Oct 30
    assert (p.last_close, p.held, p.payable, p.provisional) == ("2026-09", held, payable, D(0))


def test_the_balance_command_shows_the_month_and_the_position() -> None:
    w = world()
    approved_run(w)
    got = balance_report(w.store, "P00001", "2026-08", SEP_15)
    assert (got["month"], got["tier"], got["month_commission_eur"], got["lines"]) == (
        "2026-08",
        "Bronze",
        "2.00",
        1,
    )
    assert got["commission_eur"] == {
        "provisional": "0.00",
        "held": "0.00",
        "payable": "2.00",
        "paid": "600.00",
        "carried": "0.00",
    }
    assert (got["last_close"], got["as_of"], got["earned_eur"]) == ("2026-08", "2026-09-15", "602.00")
