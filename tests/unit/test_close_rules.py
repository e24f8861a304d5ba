"""PRODUCT §5's rules through the whole month, on the in-memory container: the tier a month's
sales are paid at (issue 9, point 10) and returns maturing with the sale they return (point 11)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from loyalty.close.final_rates import may_be_provisional
from loyalty.close.review import CloseLine
from loyalty.ingest.chunks import Chunk

from tests.conftest import sales_csv
from tests.unit.close_world import close, ledger_total, line, month, program, sale, statement_rows, upload

D = Decimal
TIER, RATE, RULES, COMMISSION = 10, 11, 12, 13  # statement CSV columns


def test_a_sale_of_the_new_month_written_before_the_upgrade_is_approved_is_paid_at_the_new_tier() -> None:
    c = program()
    upload(c, [sale_row("A1", "2026-08-03", qty=300)])  # EUR 30 000: Silver from September
    aug = close(c, "2026-08", while_awaiting=lambda: upload(c, [sale_row("S1", "2026-09-02", qty=50)]))
    assert aug["P00001"].tier_after == "Silver"
    close(c, "2026-09")
    s = line(c, "S1")
    assert (s.tier, s.rate, s.commission, s.status) == ("Silver", D("0.03"), D("150.00"), "final")
    assert s.rule_version == "2026.1" and "Silver" in s.trace() and "3 %" in s.trace()
    sep = month(c, "2026-09")
    assert (sep.commission, sep.by_day[2]) == (D("150.00"), D("150.00"))
    row = statement_rows(c, "2026-09")["S1"]
    assert (row[TIER], row[RATE], row[COMMISSION]) == ("Silver", "3", "150.00")
    oct = close(c, "2026-10")
    assert (oct["P00001"].matured_now, oct["P00001"].payout) == (D("150.00"), D("150.00"))
    assert ledger_total(c, "P00001", "2026-10", "commission matured") == D("150.00")


def test_a_sale_returned_inside_its_holding_window_is_neither_paid_nor_clawed_back() -> None:
    c = program()
    upload(c, [sale_row("A1", "2026-08-25", qty=100)])  # EUR 10 000 at Bronze: 200.00
    close(c, "2026-08")
    upload(c, [sale_row("R1", "2026-09-05", qty=-100, original="A1")])
    sep = close(c, "2026-09")
    close(c, "2026-10")
    assert (sep["P00001"].matured_now, sep["P00001"].payout) == (D(0), D(0))
    assert c.store.ledger_entries("P00001") == []


def test_a_return_after_the_sale_was_paid_is_clawed_back_at_the_next_close() -> None:
    c = program()
    upload(c, [sale_row("A1", "2026-07-01", qty=100)])  # 200.00, matured and paid at the July close
    jul = close(c, "2026-07")
    assert jul["P00001"].payout == D("200.00")
    upload(c, [sale_row("R1", "2026-08-10", qty=-40, original="A1")])
    aug = close(c, "2026-08")
    assert (aug["P00001"].matured_now, aug["P00001"].carried_out) == (D("-80.00"), D("-80.00"))
    assert ledger_total(c, "P00001", "2026-08", "returns after payout") == D("80.00")
    sep = close(c, "2026-09")
    assert "P00001" not in sep or sep["P00001"].matured_now == 0  # not clawed back twice


def sale_row(sale_id: str, sold_at: str, qty: int = 1, original: str = "", **kw: str) -> list[object]:
    return sale(sale_id, sold_at, qty, original=original, **kw)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sold=st.dates(dt.date(2026, 8, 1), dt.date(2026, 9, 30)),
    after_days=st.integers(0, 29),
    qty=st.integers(1, 400),
    returned=st.integers(1, 400),
    price=st.decimals("0.01", "500.00", places=2),
)
def test_a_return_inside_the_holding_window_nets_out_whatever_the_dates_and_amounts(
    sold: dt.date, after_days: int, qty: int, returned: int, price: Decimal
) -> None:
    back = min(returned, qty)
    ret = sold + dt.timedelta(days=after_days)
    c = program()
    by_period: dict[str, list[list[object]]] = {}
    by_period.setdefault(sold.isoformat()[:7], []).append(
        sale_row("A1", sold.isoformat(), qty, price=str(price))
    )
    by_period.setdefault(ret.isoformat()[:7], []).append(
        sale_row("R1", ret.isoformat(), -back, original="A1", price=str(price))
    )
    matured: list[Decimal] = []
    for period in ("2026-08", "2026-09", "2026-10", "2026-11"):
        if period in by_period:
            upload(c, by_period[period])
        got = close(c, period).get("P00001")
        matured.append(got.matured_now if got else D(0))
    kept = line(c, "A1").commission + line(c, "R1").commission
    assert all(m >= 0 for m in matured)  # never paid first and clawed back later
    assert sum(matured, D(0)) == kept  # and all of what is kept matured, once
    if back == qty:
        assert matured == [0, 0, 0, 0] and c.store.ledger_entries("P00001") == []


def test_a_chunk_redelivered_after_its_month_was_closed_leaves_the_final_line_alone() -> None:
    c = program()
    upload(c, [sale_row("A1", "2026-08-03", qty=300)])
    kept: list[Chunk] = []

    def early_september() -> None:
        c.upload("incoming/P00001/sep.csv", sales_csv([sale_row("S1", "2026-09-02", qty=50)]))
        kept.extend(Chunk.parse(m.body) for m in c.queue.drain())
        c.accruals().handle(kept[0])

    close(c, "2026-08", while_awaiting=early_september)
    close(c, "2026-09")
    before = (line(c, "S1"), month(c, "2026-09"))
    again = c.accruals().handle(kept[0])  # a DLQ redrive, days later
    assert (line(c, "S1"), month(c, "2026-09")) == before
    assert (before[0].status, before[0].commission, again.new) == ("final", D("150.00"), 1)


def test_a_return_written_before_its_sale_was_made_final_follows_the_sale_s_final_rate() -> None:
    c = program()
    upload(c, [sale_row("A1", "2026-08-03", qty=300)])  # Silver from September
    close(c, "2026-08", while_awaiting=lambda: upload(c, [sale_row("S1", "2026-09-02", qty=50)]))
    upload(c, [sale_row("R1", "2026-10-01", qty=-50, original="S1")])  # at S1's provisional 2 %
    assert line(c, "R1").commission == D("-100.00")
    close(c, "2026-09")  # S1 final at 3 %
    oct = close(c, "2026-10")  # R1 final at S1's 3 %: the pair nets to nothing
    r = line(c, "R1")
    assert (r.tier, r.rate, r.commission, r.status) == ("Silver", D("0.03"), D("-150.00"), "final")
    assert "P00001" not in oct or oct["P00001"].matured_now == 0
    assert month(c, "2026-09").commission == D(0)


def test_only_a_partner_whose_tier_moved_at_the_last_two_closes_can_hold_provisional_lines() -> None:
    def closed(period: str, change: str) -> CloseLine:
        return CloseLine("P1", period, "r", tier_change=change)

    assert may_be_provisional("2026-10", [closed("2026-09", "up")])
    assert may_be_provisional("2026-10", [closed("2026-09", "hold"), closed("2026-08", "down")])
    assert not may_be_provisional("2026-10", [closed("2026-09", "grace"), closed("2026-08", "hold")])
    assert not may_be_provisional("2026-10", [closed("2026-07", "up")])
    assert not may_be_provisional("2026-10", [])
