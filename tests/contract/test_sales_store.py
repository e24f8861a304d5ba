"""Contract of the SalesStore port: accrual lines, month totals and frozen periods."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

from loyalty.earning.records import MonthDelta, SaleRecord, StoredSale


def sale(sale_id: str, partner_id: str = "P00001", **kw: Any) -> SaleRecord:
    base = SaleRecord(
        partner_id=partner_id,
        sale_id=sale_id,
        sold_at="2026-10-02",
        sku="SKU-1",
        quantity=2,
        unit_price=Decimal("10.50"),
        currency="USD",
        category="services",
        customer_id="C1",
        original_sale_id="",
        net=Decimal("21.00"),
        fx_rate=Decimal("1.08"),
        fx_date="2026-10-01",
        net_eur=Decimal("19.44"),
        tier="Bronze",
        rate=Decimal("0.03"),
        rule_version="2026.1",
        rate_basis="tier",
        commission=Decimal("0.58"),
        version="2026-10-05T00:00:00Z~1~u1~000000002",
        prev_version="",
        source="u1:2",
    )
    return dataclasses.replace(base, **kw)


def delta(day: int, net: str, comm: str, lines: int = 1, returns: int = 0, cust: str = "") -> MonthDelta:
    d = MonthDelta()
    d.add(day, Decimal(net), Decimal(comm), lines, returns, cust)
    return d


def test_put_and_read_lines_in_sale_id_order(store: Any) -> None:
    lines = [sale("S2"), sale("S1", fx_rate=None, fx_date="", currency="EUR"), sale("S1", partner_id="P2")]
    store.put_sales(lines)
    assert list(store.partner_sales("P00001")) == [lines[1], lines[0]]
    assert list(store.partner_sales("P2")) == [lines[2]]
    assert list(store.partner_sales("P404")) == []


def test_empty_strings_survive(store: Any) -> None:
    s = sale("S1", category="", customer_id="", original_sale_id="", prev_version="", period="")
    store.put_sales([s])
    assert list(store.partner_sales("P00001")) == [s]


def test_put_sales_overwrites_whatever_the_version(store: Any) -> None:
    """The store does not arbitrate versions: the writer decides which line wins."""
    store.put_sales([sale("S1", version="v2", net_eur=Decimal("5"))])
    store.put_sales([sale("S1", version="v1", net_eur=Decimal("7"), prev_version="v2")])
    (got,) = store.partner_sales("P00001")
    assert (got.version, got.net_eur, got.prev_version) == ("v1", Decimal("7"), "v2")
    store.put_sales([])


def test_get_sales_returns_found_keys_only(store: Any) -> None:
    store.put_sales([sale("S1", sold_at="2026-09-30T23:00:00+00:00", quantity=-1, period="2026-10")])
    got = store.get_sales([("P00001", "S1"), ("P00001", "S404"), ("P2", "S1")])
    assert got == {
        ("P00001", "S1"): StoredSale(
            "P00001",
            "S1",
            "2026-10-05T00:00:00Z~1~u1~000000002",
            "",
            Decimal("0.03"),
            "Bronze",
            "2026.1",
            "2026-09",
            Decimal("19.44"),
            Decimal("0.58"),
            "2026-09-30",
            -1,
            "2026-10",
            category="services",  # a replaced line leaves its category's month figures (issue 10)
        )
    }
    assert store.get_sales([]) == {}


def test_partner_sales_of_a_period_include_late_lines_accrued_to_it(store: Any) -> None:
    store.put_sales(
        [
            sale("S1", sold_at="2026-09-03"),
            sale("S2", sold_at="2026-10-03"),
            sale("S3", sold_at="2026-09-29", period="2026-10"),  # late line of closed September
        ]
    )
    assert [s.sale_id for s in store.partner_sales("P00001", "2026-10")] == ["S2", "S3"]
    assert [s.sale_id for s in store.partner_sales("P00001", "2026-09")] == ["S1", "S3"]


def test_month_delta_applies_once_per_chunk(store: Any) -> None:
    assert store.apply_month_delta("P00001", "2026-10", "u1/c1", delta(2, "100.00", "3.00", cust="C1"))
    assert not store.apply_month_delta("P00001", "2026-10", "u1/c1", delta(2, "100.00", "3.00", cust="C1"))
    assert store.apply_month_delta("P00001", "2026-10", "u1/c2", delta(2, "-10.00", "-0.30", 1, 1))
    assert store.apply_month_delta("P00001", "2026-10", "u2/c1", delta(9, "50.00", "1.50", cust="C2"))
    (t,) = store.month_totals("P00001")
    assert (t.partner_id, t.month, t.net_eur, t.commission, t.lines, t.returns) == (
        "P00001",
        "2026-10",
        Decimal("140.00"),
        Decimal("4.20"),
        3,
        1,
    )
    assert t.by_day == {2: Decimal("2.70"), 9: Decimal("1.50")}
    assert t.new_customers == 2  # C1 and C2


def test_same_chunk_id_in_another_month_is_another_delta(store: Any) -> None:
    assert store.apply_month_delta("P00001", "2026-10", "u1/c1", delta(1, "1", "0.02"))
    assert store.apply_month_delta("P00001", "2026-09", "u1/c1", delta(1, "2", "0.04"))
    assert store.apply_month_delta("P2", "2026-10", "u1/c1", delta(1, "3", "0.06"))
    assert [(t.month, t.net_eur) for t in store.month_totals("P00001")] == [
        ("2026-09", Decimal("2")),
        ("2026-10", Decimal("1")),
    ]
    assert store.month_totals("P404") == []


def test_a_delta_can_take_a_month_to_zero(store: Any) -> None:
    store.apply_month_delta("P00001", "2026-10", "c1", delta(5, "10", "0.20"))
    store.apply_month_delta("P00001", "2026-10", "c2", delta(5, "-10", "-0.20", -1))
    (t,) = store.month_totals("P00001")
    assert (t.net_eur, t.commission, t.lines, t.by_day, t.new_customers) == (0, 0, 0, {5: 0}, 0)


def test_frozen_periods(store: Any) -> None:
    assert store.frozen_periods() == set()
    store.freeze_period("2026-09")
    store.freeze_period("2026-09")
    store.freeze_period("2026-10")
    assert store.frozen_periods() == {"2026-09", "2026-10"}


def test_anchor_status_and_match_survive(store: Any) -> None:
    r = sale(
        "R1", quantity=-1, anchor="2026-09-25", matched="S0", status="final", commission=Decimal("-0.29")
    )
    store.put_sales([r])
    assert list(store.partner_sales("P00001")) == [r]
    got = store.get_sales([("P00001", "R1")])[("P00001", "R1")]
    assert (got.anchor, got.status) == ("2026-09-25", "final")


def test_finalize_sales_rewrites_the_lines_and_moves_their_holding_days_once(store: Any) -> None:
    old = sale("S1")
    ret = sale("R1", quantity=-2, commission=Decimal("-0.58"), anchor="2026-09-25", sold_at="2026-10-03")
    store.put_sales([old, ret])
    store.apply_month_delta("P00001", "2026-10", "u1/c1", delta(2, "19.44", "0.58"))
    new = dataclasses.replace(
        old, tier="Silver", rate=Decimal("0.04"), commission=Decimal("0.78"), status="final"
    )
    new_ret = dataclasses.replace(ret, commission=Decimal("-0.78"), status="final")
    changes = [(old, new, "2026-10-02"), (ret, new_ret, "2026-09-25")]
    assert store.finalize_sales(changes) == 2
    assert store.finalize_sales(changes) == 0  # the lines are no longer what was read
    assert list(store.partner_sales("P00001")) == [new_ret, new]
    sep, oct = store.month_totals("P00001")
    assert (oct.commission, oct.by_day, oct.net_eur, oct.lines) == (
        Decimal("0.78"),
        {2: Decimal("0.78")},
        Decimal("19.44"),
        1,
    )
    assert (sep.month, sep.commission, sep.by_day) == ("2026-09", Decimal("-0.20"), {25: Decimal("-0.20")})


def test_finalize_sales_skips_a_line_replaced_since_it_was_read_and_makes_the_others_final(
    store: Any,
) -> None:
    lines = [sale(f"S{i}") for i in range(100)]  # more than one transaction
    store.put_sales(lines)
    store.put_sales([dataclasses.replace(lines[7], version=lines[7].version + "9", quantity=3)])
    changes = [
        (s, dataclasses.replace(s, commission=Decimal("0.78"), status="final"), "2026-10-02") for s in lines
    ]
    assert store.finalize_sales(changes) == 99
    got = {s.sale_id: s for s in store.partner_sales("P00001")}
    assert (got["S7"].quantity, got["S7"].commission, got["S8"].commission) == (
        3,
        Decimal("0.58"),
        Decimal("0.78"),
    )
    (t,) = store.month_totals("P00001")
    assert (t.commission, t.by_day) == (Decimal("19.80"), {2: Decimal("19.80")})


def test_earlier_sales_of_a_sku_latest_first_bounded_and_current(store: Any) -> None:
    store.put_sales(
        [
            sale("S1", sold_at="2026-09-01T00:00:00Z", sku="A#1"),
            sale("S2", sold_at="2026-09-03T00:00:00Z", sku="A#1", period="2026-10"),
            sale("S3", sold_at="2026-09-02T00:00:00Z", sku="A#1"),
            sale("S4", sold_at="2026-09-02T00:00:00Z", sku="A"),  # another SKU, a prefix of it
            sale("S5", sold_at="2026-09-04T00:00:00Z", sku="A#1"),  # after the return
            sale("R1", sold_at="2026-09-03T00:00:00Z", sku="A#1", quantity=-1),  # a return
        ]
    )
    store.put_sales([sale("S3", sold_at="2026-08-20T00:00:00Z", sku="A#1", version="v9")])  # corrected
    got = store.earlier_sales("P00001", "A#1", "2026-09-03T00:00:00Z", 10)
    assert [(r.sale_id, r.sold_at, r.holding_day) for r in got] == [
        ("S2", "2026-09-03T00:00:00Z", "2026-10-01"),
        ("S1", "2026-09-01T00:00:00Z", "2026-09-01"),
        ("S3", "2026-08-20T00:00:00Z", "2026-08-20"),
    ]
    assert (got[0].quantity, got[0].rate, got[0].tier, got[0].rule_version) == (
        2,
        Decimal("0.03"),
        "Bronze",
        "2026.1",
    )
    assert [r.sale_id for r in store.earlier_sales("P00001", "A#1", "2026-09-03T00:00:00Z", 2)] == [
        "S2",
        "S1",
    ]
    assert store.earlier_sales("P00001", "B", "2026-12-31", 5) == []
    assert store.earlier_sales("P2", "A#1", "2026-12-31", 5) == []


def test_returned_units_of_a_sale_follow_the_current_return_lines(store: Any) -> None:
    ret = {"quantity": -1, "rate_basis": "original-sale", "sold_at": "2026-10-03T00:00:00Z"}
    store.put_sales(
        [
            sale("S1"),
            sale("R1", original_sale_id="S1", **ret),
            sale("R2", matched="S1", **(ret | {"quantity": -2})),
            sale("R3", original_sale_id="S1#x", **ret),  # another sale, whose id starts the same
            sale("R4", original_sale_id="S1", **(ret | {"rate_basis": "highest-rate"})),  # not priced on S1
        ]
    )
    assert store.returned_units("P00001", ["S1", "S404"]) == {"S1": {"R1": 1, "R2": 2}}
    store.put_sales([sale("R2", original_sale_id="S9", **(ret | {"version": "v9"}))])  # corrected: now S9's
    assert store.returned_units("P00001", ["S1", "S9"]) == {"S1": {"R1": 1}, "S9": {"R2": 1}}
