"""Lots: expiry dates, oldest-expiry-first draws, lot changes, ledger postings (docs/points.md)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from loyalty.points.lots import (
    InsufficientPoints,
    TooManyDraws,
    apply_draws,
    available,
    draw,
    entry_id,
    expiry_date,
    posting,
)
from loyalty.points.model import ACTIVE, EXPIRED, MAX_DRAWS, PENDING, Draw, Lot, LotChange


def lot(lot_id: str, remaining: int, expires: str, state: str = ACTIVE, points: int | None = None) -> Lot:
    d = dt.date(2026, 1, 31)
    return Lot(
        lot_id, "P1", "month", "", "2026-01", "v1", points or remaining, remaining, state, d, d,
        dt.date.fromisoformat(expires),
    )  # fmt: skip


def test_expiry_is_the_end_of_the_nth_month_after() -> None:
    assert expiry_date("2026-01", 12) == dt.date(2027, 1, 31)
    assert expiry_date("2026-12", 2) == dt.date(2027, 2, 28)
    assert expiry_date("2027-12", 2) == dt.date(2028, 2, 29)
    assert expiry_date("2026-03", 1) == dt.date(2026, 4, 30)


def test_draw_takes_oldest_expiry_first_lot_id_breaking_ties() -> None:
    lots = [lot("b", 50, "2027-03-31"), lot("z", 30, "2027-01-31"), lot("a", 40, "2027-01-31")]
    assert draw(lots, 100, (ACTIVE,)) == (Draw("a", 40), Draw("z", 30), Draw("b", 30))
    assert draw(lots, 40, (ACTIVE,)) == (Draw("a", 40),)
    assert draw(lots, 0, (ACTIVE,)) == ()


def test_draw_uses_only_the_asked_states_and_lots_with_points_left() -> None:
    lots = [
        lot("p", 100, "2026-06-30", PENDING),
        lot("e", 0, "2026-01-31", EXPIRED, points=10),
        lot("zero", 0, "2026-02-28", ACTIVE, points=5),
        lot("a", 20, "2027-01-31"),
    ]
    assert available(lots, (ACTIVE,)) == 20
    assert available(lots, (ACTIVE, PENDING)) == 120
    assert draw(lots, 20, (ACTIVE,)) == (Draw("a", 20),)
    assert draw(lots, 110, (ACTIVE, PENDING)) == (Draw("p", 100), Draw("a", 10))


def test_draw_refuses_when_short_saying_what_is_available() -> None:
    with pytest.raises(InsufficientPoints) as e:
        draw([lot("a", 20, "2027-01-31"), lot("p", 50, "2027-01-31", PENDING)], 21, (ACTIVE,))
    assert (e.value.available, e.value.needed) == (20, 21)
    with pytest.raises(ValueError, match="negative"):
        draw([], -1, (ACTIVE,))


def test_draw_refuses_more_than_max_draws_lots() -> None:
    lots = [lot(f"l{i:03d}", 1, "2027-01-31") for i in range(MAX_DRAWS + 1)]
    assert len(draw(lots, MAX_DRAWS, (ACTIVE,))) == MAX_DRAWS
    with pytest.raises(TooManyDraws):
        draw(lots, MAX_DRAWS + 1, (ACTIVE,))


def test_apply_draws_expects_what_was_read_and_merges_draws_on_one_lot() -> None:
    lots = [lot("a", 40, "2027-01-31"), lot("b", 10, "2027-02-28", PENDING)]
    got = apply_draws(lots, [Draw("a", 15), Draw("b", 10), Draw("a", 5)])
    assert got == [LotChange("a", 40, ACTIVE, 20, ACTIVE), LotChange("b", 10, PENDING, 0, PENDING)]
    with pytest.raises(ValueError, match="left"):
        apply_draws(lots, [Draw("a", 41)])
    with pytest.raises(KeyError):
        apply_draws(lots, [Draw("x", 1)])
    with pytest.raises(ValueError, match="positive"):
        apply_draws(lots, [Draw("a", 0)])


def test_posting_values_points_in_cents_half_even_and_skips_zero() -> None:
    p = posting("P1", "close:2026-01:month", "earn", "2026-01", 125, Decimal("0.01"), "Dr", "Cr", "m")
    assert p is not None
    assert (p.amount, p.debit, p.credit, p.period) == (Decimal("1.25"), "Dr", "Cr", "2026-01")
    assert p.entry_id == entry_id("P1", "close:2026-01:month", "earn") and len(p.entry_id) == 24
    half = posting("P1", "m", "earn", "2026-01", 1, Decimal("0.025"), "Dr", "Cr", "m")
    assert half is not None and half.amount == Decimal("0.02")  # half-even
    neg = posting("P1", "m", "expire", "2026-01", -3, Decimal("0.01"), "Dr", "Cr", "m")
    assert neg is not None and neg.amount == Decimal("0.03")
    assert posting("P1", "m", "earn", "2026-01", 0, Decimal("0.01"), "Dr", "Cr", "m") is None
    assert posting("P1", "m", "earn", "2026-01", 1, Decimal("0.004"), "Dr", "Cr", "m") is None
    assert entry_id("P1", "m", "earn") != entry_id("P1", "m", "expire")
