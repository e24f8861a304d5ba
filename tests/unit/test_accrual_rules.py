"""The accrual writer's pure rules: where a line lands, newer version wins, month bookkeeping."""

from __future__ import annotations

from decimal import Decimal

from loyalty.earning.accrual_rules import (
    Landing,
    VersionDecision,
    decide_version,
    landing,
    last_occurrences,
    month_deltas,
    month_entries,
    originals_in_chunk,
    plan_chunk,
    replaced_landing,
)
from loyalty.earning.commission.model import Accrual
from loyalty.earning.records import StoredSale
from loyalty.ingest.sales.contract import SaleRow

D = Decimal


def acc(sale_id: str, qty: int = 1, sold_at: str = "2026-10-05", line: int = 2, cust: str = "C1") -> Accrual:
    row = SaleRow(line, sale_id, "P1", sold_at, "SKU", qty, D("10"), "EUR", "", cust, "")
    return Accrual(
        row, D(10) * qty, None, "", D(10) * qty, "Silver", D("0.03"), "2026.1", "month", D("0.30") * qty
    )


def stored(version: str, **kw: object) -> StoredSale:
    base = dict(prev_version="", rate=D("0.02"), tier="Bronze", rule_version="2026.1", month="2026-10")
    base |= dict(net_eur=D(20), commission=D("0.40"), day="2026-10-07", quantity=2, period="")
    base |= kw
    return StoredSale("P1", "S1", version, **base)  # type: ignore[arg-type]


def test_an_open_month_keeps_its_day() -> None:
    assert landing("2026-10", 17, set()) == Landing("2026-10", 17)


def test_a_closed_month_lands_on_the_first_day_of_the_next_open_period() -> None:
    assert landing("2026-09", 17, {"2026-09", "2026-10"}) == Landing("2026-11", 1)
    assert Landing("2026-11", 1).is_late("2026-09") and not Landing("2026-09", 3).is_late("2026-09")


def test_newer_version_wins() -> None:
    assert decide_version(None, "v2") == VersionDecision(True)
    assert decide_version(stored("v1"), "v2") == VersionDecision(True, "v1")
    assert decide_version(stored("v3"), "v2") == VersionDecision(False)
    assert decide_version(stored("v2", prev_version="v1"), "v2") == VersionDecision(True, "v1", True)


def test_decision_kinds() -> None:
    assert [decide_version(s, "v2").kind for s in (None, stored("v1"), stored("v3"))] == [
        "new",
        "replaced",
        "superseded",
    ]
    assert decide_version(stored("v2"), "v2").kind == "new"  # a redelivered new line stays new


def test_a_replaced_late_line_is_taken_out_of_the_period_it_accrued_to() -> None:
    assert replaced_landing(stored("v1"), set()) == Landing("2026-10", 7)
    late = stored("v1", month="2026-09", day="2026-09-20", period="2026-10")
    assert replaced_landing(late, {"2026-09"}) == Landing("2026-10", 1)
    assert replaced_landing(late, {"2026-09", "2026-10"}) == Landing("2026-11", 1)


def test_month_entries_take_the_old_line_out_and_put_the_new_one_in() -> None:
    a = acc("S1", qty=3)
    entries = month_entries(a, Landing("2026-10", 5), VersionDecision(True, "v1"), stored("v1"), set())
    assert [(e.period, e.day, e.net_eur, e.commission, e.lines, e.customer) for e in entries] == [
        ("2026-10", 7, D(-20), D("-0.40"), -1, ""),
        ("2026-10", 5, D(30), D("0.90"), 1, "C1"),
    ]
    d = month_deltas(entries)[("P1", "2026-10")]
    assert (d.net_eur, d.commission, d.lines, d.by_day, d.customers) == (
        D(10),
        D("0.50"),
        0,
        {7: D("-0.40"), 5: D("0.90")},
        {"C1"},
    )


def test_no_month_entries_for_a_redelivery_or_a_superseded_line() -> None:
    assert month_entries(acc("S1"), Landing("2026-10", 5), VersionDecision(True, "", True), None, set()) == []
    assert month_entries(acc("S1"), Landing("2026-10", 5), VersionDecision(False), stored("v9"), set()) == []


def test_a_return_counts_as_a_return_and_brings_no_customer() -> None:
    (e,) = month_entries(acc("R1", qty=-1), Landing("2026-10", 5), VersionDecision(True), None, set())
    assert (e.returns, e.customer, e.net_eur) == (1, "", D(-10))


def test_the_later_line_of_a_sale_in_a_chunk_wins() -> None:
    assert last_occurrences([acc("S1"), acc("S2"), acc("S1", qty=5)]) == {("P1", "S1"): 2, ("P1", "S2"): 1}


def test_originals_in_the_same_chunk_are_sales_not_returns() -> None:
    got = originals_in_chunk([acc("S1", qty=2), acc("S2", qty=-1), acc("S3")], {("P1", "S1"), ("P1", "S2")})
    assert list(got) == [("P1", "S1")]
    assert (got[("P1", "S1")].rate, got[("P1", "S1")].month) == (D("0.03"), "2026-10")


def test_plan_chunk_counts_and_totals() -> None:
    plan = plan_chunk(
        [
            acc("S1", line=2),
            acc("S2", line=3, sold_at="2026-09-30"),
            acc("S1", qty=2, line=4),
            acc("S3", line=5),
        ],
        {("P1", "S2"): stored("a~000000001"), ("P1", "S3"): stored("z")},
        {"2026-09"},
        "m",
        "u1",
    )
    assert plan.counts == {"new": 1, "replaced": 1, "superseded": 2}
    assert [(r.sale_id, r.version, r.prev_version, r.period, r.source) for r in plan.records] == [
        ("S2", "m~000000003", "a~000000001", "2026-10", "u1:3"),
        ("S1", "m~000000004", "", "", "u1:4"),
    ]
    assert plan.late == {"2026-09": 1}
    assert plan.partners["P1"].to_wire() == ["30", "0.90", "2"]
    d = plan.deltas[("P1", "2026-10")]
    assert (d.lines, d.net_eur, d.by_day) == (1, D(10), {7: D("-0.40"), 1: D("0.30"), 5: D("0.60")})
