"""Month aggregates for target bonuses (issue 10): units, per category and late lines by sold
month, computed by the writer's month delta (memory adapters)."""

from __future__ import annotations

from decimal import Decimal as D

from loyalty.earning.records import MAX_CATEGORIES, OTHER, UNCATEGORISED, MonthDelta, bounded_categories
from loyalty.ingest.chunks import Chunk

from tests.conftest import sales_csv
from tests.unit.test_accrual_service import KEY, month, row, world


def test_units_and_categories_count_every_line_returns_negative() -> None:
    c = world()
    c.upload(
        KEY,
        sales_csv(
            [
                row("S1", qty=3, price="10.00", category="services"),
                row("S2", qty=2, price="5.00", category="hardware"),
                row("S3", qty=1, price="7.00"),
                row("R1", qty=-1, price="10.00", category="services", original="S1"),
            ]
        ),
    )
    c.deliver()
    t = month(c)
    assert t.units == 5
    assert t.by_category == {
        "hardware": (D("10.00"), 2),
        "services": (D("20.00"), 2),
        UNCATEGORISED: (D("7.00"), 1),
    }
    assert t.late == {}


def test_a_correction_moves_units_and_category() -> None:
    c = world()
    c.upload(KEY, sales_csv([row("S1", qty=3, price="10.00", category="services")]))
    c.deliver()
    c.upload("incoming/P00001/fix.csv", sales_csv([row("S1", qty=2, price="10.00", category="hardware")]))
    c.deliver()
    t = month(c)
    assert t.units == 2
    assert t.by_category == {"hardware": (D("20.00"), 2), "services": (D("0.00"), 0)}


def test_a_late_line_is_counted_where_it_lands_and_named_by_its_sold_month() -> None:
    c = world()
    c.store.freeze_period("2026-09")
    c.upload(
        KEY,
        sales_csv(
            [
                row("S1", sold_at="2026-09-20", qty=2, price="20.00", category="services"),
                row("S2", qty=1, price="5.00"),
            ]
        ),
    )
    c.deliver()
    t = month(c)
    assert (t.net_eur, t.units) == (D("45.00"), 3)
    assert t.late == {"2026-09": (D("40.00"), 2), "2026-09/services": (D("40.00"), 2)}
    # a correction of the late line takes it out again (it still lands in 2026-10)
    c.upload(
        "incoming/P00001/fix.csv",
        sales_csv([row("S1", sold_at="2026-09-20", qty=1, price="20.00", category="services")]),
    )
    c.deliver()
    t = month(c)
    assert t.late == {"2026-09": (D("20.00"), 1), "2026-09/services": (D("20.00"), 1)}
    assert t.by_category["services"] == (D("20.00"), 1)


def test_a_redelivered_chunk_adds_its_figures_once() -> None:
    c = world()
    c.upload(KEY, sales_csv([row("S1", qty=3, category="services")]))
    (msg,) = c.queue.drain()
    writer = c.accruals()
    writer.handle(Chunk.parse(msg.body))
    writer.handle(Chunk.parse(msg.body))
    t = month(c)
    assert (t.units, t.by_category) == (3, {"services": (D("30.00"), 3)})


def test_categories_are_bounded_the_rest_counted_under_other() -> None:
    delta = {f"c{i:03d}": (D(1), 1) for i in range(MAX_CATEGORIES + 6)}
    folded = bounded_categories(delta, set())
    assert len(folded) == MAX_CATEGORIES + 1 and folded[OTHER] == (D(6), 6)
    known = {f"k{i:02d}" for i in range(MAX_CATEGORIES)}
    assert bounded_categories({"k01": (D(2), 1), "new": (D(3), 1)}, known) == {
        "k01": (D(2), 1),
        OTHER: (D(3), 1),
    }


def test_the_memory_month_item_keeps_the_bound_across_chunks() -> None:
    c = world()
    for n in range(3):
        d = MonthDelta()
        for i in range(30):
            d.add_sales(D(1), 1, f"n{n}-{i:02d}")
        c.store.apply_month_delta("P00001", "2026-10", f"u/{n}", d)
    t = month(c)
    assert len(t.by_category) == MAX_CATEGORIES + 1
    assert t.by_category[OTHER] == (D(90 - MAX_CATEGORIES), 90 - MAX_CATEGORIES)
    assert sum(n for _, n in t.by_category.values()) == 90
