"""The close's re-rating (issue 9, point 10) computes a line exactly as the writer does: a line
rated at a tier and re-rated at another gives, to the cent, what the writer gives at that tier."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from loyalty.earning.accrual_rules import sale_record
from loyalty.earning.commission.calculator import Calculator
from loyalty.earning.commission.final import final_lines
from loyalty.earning.commission.highest import HighestRate
from loyalty.earning.records import SaleRecord
from loyalty.ingest.sales.contract import SaleRow
from loyalty.program.fx import FxTable

from tests.unit.test_ingest_commission import RULES, Tiers

FX = FxTable(
    [(dt.date(2026, 9, 1), "USD", Decimal("1.0837")), (dt.date(2026, 9, 1), "SEK", Decimal("11.4713"))]
)
TIERS = ["Bronze", "Silver", "Gold", "Platinum"]


def written(row: SaleRow, tier: str) -> SaleRecord:
    acc = Calculator(RULES, Tiers({("P1", row.month): tier}), FX).compute(row)
    return sale_record(acc, "v1", "", "u:2", "")


@settings(max_examples=300, deadline=None)
@given(
    qty=st.integers(-50, 50).filter(bool),
    price=st.decimals("0.001", "99999.999", places=3),
    currency=st.sampled_from(["EUR", "USD", "SEK"]),
    category=st.sampled_from(["", "hardware", "services"]),
    then=st.sampled_from(TIERS),
    final=st.sampled_from(TIERS),
)
def test_a_re_rated_line_equals_the_line_the_writer_writes_at_the_final_tier(
    qty: int, price: Decimal, currency: str, category: str, then: str, final: str
) -> None:
    row = SaleRow(2, "S1", "P1", "2026-09-02T00:00:00Z", "A", qty, price, currency, category, "", "")
    tiers = {("P1", "2026-09"): final}
    changed = final_lines(
        [written(row, then)],
        RULES,
        lambda p, m: tiers.get((p, m), ""),
        None,
        {},
        HighestRate(RULES, lambda p, m: "").entry,
    )
    want = written(row, final)
    if then == final:
        assert changed == []
    else:
        (r,) = changed
        assert r.new == dataclasses.replace(want, status="final")
        assert r.delta == want.commission - written(row, then).commission
