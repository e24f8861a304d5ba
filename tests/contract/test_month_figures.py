"""Month figures of issue 10 (units, per category bounded, late by sold month) on both stores."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from loyalty.earning.records import MAX_CATEGORIES, OTHER, MonthDelta


def delta(cats: dict[str, tuple[D, int]], late: dict[str, tuple[D, int]] | None = None) -> MonthDelta:
    d = MonthDelta(net_eur=sum((n for n, _ in cats.values()), D(0)), lines=len(cats))
    d.units = sum(u for _, u in cats.values())
    d.by_category = dict(cats)
    d.late_sold = dict(late or {})
    return d


def totals(store: Any, month: str = "2026-10") -> Any:
    return {t.month: t for t in store.month_totals("P00001")}[month]


def test_units_categories_and_late_add_up_once_per_chunk(store: Any) -> None:
    d = delta({"services": (D("12.50"), 2), "a.b c#x": (D("-3.00"), -1)}, {"2026-09": (D("4.00"), 1)})
    assert store.apply_month_delta("P00001", "2026-10", "u/1", d) is True
    assert store.apply_month_delta("P00001", "2026-10", "u/1", d) is False  # redelivery
    store.apply_month_delta("P00001", "2026-10", "u/2", delta({"services": (D("1.00"), 1)}))
    t = totals(store)
    assert t.units == 2
    assert t.by_category == {"a.b c#x": (D("-3.00"), -1), "services": (D("13.50"), 3)}
    assert t.late == {"2026-09": (D("4.00"), 1)}
    (seen,) = store.close_facts("P00001", "2026-12")[0]  # what the close reads has them too
    assert (seen.units, seen.by_category, seen.late) == (t.units, t.by_category, t.late)


def test_a_month_holds_at_most_the_bound_of_named_categories(store: Any) -> None:
    first = {f"c{i:02d}": (D(1), 1) for i in range(MAX_CATEGORIES - 2)}
    store.apply_month_delta("P00001", "2026-10", "u/1", delta(first))
    # 2 known + 4 new: 2 of the new are admitted, 2 go to "other"
    more = {
        "c00": (D(1), 1),
        "c01": (D(1), 1),
        "z1": (D(1), 1),
        "z2": (D(1), 1),
        "z3": (D(1), 1),
        "z4": (D(1), 1),
    }
    store.apply_month_delta("P00001", "2026-10", "u/2", delta(more))
    t = totals(store)
    named = set(t.by_category) - {OTHER}
    assert len(named) == MAX_CATEGORIES and {"z1", "z2"} <= named
    assert t.by_category[OTHER] == (D(2), 2)
    assert t.by_category["c00"] == (D(2), 2)
    assert sum(u for _, u in t.by_category.values()) == MAX_CATEGORIES - 2 + 6
