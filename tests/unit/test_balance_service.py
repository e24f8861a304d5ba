"""Month-to-date balances on in-memory adapters: holding period, tier of the month."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from loyalty.adapters.memory import MemoryStore
from loyalty.earning.balances import BalanceService
from loyalty.earning.records import MonthDelta
from loyalty.program.rules import parse_rules

from tests.conftest import RULES


def store_with(*days: tuple[int, str]) -> MemoryStore:
    s = MemoryStore()
    s.put_rule_version(parse_rules(RULES.decode()), "rules/default-program.yaml")
    d = MonthDelta()
    for day, comm in days:
        d.add(day, Decimal(comm) * 50, Decimal(comm), 1, 0)
    s.apply_month_delta("P00001", "2026-10", "u/c1", d)
    return s


def test_commission_is_payable_once_its_holding_period_is_over() -> None:
    s = store_with((1, "2.00"), (15, "3.00"), (31, "4.00"))
    b = BalanceService(s).balance("P00001", "2026-10", dt.date(2026, 11, 14))
    # day 1 + 30 = Oct 31 <= Nov 14; day 15 + 30 = Nov 14 <= Nov 14; day 31 + 30 = Nov 30 > Nov 14
    assert b.commission == {"provisional": Decimal("4.00"), "payable": Decimal("5.00"), "paid": Decimal(0)}
    assert (b.net_sales_eur, b.lines) == (Decimal("450.00"), 3)


def test_nothing_is_payable_the_day_before() -> None:
    s = store_with((1, "2.00"))
    b = BalanceService(s).balance("P00001", "2026-10", dt.date(2026, 10, 30))
    assert b.commission["payable"] == 0 and b.commission["provisional"] == Decimal("2.00")


def test_tier_is_the_latest_reviewed_or_the_entry_tier() -> None:
    s = store_with((1, "1.00"))
    svc = BalanceService(s)
    assert svc.balance("P00001", "2026-10", dt.date(2026, 11, 1)).tier == "Bronze"
    s.put_tier("P00001", "2026-09", "Gold", "review")
    got = svc.balances("P00001", ["2026-08", "2026-10"], dt.date(2026, 11, 1))
    assert (got["2026-08"].tier, got["2026-10"].tier) == ("Bronze", "Gold")


def test_a_month_without_sales_is_zero() -> None:
    b = BalanceService(store_with()).balance("P00002", "2026-10", dt.date(2026, 11, 1))
    assert b.to_json() == {
        "partner_id": "P00002",
        "month": "2026-10",
        "tier": "Bronze",
        "net_sales_eur": "0",
        "commission_eur": {"provisional": "0", "payable": "0", "paid": "0"},
        "lines": 0,
        "returns": 0,
    }


def test_before_any_rules_the_holding_period_is_thirty_days_and_no_tier() -> None:
    s = MemoryStore()
    d = MonthDelta()
    d.add(1, Decimal(10), Decimal("0.20"), 1, 0)
    s.apply_month_delta("P00001", "2026-10", "c", d)
    b = BalanceService(s).balance("P00001", "2026-10", dt.date(2026, 10, 31))
    assert b.tier == "" and b.commission["payable"] == Decimal("0.20")
