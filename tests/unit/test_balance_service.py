"""Month-to-date figures on in-memory adapters: the month's totals, tier of the month. (What of
the commission is provisional, held, payable, paid or carried: tests/unit/test_position.py.)"""

from __future__ import annotations

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


def test_the_month_figures_come_from_its_totals() -> None:
    s = store_with((1, "2.00"), (15, "3.00"), (31, "4.00"))
    b = BalanceService(s).balance("P00001", "2026-10")
    assert (b.net_sales_eur, b.commission, b.lines, b.returns) == (Decimal("450.00"), Decimal("9.00"), 3, 0)


def test_tier_is_the_latest_reviewed_or_the_entry_tier() -> None:
    s = store_with((1, "1.00"))
    svc = BalanceService(s)
    assert svc.balance("P00001", "2026-10").tier == "Bronze"
    s.put_tier("P00001", "2026-09", "Gold", "review")
    got = svc.balances("P00001", ["2026-08", "2026-10"])
    assert (got["2026-08"].tier, got["2026-10"].tier) == ("Bronze", "Gold")


def test_a_month_without_sales_is_zero() -> None:
    b = BalanceService(store_with()).balance("P00002", "2026-10")
    assert b.to_json() == {
        "partner_id": "P00002",
        "month": "2026-10",
        "tier": "Bronze",
        "net_sales_eur": "0",
        "month_commission_eur": "0",
        "lines": 0,
        "returns": 0,
    }


def test_before_any_rules_there_is_no_tier() -> None:
    s = MemoryStore()
    d = MonthDelta()
    d.add(1, Decimal(10), Decimal("0.20"), 1, 0)
    s.apply_month_delta("P00001", "2026-10", "c", d)
    b = BalanceService(s).balance("P00001", "2026-10")
    assert b.tier == "" and b.commission == Decimal("0.20")
